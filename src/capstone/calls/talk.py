"""Talk metrics of a call from who was speaking when: the figures sales-coaching tools sell.

The input is one row per participant per sampled frame, ``time`` (seconds), ``participant``
and ``speaking`` (``True``, ``False``, or missing for unknown), sampled ``fps`` times per
second: each sample stands for ``1 / fps`` seconds. The metrics use the keys other tools
can build on:

* per participant: ``talk_seconds``, ``talk_share`` (of all talk in the call) and
  ``longest_monologue_s`` (the longest stretch they held the floor, pauses of up to
  ``pause_s`` included);
* per call: ``speaker_switches_per_min``, the rep's ``talk_listen_ratio`` (the rep's share
  of all talk: 0.43 is Gong's 43:57) and ``patience_s`` (the mean silence before the rep
  speaks after a prospect stops).

Samples where several participants speak at once count as talk for each of them, but do
not change who holds the floor.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PAUSE_S = 1.0  # a silence of at most this long does not end a monologue


def floor_holder(speaking: pd.DataFrame) -> pd.Series:
    """Who holds the floor at each sample time: the one participant speaking, else ``""``.

    Returns a series indexed by the sorted sample times.
    """
    _check(speaking)
    talking = speaking[speaking["speaking"].astype("boolean").fillna(False).astype(bool)]
    counts = talking.groupby("time")["participant"].agg(list)
    times = np.sort(speaking["time"].unique())
    holder = pd.Series("", index=times, dtype=object)
    alone = counts[counts.map(len) == 1]
    holder.loc[alone.index] = alone.map(lambda names: str(names[0]))
    return holder


def turns(holder: pd.Series, fps: float, pause_s: float = PAUSE_S) -> pd.DataFrame:
    """The stretches in which one participant held the floor: ``participant``, ``start``,
    ``end`` (seconds; a turn ends where its last sample's ``1 / fps`` seconds end).

    A silence of at most ``pause_s`` inside one participant's talk does not end their turn;
    another participant speaking does.
    """
    rows: list[dict[str, Any]] = []
    step = 1.0 / fps
    for t, who in holder.items():
        if not who:
            continue
        if rows and rows[-1]["participant"] == who and t - rows[-1]["end"] <= pause_s + 1e-9:
            rows[-1]["end"] = t + step
        else:
            rows.append({"participant": who, "start": float(t), "end": float(t) + step})
    return pd.DataFrame(rows, columns=["participant", "start", "end"])


def talk_metrics(
    speaking: pd.DataFrame,
    fps: float,
    rep: str | None = None,
    prospects: list[str] | tuple[str, ...] = (),
    pause_s: float = PAUSE_S,
) -> dict[str, Any]:
    """Per-participant and per-call talk metrics (see the module docstring for the keys).

    ``rep`` and ``prospects`` are participant ids from the call metadata; without a rep,
    ``talk_listen_ratio`` and ``patience_s`` are ``None``, as are metrics that nothing in
    the call could measure (no one ever known to be speaking, or no prospect-to-rep turn).
    """
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    _check(speaking)
    step = 1.0 / fps
    known = speaking.dropna(subset=["speaking"])
    talk = known[known["speaking"].astype(bool)].groupby("participant").size() * step
    everyone = sorted(map(str, speaking["participant"].unique()))
    total = float(talk.sum())
    floor = turns(floor_holder(speaking), fps, pause_s)
    longest = floor.assign(length=floor["end"] - floor["start"]).groupby("participant")["length"]
    per_participant = {
        p: {
            "talk_seconds": round(float(talk.get(p, 0.0)), 3),
            "talk_share": round(float(talk.get(p, 0.0)) / total, 4) if total else None,
            "longest_monologue_s": round(float(longest.max().get(p, 0.0)), 3),
        }
        for p in everyone
    }
    times = speaking["time"]
    minutes = (times.max() - times.min() + step) / 60 if len(times) else 0.0
    switches = int((floor["participant"] != floor["participant"].shift()).sum() - 1)
    call = {
        "speaker_switches_per_min": round(max(switches, 0) / minutes, 3) if minutes else None,
        "talk_listen_ratio": (
            round(float(talk.get(rep, 0.0)) / total, 4) if rep is not None and total else None
        ),
        "patience_s": _patience(floor, rep, set(prospects)),
        "known_share": round(len(known) / len(speaking), 4) if len(speaking) else 0.0,
    }
    return {"participants": per_participant, "call": call}


def _patience(floor: pd.DataFrame, rep: str | None, prospects: set[str]) -> float | None:
    """The mean gap between a prospect's turn ending and the rep's next turn starting."""
    if rep is None:
        return None
    others = prospects or set(floor["participant"]) - {rep}
    gaps = [
        nxt.start - cur.end
        for cur, nxt in zip(floor.itertuples(), floor.iloc[1:].itertuples(), strict=False)
        if cur.participant in others and nxt.participant == rep
    ]
    return round(float(np.mean(np.maximum(gaps, 0.0))), 3) if gaps else None


def _check(speaking: pd.DataFrame) -> None:
    missing = {"time", "participant", "speaking"} - set(speaking.columns)
    if missing:
        raise ValueError(f"the speaking table lacks the columns {sorted(missing)}")
