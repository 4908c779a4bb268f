"""What the pages check before anything is saved: who is who, stage times."""

from __future__ import annotations

import pytest

from capstone.app.services import stage_times
from capstone.app.uploads import UploadError
from capstone.calls.metadata import CallInfoError, People, Person


def test_a_person_in_two_roles_or_two_reps_are_refused() -> None:
    with pytest.raises(CallInfoError, match="marked as the rep"):
        People({"P1": Person("rep"), "P2": Person("rep")})
    with pytest.raises(CallInfoError, match="dana is named both as prospect and as rep"):
        People({"P1": Person("rep", "Dana"), "P2": Person("prospect", "dana")})
    people = People({"P1": Person("rep", "Ana"), "P2": Person("prospect", "Dana")})
    assert People.from_json(people.to_json()) == people
    info = people.call_info({"demo": 60, "intro": 0}, informed=True)
    assert (info.rep, info.prospects, list(info.stages)) == (
        "P1",
        {"P2": "Dana"},
        ["intro", "demo"],
    )


def test_stage_times_read_minutes_or_seconds_and_say_what_is_wrong() -> None:
    assert stage_times("intro 0:00, demo 4:30\npricing 600").starts == {
        "intro": 0,
        "demo": 270,
        "pricing": 600.0,
    }
    assert stage_times("").starts == {}
    with pytest.raises(UploadError, match=r"e\.g\. demo 4:30"):
        stage_times("demo at half past")
