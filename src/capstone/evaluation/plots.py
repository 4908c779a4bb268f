"""Figures of the analysis, for the notebooks and the book: class counts, faces, training
histories, confusion, scores with intervals, reliability, mistakes, label agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from capstone.labels import CLASSES

if TYPE_CHECKING:
    from capstone.data.crowd import LabelComparison


def class_counts(table: pd.DataFrame, title: str = "Images per class") -> Figure:
    """Bar chart of images per class, one bar colour per ``split`` (and a panel per ``source``)."""
    grid = sns.catplot(
        data=table,
        x="label",
        hue="split",
        col="source" if "source" in table else None,
        kind="count",
        order=list(CLASSES),
        height=3.2,
        aspect=1.4,
        sharey=False,
    )
    grid.set_axis_labels("perceived expression", "images")
    grid.figure.suptitle(title, y=1.03)
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=30)
    return grid.figure


def source_differences(table: pd.DataFrame) -> Figure:
    """Each source's image sizes before resizing, brightness and contrast (a
    :meth:`capstone.data.splits.SplitData.table`)."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    sizes = table.assign(size=table["height"].astype(str) + "x" + table["width"].astype(str))
    counts = sizes.groupby(["source", "size"]).size().rename("images").reset_index()
    sns.barplot(data=counts.nlargest(8, "images"), y="size", x="images", hue="source", ax=axes[0])
    axes[0].set_xscale("log")  # after drawing: seaborn's own log_scale left the bars undrawn
    axes[0].set_ylabel("size before resizing")
    for ax, column in zip(axes[1:], ["brightness", "contrast"], strict=True):
        sns.boxplot(data=table, x="source", y=column, ax=ax)
    fig.tight_layout()
    return fig


