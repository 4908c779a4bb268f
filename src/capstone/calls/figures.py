"""A recording's figures: the timelines, the moments, the participants and the prospects'
reactions, with the faces read again from the video at the end (nothing is kept per sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from capstone.artefacts import atomic_path
from capstone.calls.metadata import CallInfo
from capstone.calls.result import CallResult
from capstone.calls.timeline import SMOOTH_S, smoothed, speaking_spans
from capstone.labels import CLASSES

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
    summary: CallResult,
) -> list[dict[str, Any]]:
    """Write the figures; return the moments and reactions with their thumbnails (for the
    report)."""

    smooth = smoothed(timeline, SMOOTH_S)
    fig = timelines(
        smooth,
        call.stages,
        {p: call.describe(p) for p in smooth["participant"].unique()},
        speaking_spans(timeline),
    )
    with atomic_path(out / "timeline.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    first = timeline.groupby("participant", sort=True).head(1)
    wanted = [(m.participant, m.time) for m in summary.moments]
    wanted += [(m.participant, m.at) for m in summary.reaction_moments]
    wanted += [(r.participant, r.time) for r in first.itertuples()]
    images = dict(
        zip(wanted, face_crops_at(path, [_box_at(timeline, *w) for w in wanted]), strict=True)
    )
    shifted = [  # each moment titled by the person's name where the call says it
        {
            **m.to_json(),
            "participant": call.name(m.participant) or m.participant,
            "image": images[(m.participant, m.time)],
        }
        for m in summary.moments
    ]
    fig = moments([m for m in shifted if m["image"] is not None])
    with atomic_path(out / "moments.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    reacted = [
        {
            **m.to_json(),
            "participant": f"{call.name(m.participant) or m.participant} after {m.event}",
            "time": m.at,
            "image": images[(m.participant, m.at)],
        }
        for m in summary.reaction_moments
    ]
    if reacted:
        fig = moments([m for m in reacted if m["image"] is not None])
        with atomic_path(out / "reactions.png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    roles = {p: call.describe(p) or "not named" for p in first["participant"]}
    for p in summary.use.not_read:
        roles[p] = f"{roles.get(p, 'not named')}, not read"
    fig = participants(
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
    plt.close("all")
    return [{**m, "label": f"{m['from']} -> {m['to']}"} for m in shifted + reacted]


def _box_at(timeline: pd.DataFrame, pid: str, t: float) -> tuple[float, tuple[int, int, int, int]]:
    """The time and box of participant ``pid``'s sample nearest ``t``."""
    own = timeline[timeline["participant"] == pid]
    r = own.iloc[int(np.abs(own["time"].to_numpy() - t).argmin())]
    return float(r["time"]), (int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"]))


def timelines(
    smooth: pd.DataFrame,
    stages: dict[str, float],
    roles: dict[str, str],
    speaking: dict[str, list[tuple[float, float]]] | None = None,
) -> Figure:
    """Smoothed perceived-expression probabilities over time, one panel per participant.

    ``smooth`` has ``time``, ``participant`` and one ``p_<class>`` column per class; the
    pitch ``stages`` (name -> start in seconds) are drawn as labelled vertical lines, and
    the stretches in which a participant speaks (``speaking``: participant -> ``(start,
    end)`` seconds) are shaded in their panel.
    """
    people = list(dict.fromkeys(smooth["participant"])) or ["no faces"]
    fig, axes = plt.subplots(
        len(people), 1, figsize=(10, 2.3 * len(people)), sharex=True, squeeze=False
    )
    palette = dict(zip(CLASSES, sns.color_palette("tab10", len(CLASSES)), strict=True))
    for ax, pid in zip(axes[:, 0], people, strict=True):
        g = smooth[smooth["participant"] == pid]
        for start, end in (speaking or {}).get(pid, []):
            ax.axvspan(start, end, color="gold", alpha=0.3, linewidth=0)
        for c in CLASSES:
            ax.plot(g["time"], g[f"p_{c}"], label=c, color=palette[c], linewidth=1.5)
        for name, start in stages.items():
            ax.axvline(start, color="grey", linestyle=":", linewidth=1)
            ax.text(
                start,
                0.97,
                f" {name}",
                fontsize=7,
                color="dimgrey",
                va="top",
                transform=ax.get_xaxis_transform(),
            )
        role = f" ({roles[pid]})" if roles.get(pid) else ""
        talking = " (shaded: speaking)" if (speaking or {}).get(pid) else ""
        ax.set(ylim=(0, 1), ylabel="probability", title=f"{pid}{role}{talking}")
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].legend(ncol=len(CLASSES), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 1.45))
    fig.tight_layout()
    return fig


