"""What a call's timeline says: reactions by who speaks, speaking spans, reaction moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capstone.calls.metadata import CallInfo
from capstone.calls.timeline import PROB_COLUMNS


def test_reactions_split_a_prospects_expressions_by_who_speaks() -> None:
    from capstone.calls.timeline import reactions

    rows = [  # time, participant, speaking, status, label, stage: the rep's face is not read
        (0, "P1", True, "not_read", "not read", "intro"),
        (0, "P2", False, "ok", "happy", "intro"),
        (1, "P1", True, "not_read", "not read", "pricing"),
        (1, "P2", False, "ok", "sad", "pricing"),
        (2, "P1", False, "not_read", "not read", "pricing"),
        (2, "P2", True, "ok", "surprise", "pricing"),
        (3, "P1", None, "not_read", "not read", "pricing"),
        (3, "P2", None, "uncertain", "uncertain", "pricing"),
    ]
    columns = ["time", "participant", "speaking", "status", "label", "stage"]
    timeline = pd.DataFrame(rows, columns=columns).astype({"speaking": "boolean"})
    call = CallInfo(rep="P1", prospects={"P2": "Dana"}, stages={"intro": 0, "pricing": 1})
    seen = reactions(timeline, call)["P2"]
    assert seen.while_rep_speaks == {
        "all": {"happy": 0.5, "sad": 0.5},
        "intro": {"happy": 1.0},
        "pricing": {"sad": 1.0},
    }
    assert seen.while_speaking == {"all": {"surprise": 1.0}, "pricing": {"surprise": 1.0}}
    assert reactions(timeline, CallInfo()) == {}


def test_speaking_spans_join_consecutive_samples() -> None:
    from capstone.calls.timeline import speaking_spans

    timeline = pd.DataFrame(
        {
            "time": [0.0, 0.5, 1.0, 1.5, 2.0, 0.0, 0.5, 1.0, 1.5, 2.0],
            "participant": ["P1"] * 5 + ["P2"] * 5,
            "speaking": [True, True, False, True, None] + [False] * 5,
        }
    ).astype({"speaking": "boolean"})
    assert speaking_spans(timeline) == {"P1": [(0.0, 1.0), (1.5, 2.0)]}


def test_reaction_moments_follow_the_rep_speaking_up() -> None:
    from capstone.calls.timeline import reaction_moments

    rows = []
    for t in np.arange(0, 30, 0.5):
        rep_speaks = 10 <= t < 14
        happy = t >= 10  # the prospect lights up when the rep speaks up
        probs = np.full(7, 0.02)
        probs[3 if happy else 4] = 0.88
        rows.append(
            {"time": t, "participant": "P1", "status": "ok", "speaking": bool(rep_speaks)}
            | dict(zip(PROB_COLUMNS, np.full(7, 1 / 7), strict=True))
        )
        rows.append(
            {"time": t, "participant": "P2", "status": "ok", "speaking": False}
            | dict(zip(PROB_COLUMNS, probs, strict=True))
        )
    timeline = pd.DataFrame(rows).astype({"speaking": "boolean"})
    call = CallInfo(rep="P1", prospects={"P2": "Dana"}, stages={"intro": 0, "pricing": 20})
    moments = reaction_moments(timeline, call)
    assert moments[0].to_json() | {"change": 0} == {
        "participant": "P2",
        "event": "rep speaks",
        "time": 10.0,
        "change": 0,
        "from": "neutral",
        "to": "happy",
        "at": 12.0,
    }
    assert moments[0].change == pytest.approx(0.86)
    # the pricing stage starts while the prospect stays happy: no moment to show
    assert [m.event for m in moments] == ["rep speaks"]
    assert reaction_moments(timeline, CallInfo(rep="P1")) == []


def test_moments_fall_where_the_reading_changed_not_where_the_smoothing_put_them() -> None:
    from capstone.calls.timeline import COLUMNS, summarise, timeline_frame
    from capstone.labels import CLASSES

    rng = np.random.default_rng(0)
    rows = []
    for t in np.arange(0, 24, 0.5):  # neutral, happy from 8.0 s, neutral again from 16.0 s
        label = "happy" if 8.0 <= t < 16.0 else "neutral"
        probs = rng.dirichlet(np.ones(len(CLASSES))) * 0.2
        probs[CLASSES.index(label)] += 0.8
        row = dict.fromkeys(COLUMNS)
        row |= {"time": float(t), "participant": "P1", "status": "ok", "label": label}
        row |= {"stage": "", "speaking": None, "speaking_source": ""}
        row |= dict(zip(PROB_COLUMNS, probs, strict=True))
        rows.append([row[c] for c in COLUMNS])
    summary = summarise("call.mp4", timeline_frame(rows), CallInfo(prospects={"P1": "Dana"}))
    found = [(m.time, m.was, m.now) for m in summary.moments]
    assert found == [(8.0, "neutral", "happy"), (16.0, "happy", "neutral")]
