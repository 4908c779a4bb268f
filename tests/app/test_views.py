"""What the pages check before anything is saved: uploads, who is who, stage times."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capstone.app.views import (
    Upload,
    UploadError,
    check_people,
    check_uploads,
    safe_name,
    stage_times,
)


def test_a_recording_mixed_with_other_files_and_an_oversized_upload_are_refused() -> None:
    with pytest.raises(UploadError, match="one recording at a time"):
        check_uploads([Upload("a.mp4", b"x"), Upload("b.png", b"y")], 500)
    with pytest.raises(UploadError, match="over the 1 MB the app takes"):
        check_uploads([Upload("big.png", b"x" * 2_000_000)], 1)
    with pytest.raises(UploadError, match="choose a recording"):
        check_uploads([], 500)


def test_a_person_in_two_roles_or_two_reps_are_refused() -> None:
    with pytest.raises(UploadError, match="marked as the rep"):
        check_people({"P1": {"role": "rep", "name": ""}, "P2": {"role": "rep", "name": ""}})
    with pytest.raises(UploadError, match="dana is named both as prospect and as rep"):
        check_people(
            {"P1": {"role": "rep", "name": "Dana"}, "P2": {"role": "prospect", "name": "dana"}}
        )
    check_people({"P1": {"role": "rep", "name": "Ana"}, "P2": {"role": "prospect", "name": "Dana"}})


def test_stage_times_read_minutes_or_seconds_and_say_what_is_wrong() -> None:
    assert stage_times("intro 0:00, demo 4:30\npricing 600") == {
        "intro": 0,
        "demo": 270,
        "pricing": 600.0,
    }
    assert stage_times("") == {}
    with pytest.raises(UploadError, match=r"e\.g\. demo 4:30"):
        stage_times("demo at half past")


@given(st.text(max_size=80), st.integers(0, 98))
def test_a_stored_name_never_comes_from_the_users_path(name: str, index: int) -> None:
    stored = safe_name(name, index)
    assert "/" not in stored and "\\" not in stored and ".." not in stored
    assert stored.startswith(f"{index + 1:02d}")