def trends(calls: pd.DataFrame, reactions: pd.DataFrame) -> Figure:
    """Call by call (in name order): the rep's talk share, against Gong's 43% of won calls,
    and the prospects' perceived expressions while the rep speaks (mean share over the
    call's prospects)."""
    fig, (talk, seen) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    names = sorted(calls["call"].unique()) if len(calls) else []
    if len(calls) and "role" in calls:
        rep = calls[calls["role"] == "rep"].set_index("call")["talk_share"].reindex(names)
        talk.plot(names, rep.to_numpy(dtype=float), marker="o", color="tab:blue")
    talk.axhline(0.43, color="grey", linestyle=":", linewidth=1)
    talk.text(0, 0.44, " 43%: the rep's share on won calls (Gong)", fontsize=7, color="dimgrey")
    talk.set(ylim=(0, 1), ylabel="rep's talk share", title="The rep's talk share, call by call")
    if len(reactions) and "while" in reactions:
        r = reactions[(reactions["while"] == "while_rep_speaks") & (reactions["stage"] == "all")]
        shares = r.pivot_table(index="call", columns="label", values="share", aggfunc="mean")
        shares = shares.reindex(names).fillna(0.0)
        bottom = np.zeros(len(names))
        palette = dict(zip(CLASSES, sns.color_palette("tab10", len(CLASSES)), strict=True))
        for label in [c for c in CLASSES if c in shares]:
            seen.bar(names, shares[label], bottom=bottom, label=label, color=palette[label])
            bottom += shares[label].to_numpy()
        if seen.get_legend_handles_labels()[
            0
        ]:  # none when no prospect was read while the rep spoke
            seen.legend(
                ncol=len(CLASSES), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25)
            )
    seen.set(
        ylim=(0, 1),
        ylabel="share of readings",
        title="The prospects' perceived expressions while the rep speaks",
    )
    if not names:
        seen.text(0.5, 0.5, "no recordings yet", ha="center", transform=seen.transAxes)
    seen.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    return fig


def thumbnails(images: list[np.ndarray], titles: list[str], empty: str) -> Figure:
    """A row of BGR face thumbnails, each with its title (``empty``: the text when none)."""
    fig, axes = plt.subplots(
        1, max(1, len(images)), figsize=(1.9 * max(1, len(images)), 2.4), squeeze=False
    )
    for ax in axes[0]:
        ax.set_axis_off()
    for ax, image, title in zip(axes[0], images, titles, strict=False):
        ax.imshow(image[:, :, ::-1])
        ax.set_title(title, fontsize=7)
    if not images:
        axes[0, 0].text(0.5, 0.5, empty, ha="center", va="center")
    fig.tight_layout()
    return fig


def moments(items: list[dict]) -> Figure:
    """Face thumbnails at the largest expression shifts, titled ``participant, time, from -> to``."""
    titles = [f"{m['participant']} {m['time']:.1f} s\n{m['from']} -> {m['to']}" for m in items]
    return thumbnails([m["image"] for m in items], titles, "no shifts")


def participants(items: list[dict]) -> Figure:
    """One face thumbnail per participant, titled with its id and role, so that ids can be
    mapped to names in the call metadata."""
    titles = [p["participant"] + (f"\n{p['role']}" if p.get("role") else "") for p in items]
    return thumbnails([p["image"] for p in items], titles, "no faces")
