"""What a call's timeline says: who looked how, when, and while whom was talking.

A timeline is the table :func:`capstone.calls.video.annotate_video` writes, one row per sampled
participant (``time``, ``participant``, ``status``, ``label``, ``stage``, ``speaking`` and the
probabilities ``p_<class>``). From it: the probabilities smoothed over a few seconds, the
moments where a participant's top reading changes, who spoke when, the prospects' reactions
by who speaks and per stage, and :func:`summarise`, the call's summary.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capstone.artefacts import atomic_path
from capstone.calls.metadata import DEFAULT_USE, CallInfo, use_record
from capstone.calls.result import CallResult, Moment, Participant, ReactionMoment, Reactions, Talk
from capstone.calls.talk import talk_metrics
from capstone.labels import CLASSES

SMOOTH_S = 5.0  # seconds of the rolling mean the moments and figures are read from
PROB_COLUMNS = [f"p_{c}" for c in CLASSES]
#: A timeline's columns: one row per participant per sampled frame.
COLUMNS = [
    "time",
    "participant",
    "x",
    "y",
    "w",
    "h",
    "status",
    "label",
    "probability",
    "stage",
    "speaking",
    "speaking_source",
    *PROB_COLUMNS,
]
#: How ``timeline.csv`` writes ``speaking`` (a nullable boolean: ``""`` when not known).
_SPEAKING_TEXT = {True: "true", False: "false"}


def timeline_frame(rows: list[list[Any]]) -> pd.DataFrame:
    """A timeline of rows in :data:`COLUMNS` order, ``speaking`` a nullable boolean."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"speaking": "boolean"})


def write_timeline(timeline: pd.DataFrame, path: Path) -> None:
    """Write ``timeline.csv`` atomically (``speaking`` as ``true``, ``false`` or empty)."""
    text = timeline["speaking"].map(_SPEAKING_TEXT, na_action="ignore").fillna("")
    with atomic_path(path) as tmp:
        timeline.assign(speaking=text).to_csv(tmp, index=False)


def read_timeline(path: Path) -> pd.DataFrame:
    """Read what :func:`write_timeline` wrote."""
    frame = pd.read_csv(path, keep_default_na=False)
    for column in ["probability", *PROB_COLUMNS]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["speaking"] = frame["speaking"].map({"true": True, "false": False}).astype("boolean")
    return frame


def speaking(timeline: pd.DataFrame) -> pd.Series:
    """Which rows' participant is known to be speaking (``False`` where not known)."""
    return timeline["speaking"].fillna(False).astype(bool)


def smoothed(timeline: pd.DataFrame, seconds: float) -> pd.DataFrame:
    """Per participant, probabilities averaged over a centred window of ``seconds``."""
    parts = []
    read = timeline[timeline["status"].isin(["ok", "uncertain"])]
    for pid, group in read.groupby("participant"):
        g = group.set_index(pd.to_timedelta(group["time"], unit="s"))[PROB_COLUMNS]
        g = g.rolling(pd.Timedelta(seconds=seconds), center=True, min_periods=1).mean()
        parts.append(
            g.reset_index(drop=True).assign(time=group["time"].to_numpy(), participant=pid)
        )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["time", "participant", *PROB_COLUMNS])
    )


