"""Call metadata, and whose perceived expressions each use may read."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstone.calls.metadata import CallInfo, CallInfoError, check_use, load_call_info, use_record


def test_call_metadata_is_validated(tmp_path: Path) -> None:
    good = tmp_path / "call.yaml"
    good.write_text("rep: P1\nprospects: {P2: Dana}\nstages: {intro: 0, demo: 60, close: 300}\n")
    info = load_call_info(good)
    assert info.stage_at(75) == "demo"
    assert (info.role("P2"), info.name("P2")) == ("prospect", "Dana")
    assert info.describe("P2") == "prospect (Dana)"
    bad = tmp_path / "bad.yaml"
    for text, problem in [
        ("rep: P1\nstagez: {}\n", "unknown keys"),
        ("stages: {demo: 60, intro: 0}\n", "in order"),
        ("- rep: P1\n", "expected a mapping"),
        ("stages: [intro, demo]\n", "stages must be a mapping"),
        ("prospects: Dana\n", "prospects must be a mapping"),
        ("stages: {intro: soon}\n", "give a number of seconds"),
        ("stages: {intro: .nan}\n", "give a number of seconds"),
        ("stages: {intro: -5}\n", "cannot be negative"),
        ("rep: [P1, P2]\n", "one participant id"),
        ("stages: {intro: 0\n", "cannot read"),
    ]:
        bad.write_text(text)
        with pytest.raises(CallInfoError, match=problem) as caught:
            load_call_info(bad)
        assert str(bad) in str(caught.value)
    with pytest.raises(CallInfoError, match="is a folder"):
        load_call_info(tmp_path)


def test_staff_and_informed_are_read_from_the_metadata(tmp_path: Path) -> None:
    good = tmp_path / "call.yaml"
    good.write_text("rep: P1\nstaff: [P3, 4]\nprospects: {P2: Dana}\ninformed: true\n")
    info = load_call_info(good)
    assert (info.staff, info.informed, info.role("P3")) == (("P3", "4"), True, "staff")
    good.write_text("staff: P3\n")
    assert load_call_info(good).staff == ("P3",)
    for text, problem in [
        ("staff: {P3: Sam}\n", "staff must be a list"),
        ("staff: [[P3]]\n", "staff must be a list"),
        ("informed: maybe\n", "informed must be true or false"),
        ("rep: true\n", "one participant id"),
        ("rep: P1\nprospects: {P1: Dana}\n", "P1 named both"),
        ("staff: [P2]\nprospects: {P2: Dana}\n", "P2 named both"),
    ]:
        good.write_text(text)
        with pytest.raises(CallInfoError, match=problem):
            load_call_info(good)


CALL = CallInfo(rep="P1", staff=("P3",), prospects={"P2": "Dana"})


@pytest.mark.parametrize(
    ("use", "read"),
    [("customers", ["P2"]), ("self-review", ["P1", "P2"])],
)
def test_each_use_reads_only_whom_the_law_allows(use: str, read: list[str]) -> None:
    participants = ["P1", "P2", "P3", "P4"]  # P4: a face the metadata does not name
    check_use(CALL, use)
    record = use_record(CALL, use, participants)
    assert record.read == read
    assert record.not_read == [p for p in participants if p not in read]
    assert "P3" not in read and "P4" not in read  # staff and unnamed faces: never
    assert record.mode == use and record.informed is None


def test_a_use_the_metadata_does_not_allow_is_refused() -> None:
    with pytest.raises(CallInfoError, match="work call"):
        check_use(CALL, "research")
    with pytest.raises(CallInfoError, match="work call"):
        check_use(CallInfo(staff=("P2",)), "research")
    with pytest.raises(CallInfoError, match="must name the rep"):
        check_use(CallInfo(prospects={"P2": "Dana"}), "self-review")
    with pytest.raises(CallInfoError, match="unknown use"):
        check_use(CALL, "everyone")
    check_use(CallInfo(), "research")  # faces not at work: every face is read
    assert use_record(CallInfo(), "research", ["P1"]).read == ["P1"]
    assert use_record(CallInfo(), "customers", ["P1"]).read == []
