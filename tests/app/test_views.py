"""What the pages check before anything is saved: who is who, stage times."""

from __future__ import annotations

import pytest

from capstone.app.uploads import UploadError
from capstone.app.views import check_people, stage_times


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