def shifts(smooth: pd.DataFrame, top: int = 3, min_gap: float = 10.0) -> list[Moment]:
    """Per participant, the ``top`` moments where the smoothed expression changes most and
    the top reading changes with it.

    The change at a time is the total-variation distance between the smoothed probabilities
    there and at the previous sample; the top reading is compared half a gap before and half
    a gap after, and a moment where it stays the same is not one (nothing a viewer would see
    change). Moments closer than ``min_gap`` seconds are merged.
    """
    moments = []
    for pid, g in smooth.groupby("participant"):
        probs = g[PROB_COLUMNS].to_numpy()
        if len(probs) < 2:
            continue
        change = 0.5 * np.abs(np.diff(probs, axis=0)).sum(axis=1)
        all_times = g["time"].to_numpy()
        times = all_times[1:]
        picked: dict[int, tuple[str, str]] = {}
        for i in np.argsort(-change, kind="stable"):
            if any(abs(times[i] - times[j]) < min_gap for j in picked):
                continue
            before = int(np.searchsorted(all_times, times[i] - min_gap / 2))
            after = int(np.searchsorted(all_times, times[i] + min_gap / 2, side="right")) - 1
            was = CLASSES[int(probs[min(before, i)].argmax())]
            now = CLASSES[int(probs[max(after, i + 1)].argmax())]
            if was != now:
                picked[int(i)] = (was, now)
            if len(picked) == top:
                break
        moments += [
            Moment(str(pid), float(times[i]), round(float(change[i]), 4), was, now)
            for i, (was, now) in sorted(picked.items())
        ]
    return moments


def pinned(
    moments: list[Moment], timeline: pd.DataFrame, within: float = SMOOTH_S / 2
) -> list[Moment]:
    """The ``moments`` moved to the sample where the participant's own (unsmoothed) reading
    first became the new one, the nearest such sample within ``within`` seconds of where the
    smoothed readings changed most (the smoothing spreads a change over its window); a
    moment with none stays where it was. Its thumbnail then shows the new expression."""
    read = timeline[timeline["status"].isin(["ok", "uncertain"])]
    out = []
    for m in moments:
        own = read[read["participant"] == m.participant].sort_values("time", kind="stable")
        labels, times = own["label"].to_numpy(), own["time"].to_numpy()
        starts = [
            float(times[k])
            for k in range(1, len(times))
            if labels[k] == m.now and labels[k - 1] != m.now and abs(times[k] - m.time) <= within
        ]
        out.append(replace(m, time=min(starts, key=lambda t: abs(t - m.time))) if starts else m)
    return out


def summarise(
    name: str,
    timeline: pd.DataFrame,
    call: CallInfo,
    *,
    fps: float = 2.0,
    use: str = DEFAULT_USE,
    smooth_s: float = SMOOTH_S,
    audio_track: bool | None = None,
    meaning: str = "",
) -> CallResult:
    """The call's result: participants, their expression shares overall and per stage, the
    shift moments, the talk metrics of :func:`capstone.calls.talk.talk_metrics` (``fps``: the
    sampling rate), the reactions, and the ``use`` record of
    :func:`capstone.calls.metadata.use_record`."""
    classified = timeline[timeline["status"].isin(["ok", "uncertain"])]
    speaking = timeline[["time", "participant"]].assign(
        speaking=timeline["speaking"].astype(object).where(timeline["speaking"].notna(), None)
    )
    talk = talk_metrics(speaking, fps, call.rep, list(call.prospects))
    participants = {}
    for pid, g in timeline.groupby("participant"):
        c = classified[classified["participant"] == pid]
        participants[str(pid)] = Participant(
            id=str(pid),
            role=call.role(str(pid)),
            name=call.name(str(pid)),
            expressions_read=call.reads(str(pid), use),
            samples=len(g),
            classified=len(c),
            shares=c["label"].value_counts(normalize=True).round(3).to_dict(),
            per_stage={
                stage: s["label"].value_counts(normalize=True).round(3).to_dict()
                for stage, s in c.groupby("stage", sort=False)
                if stage
            },
            **talk["participants"].get(pid, {}),
        )
    return CallResult(
        input=name,
        use=use_record(call, use, list(participants)),
        duration_s=float(timeline["time"].max()) if len(timeline) else 0.0,
        participants=participants,
        stages=call.stages,
        moments=pinned(shifts(smoothed(timeline, smooth_s)), timeline, smooth_s / 2),
        talk=Talk.from_json(talk["call"]),
        reactions=reactions(timeline, call),
        reaction_moments=reaction_moments(timeline, call),
        audio_track=audio_track,
        reading_means=meaning,
        timeline=timeline,
    )