def face_grid(x: np.ndarray, y: np.ndarray, per_class: int = 6, seed: int = 0) -> Figure:
    """A grid of example faces: one row per class, ``per_class`` random examples each."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(CLASSES), per_class, figsize=(per_class * 1.1, len(CLASSES) * 1.15), squeeze=False
    )
    for row, name in enumerate(CLASSES):
        idx = np.flatnonzero(y == row)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else idx
        for col, ax in enumerate(axes[row]):
            ax.set_axis_off()
            if col < len(pick):
                ax.imshow(x[pick[col]], cmap="gray", vmin=0, vmax=255)
        axes[row][0].set_title(name, loc="left", fontsize=9)
    fig.tight_layout()
    return fig


def history(frame: pd.DataFrame, title: str) -> Figure:
    """Loss and accuracy per epoch, training vs validation, across phases.

    An empty history (a run that adopts its starting network) gets a figure that says so.
    """
    if frame.empty:
        fig, ax = plt.subplots(figsize=(10, 1.0))
        ax.axis("off")
        ax.text(0.5, 0.5, "no epochs: this run adopts the network it starts from", ha="center")
        fig.suptitle(title)
        return fig
    frame = frame.assign(step=np.arange(1, len(frame) + 1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, metric in zip(axes, ["loss", "accuracy"], strict=True):
        long = frame.melt("step", [metric, f"val_{metric}"], var_name="set", value_name="value")
        long["set"] = long["set"].map({metric: "train", f"val_{metric}": "validation"})
        sns.lineplot(data=long, x="step", y="value", hue="set", marker="o", ax=ax)
        ax.set_ylabel(metric)
        for boundary in frame.index[frame["epoch"].eq(1)][1:]:
            ax.axvline(boundary + 0.5, color="grey", ls="--", lw=1)
        ax.set_xlabel("epoch (all phases)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion(
    matrix: Sequence[Sequence[float]],
    title: str,
    *,
    rows: str = "true",
    columns: str = "predicted",
) -> Figure:
    """A row-normalised confusion matrix as a heatmap (``rows``: true, ``columns``: predicted)."""
    fig, ax = plt.subplots(figsize=(5.6, 4.6))
    sns.heatmap(
        np.asarray(matrix),
        annot=True,
        fmt=".2f",
        cmap="Blues",
        vmin=0,
        vmax=1,
        xticklabels=CLASSES,
        yticklabels=CLASSES,
        cbar=False,
        ax=ax,
    )
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def show_image(rgb: np.ndarray, title: str = "") -> Figure:
    """Show an RGB image without axes."""
    h, w = rgb.shape[:2]
    fig, ax = plt.subplots(figsize=(9, 9 * h / w))
    ax.imshow(rgb)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def scores_with_intervals(models: dict[str, dict], title: str) -> Figure:
    """Accuracy and macro-F1 of each model on each test set, with their 95% intervals.

    ``models`` is ``metrics.json``'s ``models`` mapping; one panel per metric, one row per
    model, one colour per test set. Overlapping bars are differences the test sets cannot
    tell apart.
    """
    names = list(models)
    tests = list(dict.fromkeys(test for entry in models.values() for test in entry["test_sets"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.4), sharey=True)
    for ax, metric in zip(axes, ("accuracy", "macro_f1"), strict=True):
        for k, test in enumerate(tests):
            scored = [
                (i, e["test_sets"][test])
                for i, e in enumerate(models.values())
                if test in e["test_sets"]
            ]
            rows = np.array([i for i, _ in scored]) + (k - (len(tests) - 1) / 2) * 0.2
            value = np.array([m[metric] for _, m in scored])
            low, high = np.array([m[f"{metric}_95ci"] for _, m in scored]).T
            ax.errorbar(
                value, rows, xerr=[value - low, high - value], fmt="o", capsize=3, label=test
            )
        ax.set(xlabel={"accuracy": "accuracy", "macro_f1": "macro-F1"}[metric], xlim=(0, 1))
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)), names)
    axes[0].invert_yaxis()
    axes[1].legend(title="test set", fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reliability(tables: dict[str, list[dict]], title: str) -> Figure:
    """Reliability diagram: accuracy against confidence per bin, one line per model.

    ``tables`` maps a name to :func:`capstone.model.calibration.reliability` output; the diagonal
    is perfect calibration, points below it are over-confident.
    """
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for name, table in tables.items():
        frame = pd.DataFrame(table)
        ax.plot(frame["confidence"], frame["accuracy"], marker="o", label=name)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def mistakes(
    x: np.ndarray, y: np.ndarray, probs: np.ndarray, picks: dict[str, np.ndarray], title: str
) -> Figure:
    """One row per true class: its most confident mistakes, titled ``predicted probability``."""
    cols = max(1, max((len(v) for v in picks.values()), default=1))
    fig, axes = plt.subplots(
        len(picks), cols, figsize=(cols * 1.25, len(picks) * 1.4), squeeze=False
    )
    for row, (name, idx) in enumerate(picks.items()):
        for col, ax in enumerate(axes[row]):
            ax.set_axis_off()
            if col < len(idx):
                i = idx[col]
                ax.imshow(x[i], cmap="gray", vmin=0, vmax=255)
                pred = int(probs[i].argmax())
                ax.set_title(f"{CLASSES[pred]} {probs[i, pred]:.2f}", fontsize=7)
        axes[row][0].text(
            -0.15, 0.5, name, transform=axes[row][0].transAxes, ha="right", va="center", fontsize=9
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def captioned_faces(x: np.ndarray, rows: dict[str, list[tuple[int, str]]], title: str) -> Figure:
    """One row of faces per key of ``rows``, each face ``x[i]`` under its caption."""
    cols = max(1, max((len(v) for v in rows.values()), default=1))
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 1.3, len(rows) * 1.45), squeeze=False)
    for r, (name, faces) in enumerate(rows.items()):
        for col, ax in enumerate(axes[r]):
            ax.set_axis_off()
            if col < len(faces):
                ax.imshow(x[faces[col][0]], cmap="gray", vmin=0, vmax=255)
                ax.set_title(faces[col][1], fontsize=7)
        axes[r][0].text(
            -0.15, 0.5, name, transform=axes[r][0].transAxes, ha="right", va="center", fontsize=9
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def label_agreement(comparison: LabelComparison) -> Figure:
    """Where FER2013's label and the crowd's majority part: each label's faces by the
    crowd's majority, as shares of the row."""
    table = comparison.confusion()
    shares = table.div(table.sum(axis=1).clip(lower=1), axis=0).to_numpy()
    title = "Where FER2013's label and the crowd part"
    return confusion(shares, title, rows="FER2013's label", columns="the crowd's majority")


def disagreements(x: np.ndarray, comparison: LabelComparison, per_class: int) -> Figure:
    """Faces (``x``: the FER+ store's) that FER2013 labels as their row says, under what
    the crowd's majority saw."""
    apart = comparison.disagreements(per_class)
    rows = {
        label: [(i, f"crowd: {seen}") for i, seen in zip(part["index"], part["crowd"], strict=True)]
        for label, part in apart.groupby("FER2013", sort=False)
    }
    title = "Faces FER2013 labels as the row says, and what the crowd saw"
    return captioned_faces(x, rows, title)


def image_file(path: str | Path) -> Any:
    """An image file for ``IPython.display.display`` (so the executed notebook embeds it)."""
    from IPython.display import Image

    return Image(filename=str(path))
