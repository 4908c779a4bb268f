"""A recording's figures: the timelines, the moments, the participants and the prospects'
reactions, with the faces read again from the video at the end (nothing is kept per sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from capstone.artefacts import atomic_path
from capstone.call_info import CallInfo
from capstone.timeline import SMOOTH_S, smoothed, speaking_spans

NEAR_FRAMES = 120  # thumbnails this many frames ahead are read on to, farther ones sought


def face_crops_at(
    path: str | Path, wanted: list[tuple[float, tuple[int, int, int, int]]], side: int = 96
) -> list[np.ndarray | None]:
    """The ``(x, y, w, h)`` box of the frame at each time (seconds), as a ``side`` x ``side``
    thumbnail, read again from the video (so nothing is kept per sample while annotating);
    ``None`` where the frame cannot be read. Each frame is read once, in order: by reading
    on when it is near (a seek decodes from the last key frame, some 100 frames' work)."""
    capture = cv2.VideoCapture(str(path))
    native = capture.get(cv2.CAP_PROP_FPS) or 1.0
    by_frame: dict[int, list[int]] = {}
    for i, (t, _) in enumerate(wanted):
        by_frame.setdefault(round(t * native), []).append(i)
    crops: list[np.ndarray | None] = [None] * len(wanted)
    position = 0  # the index of the frame the next read returns
    try:
        for index in sorted(by_frame):
            if not 0 <= index - position < NEAR_FRAMES:
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                position = index
            while position < index and capture.grab():
                position += 1
            ok, frame = capture.read()
            position += 1
            for i in by_frame[index] if ok else []:
                x, y, w, h = wanted[i][1]
                face = frame[max(0, y) : y + h, max(0, x) : x + w]
                crops[i] = cv2.resize(face, (side, side)) if face.size else None
    finally:
        capture.release()
    return crops


def figures(
    out: Path,
    path: Path,
    timeline: pd.DataFrame,
    call: CallInfo,
    *,
    summary: dict[str, Any],
) -> list[dict[str, Any]]:
    """Write the figures; return the moments and reactions with their thumbnails (for the
    report)."""
    from capstone import plots

    smooth = smoothed(timeline, SMOOTH_S)
    fig = plots.timelines(
        smooth,
        call.stages,
        {p: call.role(p) for p in smooth["participant"].unique()},
        speaking_spans(timeline),
    )
    with atomic_path(out / "timeline.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    first = timeline.groupby("participant", sort=True).head(1)
    wanted = [(m["participant"], m["time"]) for m in summary["moments"]]
    wanted += [(m["participant"], m["at"]) for m in summary["reaction_moments"]]
    wanted += [(r.participant, r.time) for r in first.itertuples()]
    images = dict(
        zip(wanted, face_crops_at(path, [_box_at(timeline, *w) for w in wanted]), strict=True)
    )
    moments = [{**m, "image": images[(m["participant"], m["time"])]} for m in summary["moments"]]
    fig = plots.moments([m for m in moments if m["image"] is not None])
    with atomic_path(out / "moments.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    reacted = [
        {
            **m,
            "participant": f"{m['participant']} after {m['event']}",
            "time": m["at"],
            "image": images[(m["participant"], m["at"])],
        }
        for m in summary["reaction_moments"]
    ]
    if reacted:
        fig = plots.moments([m for m in reacted if m["image"] is not None])
        with atomic_path(out / "reactions.png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    roles = {p: call.role(p) or "not named" for p in first["participant"]}
    for p in summary["use"]["not_read"]:
        roles[p] = f"{roles.get(p, 'not named')}, not read"
    fig = plots.participants(
        [
            {
                "participant": r.participant,
                "role": roles[r.participant],
                "image": images[(r.participant, r.time)],
            }
            for r in first.itertuples()
            if images[(r.participant, r.time)] is not None
        ]
    )
    with atomic_path(out / "participants.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    import matplotlib.pyplot as plt

    plt.close("all")
    return [{**m, "label": f"{m['from']} -> {m['to']}"} for m in moments + reacted]


def _box_at(timeline: pd.DataFrame, pid: str, t: float) -> tuple[float, tuple[int, int, int, int]]:
    """The time and box of participant ``pid``'s sample nearest ``t``."""
    own = timeline[timeline["participant"] == pid]
    r = own.iloc[int(np.abs(own["time"].to_numpy() - t).argmin())]
    return float(r["time"]), (int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"]))