def speaking_spans(timeline: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """Per participant, the ``(start, end)`` seconds of each run of samples marked speaking."""
    times = np.sort(timeline["time"].unique())
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    spans: dict[str, list[tuple[float, float]]] = {}
    for pid, g in timeline[speaking(timeline)].groupby("participant"):
        runs = spans.setdefault(str(pid), [])
        for t in np.sort(g["time"].to_numpy()):
            if runs and t - runs[-1][1] < step / 2:
                runs[-1] = (runs[-1][0], float(t) + step)
            else:
                runs.append((float(t), float(t) + step))
    return spans


def reaction_moments(
    timeline: pd.DataFrame, call: CallInfo, window_s: float = 4.0, top: int = 3
) -> list[ReactionMoment]:
    """Per prospect, the ``top`` largest shifts of their perceived expression in the
    ``window_s`` seconds after the rep starts speaking or a stage starts, where the top
    reading changed.

    The shift is the total-variation distance between the prospect's mean probabilities in
    the ``window_s`` before the event and in the ``window_s`` after it. Each moment has
    the ``participant``, the ``event`` (``rep speaks`` or ``stage <name>``), its ``time``,
    the ``change``, the top class ``from`` and ``to``, and ``at``, the time of the
    prospect's sample the thumbnail shows (the middle of the window after). Empty without
    a rep or prospects.
    """
    if call.rep is None or not call.prospects:
        return []
    events = [(start, "rep speaks") for start, _ in speaking_spans(timeline).get(call.rep, [])]
    events += [(start, f"stage {name}") for name, start in call.stages.items() if start > 0]
    read = timeline[timeline["status"].isin(["ok", "uncertain"])]
    moments = []
    for pid in call.prospects:
        own = read[read["participant"] == pid]
        found = []
        for t, event in events:
            before = own[(own["time"] >= t - window_s) & (own["time"] < t)][PROB_COLUMNS]
            after = own[(own["time"] >= t) & (own["time"] < t + window_s)]
            if before.empty or after.empty:
                continue
            p, q = before.mean().to_numpy(), after[PROB_COLUMNS].mean().to_numpy()
            middle = after["time"].iloc[len(after) // 2]
            found.append(
                ReactionMoment(
                    pid,
                    float(t),
                    round(float(0.5 * np.abs(q - p).sum()), 4),
                    CLASSES[int(p.argmax())],
                    CLASSES[int(q.argmax())],
                    event=event,
                    at=float(middle),
                )
            )
        changed = [m for m in found if m.was != m.now]  # a reading a viewer sees change
        moments += sorted(changed, key=lambda m: -m.change)[:top]
    return moments


def reactions(timeline: pd.DataFrame, call: CallInfo) -> dict[str, Reactions]:
    """For each prospect, the shares of their perceived expressions while the rep speaks and
    while they speak themselves, over the call (``all``) and per stage.

    The rep's speaking counts whether or not the rep's face is read. Empty without a rep.
    """
    if call.rep is None:
        return {}
    rep = (timeline["participant"] == call.rep) & speaking(timeline)
    rep_times = set(timeline.loc[rep, "time"])
    classified = timeline[timeline["status"].isin(["ok", "uncertain"])]
    out: dict[str, Reactions] = {}
    for pid in call.prospects:
        own = classified[classified["participant"] == pid]
        while_rep = own[own["time"].isin(rep_times)]
        while_self = own[speaking(own)]
        out[pid] = Reactions(_shares_by_stage(while_rep), _shares_by_stage(while_self))
    return out


def _shares_by_stage(samples: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Label shares of ``samples`` over all of them and per non-empty stage."""
    shares = {"all": samples["label"].value_counts(normalize=True).round(3).to_dict()}
    for stage, g in samples.groupby("stage", sort=False):
        if stage:
            shares[str(stage)] = g["label"].value_counts(normalize=True).round(3).to_dict()
    return {k: v for k, v in shares.items() if v}
