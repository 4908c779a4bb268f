"""Scores of a classifier: accuracy, macro-F1, calibration error, reliability, bootstrap,
and agreement with a crowd's votes.

A leaf module: plain numpy (and scikit-learn's per-class counts), nothing of the project's
own, so that calibration, evaluation and the benchmarks all import it and none of them
imports another. Classes are numbered ``0 .. k - 1``; functions that name them take the
names as an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

BOOTSTRAP_RESAMPLES = 1000  # resamples of the test images behind every 95% interval
BOOTSTRAP_SEED = 0


def majority(y: np.ndarray) -> np.ndarray:
    """Class indices as they are; each target distribution's (a crowd's shares') top class."""
    y = np.asarray(y)
    return y if y.ndim == 1 else y.argmax(axis=1)


def check_probs(probs: np.ndarray, y: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``probs`` is ``(n, classes)`` with ``n = len(y) > 0``."""
    if probs.ndim != 2 or len(probs) != len(y) or len(y) == 0:
        raise ValueError(
            f"probs must be (n, classes) with n = len(y) = {len(y)} > 0, got {probs.shape}"
        )


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over classes ``0 .. n_classes - 1``, a class absent from both counting as 0
    (as in :func:`classification_metrics`); plain numpy, fast enough for search loops."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    total = np.bincount(y_true, minlength=n_classes) + np.bincount(y_pred, minlength=n_classes)
    return float(np.mean(np.divide(2 * hits, total, out=np.zeros(n_classes), where=total > 0)))


def classification_metrics(
    y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1 and a row-normalised confusion matrix.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``n``, ``per_class`` (a mapping class -> precision,
        recall, f1, support) and ``confusion`` (rows: true class, columns: predicted; each
        row sums to 1, or to 0 for a class absent from the test set).
    """
    y_true = np.asarray(y_true)
    if probs.ndim != 2 or probs.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"probs must have shape ({len(y_true)}, {len(classes)}), got {probs.shape}"
        )
    y_pred = probs.argmax(axis=1)
    labels = np.arange(len(classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    rows = counts.sum(axis=1, keepdims=True)
    confusion = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    return {
        "n": len(y_true),
        "accuracy": float((y_pred == y_true).mean()),
        "macro_f1": macro_f1(y_true, y_pred, len(classes)),
        "per_class": {
            c: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        "confusion": confusion.round(4).tolist(),
    }


@dataclass(frozen=True)
class CrowdAgreement:
    """How a model's readings agree with a crowd of taggers on ``n`` faces.

    ``majority_accuracy``: the share of faces whose top reading is the crowd's most-voted
    class (``per_class``: the same among the faces of each majority class).
    ``cross_entropy``: of the readings against the crowd's vote shares, in nats; it cannot
    fall below ``crowd_entropy``, the crowd's own disagreement. ``total_variation``: half the
    summed absolute difference between readings and shares, from 0 (the same) to 1.
    """

    n: int
    majority_accuracy: float
    per_class: dict[str, float]
    cross_entropy: float
    total_variation: float
    crowd_entropy: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def crowd_agreement(
    shares: np.ndarray, probs: np.ndarray, classes: Sequence[str]
) -> CrowdAgreement:
    """Agreement of ``probs`` with the crowd's vote ``shares`` (both ``(n, classes)``).

    Pass faces with a clear majority for :attr:`CrowdAgreement.majority_accuracy` to mean
    what it says: the majority is the argmax of ``shares``.
    """
    shares, probs = np.asarray(shares, np.float64), np.asarray(probs, np.float64)
    if shares.shape != probs.shape or shares.ndim != 2 or shares.shape[1] != len(classes):
        raise ValueError(
            f"shares and probs must both be (n, {len(classes)}), got {shares.shape}, {probs.shape}"
        )
    check_probs(probs, shares)
    majority, hit = shares.argmax(axis=1), probs.argmax(axis=1) == shares.argmax(axis=1)
    log_p = np.log(np.clip(probs, 1e-7, 1.0))
    log_s = np.log(np.where(shares > 0, shares, 1.0))
    return CrowdAgreement(
        n=len(shares),
        majority_accuracy=float(hit.mean()),
        per_class={
            c: float(hit[majority == i].mean())
            for i, c in enumerate(classes)
            if (majority == i).any()
        },
        cross_entropy=float(-(shares * log_p).sum(axis=1).mean()),
        total_variation=float(0.5 * np.abs(shares - probs).sum(axis=1).mean()),
        crowd_entropy=float(-(shares * log_s).sum(axis=1).mean()),
    )


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> list[dict[str, Any]]:
    """For each non-empty confidence bin: its range, count, mean confidence and accuracy."""
    y = np.asarray(y)
    check_probs(probs, y)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": int((index == b).sum()),
            "confidence": float(confidence[index == b].mean()),
            "accuracy": float(correct[index == b].mean()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    table = reliability(probs, y, bins)
    n = sum(row["count"] for row in table)
    return float(sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in table) / n)


def bootstrap_indices(
    n: int, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> np.ndarray:
    """``resamples`` rows of ``n`` indices drawn with replacement from ``range(n)``.

    The same ``n`` and ``seed`` give the same rows, so every model scored on one test set is
    resampled the same way and two models' intervals can be compared pair by pair.
    """
    if n < 1 or resamples < 1:
        raise ValueError(f"need at least one image and one resample, got n={n}, {resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def resampled_scores(
    y_true: np.ndarray, y_pred: np.ndarray, indices: np.ndarray, n_classes: int
) -> dict[str, np.ndarray]:
    """Accuracy and macro-F1 per row of ``indices``: one figure per resample of the test set."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {
        "accuracy": np.array([np.mean(y_true[row] == y_pred[row]) for row in indices]),
        "macro_f1": np.array([macro_f1(y_true[row], y_pred[row], n_classes) for row in indices]),
    }


def intervals(y_true: np.ndarray, probs: np.ndarray) -> dict[str, list[float]]:
    """95% bootstrap intervals (percentile) of accuracy and macro-F1 on this test set:
    how much the figures would move on another draw of as many test images."""
    indices = bootstrap_indices(len(y_true))
    scores = resampled_scores(y_true, probs.argmax(axis=1), indices, probs.shape[1])
    return {f"{name}_95ci": percentiles(values) for name, values in scores.items()}


def paired_difference(
    y_true: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray
) -> dict[str, float | list[float]]:
    """Model a minus model b on one test set: the accuracy and macro-F1 differences and their
    95% intervals, both models scored on the same resamples (a paired bootstrap). An interval
    above 0 says a beats b by more than the test set's sampling noise."""
    k = probs_a.shape[1]
    pred_a, pred_b = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    indices = bootstrap_indices(len(y_true))
    a, b = (resampled_scores(y_true, p, indices, k) for p in (pred_a, pred_b))
    return {
        "accuracy_difference": round(
            float(np.mean(pred_a == y_true) - np.mean(pred_b == y_true)), 4
        ),
        "accuracy_difference_95ci": percentiles(a["accuracy"] - b["accuracy"]),
        "macro_f1_difference": round(macro_f1(y_true, pred_a, k) - macro_f1(y_true, pred_b, k), 4),
        "macro_f1_difference_95ci": percentiles(a["macro_f1"] - b["macro_f1"]),
    }


def percentiles(values: np.ndarray) -> list[float]:
    """The 2.5th and 97.5th percentiles, rounded: a 95% percentile interval."""
    return [round(float(v), 4) for v in np.percentile(values, [2.5, 97.5])]


def share_reliability(
    shares: np.ndarray, probs: np.ndarray, bins: int = 10
) -> list[dict[str, Any]]:
    """What a reading of ``p`` means: for each bin of readings, the crowd's share behind them.

    Every (face, class) pair counts once: the reading ``probs[i, c]`` is put in one of
    ``bins`` equal-width bins, and each non-empty bin gives its range, ``count`` of pairs,
    mean ``reading`` and mean crowd ``share`` (``shares[i, c]``). Readings calibrated to the
    crowd lie on the diagonal: among readings of about 40%, about 40% of people saw that class.
    """
    shares, probs = np.asarray(shares, np.float64), np.asarray(probs, np.float64)
    if shares.shape != probs.shape or shares.ndim != 2 or len(shares) == 0:
        raise ValueError(
            f"shares and probs must both be (n, classes) with n > 0, got {shares.shape}, "
            f"{probs.shape}"
        )
    reading, share = probs.ravel(), shares.ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(reading, edges[1:-1]), 0, bins - 1)
    return [
        {
            "low": round(float(edges[b]), 4),
            "high": round(float(edges[b + 1]), 4),
            "count": int((index == b).sum()),
            "reading": float(reading[index == b].mean()),
            "share": float(share[index == b].mean()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> list[list[int]]:
    """How many faces of each true class (rows) were read as each class (columns)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"need two 1-d label arrays of one length, got {y_true.shape}, {y_pred.shape}"
        )
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts.tolist()


def wilson_interval(hits: int, n: int, z: float = 1.96) -> list[float]:
    """The 95% Wilson score interval of a proportion ``hits / n`` (``[0, 1]`` when ``n`` is 0):
    where the share would likely fall on another draw of ``n`` faces."""
    if n < 0 or not 0 <= hits <= max(n, 0):
        raise ValueError(f"need 0 <= hits <= n, got hits={hits}, n={n}")
    if n == 0:
        return [0.0, 1.0]
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(max(0.0, centre - half)), 4), round(float(min(1.0, centre + half)), 4)]
