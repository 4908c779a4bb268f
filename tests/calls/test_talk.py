from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capstone.calls.talk import floor_holder, talk_metrics, turns

FPS = 2.0


def script(spans: dict[str, list[tuple[float, float]]], seconds: float = 60) -> pd.DataFrame:
    """One row per participant per sample: speaking inside that participant's spans."""
    times = np.arange(0, seconds, 1 / FPS)
    rows = [
        {"time": t, "participant": p, "speaking": any(a <= t < b for a, b in spans[p])}
        for t in times
        for p in spans
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def call() -> pd.DataFrame:
    table = script(
        {
            "P1": [(0, 20), (42, 50)],  # the rep
            "P2": [(21, 30), (30.5, 41), (50, 60)],  # a prospect, with a half-second pause
            "P3": [],  # listens
        }
    )
    table = table.astype({"speaking": object})
    table.loc[(table["participant"] == "P3") & (table["time"] < 10), "speaking"] = None
    return table


def test_talk_seconds_shares_and_monologues_follow_the_script(call) -> None:
    m = talk_metrics(call, FPS, rep="P1", prospects=["P2", "P3"])
    people = m["participants"]
    assert people["P1"]["talk_seconds"] == 28.0
    assert people["P2"]["talk_seconds"] == 29.5
    assert people["P3"] == {"talk_seconds": 0.0, "talk_share": 0.0, "longest_monologue_s": 0.0}
    assert people["P1"]["talk_share"] == pytest.approx(28 / 57.5, abs=1e-4)
    assert people["P1"]["longest_monologue_s"] == 20.0
    assert people["P2"]["longest_monologue_s"] == 20.0  # the half-second pause does not end it


def test_call_metrics_follow_the_script(call) -> None:
    m = talk_metrics(call, FPS, rep="P1", prospects=["P2", "P3"])["call"]
    assert m["speaker_switches_per_min"] == 3.0
    assert m["talk_listen_ratio"] == pytest.approx(28 / 57.5, abs=1e-4)
    assert m["patience_s"] == 1.0  # P2 stops at 41 s, P1 starts at 42 s
    assert m["known_share"] == pytest.approx(1 - 20 / 360, abs=1e-4)


def test_a_long_silence_ends_a_turn_and_overlaps_do_not_take_the_floor() -> None:
    table = script({"P1": [(0, 5), (8, 10)], "P2": [(4, 6)]}, seconds=10)
    holder = floor_holder(table)
    assert holder[4.5] == "" and holder[5.5] == "P2"  # both speak at 4.5 s
    floor = turns(holder, FPS)
    assert floor["participant"].tolist() == ["P1", "P2", "P1"]
    assert floor[["start", "end"]].to_numpy().tolist() == [[0, 4], [5, 6], [8, 10]]


def test_nothing_known_gives_empty_metrics_not_errors() -> None:
    table = script({"P1": []}, seconds=4).astype({"speaking": object})
    table["speaking"] = None
    m = talk_metrics(table, FPS, rep="P1")
    assert m["participants"]["P1"]["talk_share"] is None
    assert m["call"]["talk_listen_ratio"] is None and m["call"]["patience_s"] is None
    assert m["call"]["known_share"] == 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        talk_metrics(pd.DataFrame({"time": [0.0]}), FPS)
    with pytest.raises(ValueError, match="fps"):
        talk_metrics(script({"P1": []}, 2), 0)
