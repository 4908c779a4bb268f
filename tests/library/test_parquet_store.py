"""The store of every annotated call: one row per participant, replaced call by call."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capstone.calls.result import CallResult
from capstone.library.parquet_store import CallStore


def summary(prospect_happy: float = 0.5) -> CallResult:
    """A call's result, reduced to what the store reads."""
    person = {"samples": 10, "classified": 8, "talk_seconds": 30.0, "talk_share": 0.25}
    return CallResult.from_json(
        {
            "input": "call.mp4",
            "duration_s": 120.0,
            "talk": {"speaker_switches_per_min": 3.0, "talk_listen_ratio": 0.4},
            "use": {"mode": "customers", "informed": True, "read": [], "not_read": [], "note": ""},
            "participants": {
                "P1": {
                    **person,
                    "role": "rep",
                    "expressions_read": False,
                    "shares": {},
                    "per_stage": {},
                },
                "P2": {
                    **person,
                    "role": "prospect (Dana)",
                    "expressions_read": True,
                    "shares": {"happy": prospect_happy, "neutral": 1 - prospect_happy},
                    "per_stage": {},
                },
            },
            "reactions": {
                "P2": {"while_rep_speaks": {"all": {"happy": prospect_happy}}, "while_speaking": {}}
            },
        }
    )


def timeline(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"t": range(n), "participant": ["P2"] * n, "label": ["happy"] * n})


def test_an_empty_store_reads_as_empty_tables(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "store")
    assert store.calls().empty and store.reactions().empty


def test_each_participant_is_a_row_with_role_and_name_apart(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "store")
    store.add("demo call", summary(), timeline())
    calls = store.calls().set_index("participant")
    assert calls.loc["P2", "role"] == "prospect" and calls.loc["P2", "name"] == "Dana"
    assert calls.loc["P1", "role"] == "rep" and calls.loc["P1", "name"] == ""
    assert calls.loc["P2", "share_happy"] == 0.5
    assert calls.loc["P2", "speaker_switches_per_min"] == 3.0
    assert not calls.loc["P1", "expressions_read"]
    reactions = store.reactions()
    assert reactions[["while", "stage", "label", "share"]].to_numpy().tolist() == [
        ["while_rep_speaks", "all", "happy", 0.5]
    ]


def test_adding_a_call_again_replaces_it_and_keeps_the_others(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "store")
    store.add("a/b call", summary(0.5), timeline(3))
    store.add("second", summary(0.2), timeline(2))
    store.add("a/b call", summary(0.9), timeline(4))
    calls = store.calls()
    assert sorted(calls["call"].unique()) == ["a/b call", "second"]
    assert len(calls) == 4
    again = calls[(calls["call"] == "a/b call") & (calls["participant"] == "P2")]
    assert again["share_happy"].tolist() == [0.9]
    timelines = pd.read_parquet(tmp_path / "store/timelines")
    assert timelines.groupby("call").size().to_dict() == {"a/b call": 4, "second": 2}
    assert len(list((tmp_path / "store/timelines").iterdir())) == 2  # "/" never makes a folder
