"""The Results chapter's figures, drawn from :class:`capstone.release.results.ReleasedResults`:
what a reading means, where the readings go, each expression's agreement, and the peer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from capstone.release.results import OURS, PEER, ClassAgreement, ReleasedResults


def reading_meaning(results: ReleasedResults) -> Figure | None:
    """Readings against the crowd's shares on FER+ PrivateTest: readings that mean what they
    say lie on the diagonal ("40%" read where about 40% of people saw that expression)."""
    tables = results.reliability()
    if not tables:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="reading = share")
    for name, table in tables.items():
        frame = pd.DataFrame(table)
        sizes = 12 + 60 * np.sqrt(frame["count"] / frame["count"].max())
        ax.plot(frame["reading"], frame["share"], label=name, linewidth=1.2)
        ax.scatter(frame["reading"], frame["share"], s=sizes)
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="the model's reading of an expression",
        ylabel="share of the 10 people who saw that expression",
        title="What a reading means (FER+ PrivateTest)",
    )
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def where_readings_go(results: ReleasedResults) -> Figure:
    """The crowd's majority (rows) against the model's top reading (columns): each cell the
    share of its row, with the number of faces."""
    counts = results.confusion_counts()
    classes = results.record["classes"]
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            color = "white" if shares[i, j] > 0.5 else "black"
            text = f"{shares[i, j]:.0%}\n({counts[i, j]:,})" if counts[i, j] else "·"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(
        range(len(classes)), [f"{c} ({counts[i].sum():,})" for i, c in enumerate(classes)]
    )
    ax.set(xlabel="the model's top reading", ylabel="what most of the 10 people saw (faces)")
    ax.set_title("Where the readings go (FER+ PrivateTest)")
    fig.tight_layout()
    return fig


def agreement_per_class(rows: list[ClassAgreement]) -> Figure:
    """Each expression: how often the model read it as the crowd did, with its 95% interval
    and its number of faces."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    y = np.arange(len(rows))
    share = np.array([r.share for r in rows])
    low = share - np.array([r.interval[0] for r in rows])
    high = np.array([r.interval[1] for r in rows]) - share
    ax.barh(y, share, color="#4c72b0", alpha=0.8)
    ax.errorbar(share, y, xerr=[low, high], fmt="none", color="black", capsize=3)
    for i, r in enumerate(rows):
        ax.text(1.01, i, f"{r.faces:,} faces", va="center", fontsize=8)
    ax.set_yticks(y, [r.expression for r in rows])
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="read as the crowd saw it (95% interval)")
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.set_title("Agreement with the crowd, expression by expression", loc="left")
    fig.tight_layout()
    return fig


def against_peer(results: ReleasedResults) -> Figure | None:
    """The released model and the ``fer`` peer on the same faces: every share both have."""
    rows = [r for r in results.peer_rows() if r.share and r.ours is not None and r.theirs]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7.2, 0.7 * len(rows) + 1.2))
    y = np.arange(len(rows))
    for k, (name, color) in enumerate(((OURS, "#4c72b0"), (PEER, "#dd8452"))):
        values = [float((r.ours if name == OURS else r.theirs) or 0.0) for r in rows]
        ax.barh(y + (k - 0.5) * 0.38, values, height=0.36, color=color, label=name)
        for i, v in enumerate(values):
            ax.text(v + 0.01, y[i] + (k - 0.5) * 0.38, f"{v:.1%}", va="center", fontsize=8)
    ax.set_yticks(y, [r.short for r in rows])
    ax.invert_yaxis()
    ax.set(xlim=(0, 1.1), xlabel="share read as the test's reference reads it")
    ax.xaxis.set_major_formatter("{x:.0%}")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Against the fer package on the same faces", loc="left")
    fig.tight_layout()
    return fig
