"""Metrics for a classifier on a labelled test set, and the ``metrics.json`` they go into."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from capstone.params import CLASSES


def predict(
    model: Any, x: np.ndarray, batch_size: int = 256, tta_flip: bool = False, tta_shift: int = 0
) -> np.ndarray:
    """Class probabilities for uint8 images ``x`` of shape ``(n, 48, 48)``.

    Test-time augmentation averages the predictions of several views of each face: with
    ``tta_shift = s > 0`` the face moved ``s`` pixels up, down, left and right (the border
    pixels repeated), and with ``tta_flip`` the mirror image of every view. Views are combined
    by the normalised geometric mean, i.e. the softmax of the averaged logits, so that a
    temperature and class offsets folded into the model apply to it exactly.
    """
    views = [x] + [shift_faces(x, dy, dx) for dy, dx in _shifts(tta_shift)]
    if tta_flip:
        views += [v[:, :, ::-1] for v in views]
    outputs = [
        np.asarray(
            model.predict(
                v[..., None].astype(np.float32) / 255.0, batch_size=batch_size, verbose=0
            ),
            np.float64,
        )
        for v in views
    ]
    if len(outputs) == 1:
        return outputs[0]  # as the model gives it (also used to read a layer's features)
    log_mean = np.mean([np.log(np.clip(p, 1e-12, 1)) for p in outputs], axis=0)
    probs = np.exp(log_mean - log_mean.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


def shift_faces(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Faces ``x`` (n, h, w) moved ``dy`` pixels down and ``dx`` right, border pixels repeated."""
    h, w = x.shape[1:]
    if max(abs(dy), abs(dx)) >= min(h, w):
        raise ValueError(f"a shift of ({dy}, {dx}) pixels leaves nothing of a {h}x{w} face")
    pad = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    return padded[:, pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def _shifts(pixels: int) -> list[tuple[int, int]]:
    if pixels < 0:
        raise ValueError(f"tta_shift must be 0 (off) or a number of pixels, got {pixels}")
    return [(pixels, 0), (-pixels, 0), (0, pixels), (0, -pixels)] if pixels else []


def classification_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1 and a row-normalised confusion matrix.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``n``, ``per_class`` (a mapping class -> precision,
        recall, f1, support) and ``confusion`` (rows: true class, columns: predicted; each
        row sums to 1, or to 0 for a class absent from the test set).
    """
    y_true = np.asarray(y_true)
    if probs.ndim != 2 or probs.shape != (len(y_true), len(CLASSES)):
        raise ValueError(
            f"probs must have shape ({len(y_true)}, {len(CLASSES)}), got {probs.shape}"
        )
    y_pred = probs.argmax(axis=1)
    labels = np.arange(len(CLASSES))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    counts = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    rows = counts.sum(axis=1, keepdims=True)
    confusion = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    return {
        "n": len(y_true),
        "accuracy": float((y_pred == y_true).mean()),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "per_class": {
            c: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(CLASSES)
        },
        "confusion": confusion.round(4).tolist(),
    }


BOOTSTRAP_RESAMPLES = 1000  # resamples of the test images behind every 95% interval
BOOTSTRAP_SEED = 0


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


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = len(CLASSES)) -> float:
    """Macro-F1 over classes ``0 .. n_classes - 1``, a class absent from both counting as 0
    (as in :func:`classification_metrics`); plain numpy, fast enough for search loops."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    total = np.bincount(y_true, minlength=n_classes) + np.bincount(y_pred, minlength=n_classes)
    return float(np.mean(np.divide(2 * hits, total, out=np.zeros(n_classes), where=total > 0)))


def resampled_scores(
    y_true: np.ndarray, y_pred: np.ndarray, indices: np.ndarray
) -> dict[str, np.ndarray]:
    """Accuracy and macro-F1 per row of ``indices``: one figure per resample of the test set."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {
        "accuracy": np.array([np.mean(y_true[row] == y_pred[row]) for row in indices]),
        "macro_f1": np.array([macro_f1(y_true[row], y_pred[row]) for row in indices]),
    }


def intervals(y_true: np.ndarray, probs: np.ndarray) -> dict[str, list[float]]:
    """95% bootstrap intervals (percentile) of accuracy and macro-F1 on this test set:
    how much the figures would move on another draw of as many test images."""
    indices = bootstrap_indices(len(y_true))
    scores = resampled_scores(y_true, probs.argmax(axis=1), indices)
    return {f"{name}_95ci": _percentiles(values) for name, values in scores.items()}


def paired_difference(
    y_true: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray
) -> dict[str, float | list[float]]:
    """Model a minus model b on one test set: the accuracy and macro-F1 differences and their
    95% intervals, both models scored on the same resamples (a paired bootstrap). An interval
    above 0 says a beats b by more than the test set's sampling noise."""
    pred_a, pred_b = probs_a.argmax(axis=1), probs_b.argmax(axis=1)
    indices = bootstrap_indices(len(y_true))
    a, b = (resampled_scores(y_true, p, indices) for p in (pred_a, pred_b))
    return {
        "accuracy_difference": round(
            float(np.mean(pred_a == y_true) - np.mean(pred_b == y_true)), 4
        ),
        "accuracy_difference_95ci": _percentiles(a["accuracy"] - b["accuracy"]),
        "macro_f1_difference": round(macro_f1(y_true, pred_a) - macro_f1(y_true, pred_b), 4),
        "macro_f1_difference_95ci": _percentiles(a["macro_f1"] - b["macro_f1"]),
    }


def _percentiles(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in np.percentile(values, [2.5, 97.5])]


def majority_probs(y_train: np.ndarray, n: int) -> np.ndarray:
    """Probabilities of the majority-class baseline: always the most frequent training class."""
    probs = np.zeros((n, len(CLASSES)))
    probs[:, np.bincount(y_train, minlength=len(CLASSES)).argmax()] = 1.0
    return probs


def throughput(
    model: Any,
    x: np.ndarray,
    batch_size: int = 256,
    single: int = 32,
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, float]:
    """Images per second, batched and one image at a time (after one warm-up call each).

    ``prepare`` turns the uint8 faces into the model's input (default: ``x / 255`` with a
    channel axis); its time counts.
    """
    start = time.perf_counter()
    inputs = prepare(x) if prepare else x[..., None].astype(np.float32) / 255.0
    prep_per_image = (time.perf_counter() - start) / len(x)
    model.predict(inputs[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.predict(inputs, batch_size=batch_size, verbose=0)
    batched = 1 / ((time.perf_counter() - start) / len(inputs) + prep_per_image)
    one = inputs[:1]
    model(one, training=False)
    start = time.perf_counter()
    for i in range(min(single, len(inputs))):
        model(inputs[i : i + 1], training=False)
    single_rate = 1 / ((time.perf_counter() - start) / min(single, len(inputs)) + prep_per_image)
    return {"batched_images_per_s": round(batched, 1), "single_images_per_s": round(single_rate, 1)}


def per_class_table(metrics: dict[str, Any]) -> Any:
    """The per-class precision/recall/F1/support of :func:`classification_metrics` as a DataFrame."""
    import pandas as pd

    table = pd.DataFrame(metrics["per_class"]).T
    table["support"] = table["support"].astype(int)
    return table.round(3)


def summary_row(metrics: dict[str, Any]) -> dict[str, float]:
    """Accuracy and macro-F1, rounded for display."""
    return {"accuracy": round(metrics["accuracy"], 4), "macro_f1": round(metrics["macro_f1"], 4)}


# The seed project's published figures: quoted, never measured here. They were measured on
# the seed's own validation split, so they are not comparable with the rows measured here.
SEED_PUBLISHED = {
    "model": "seed project (published)",
    "test set": "the seed's own validation split",
    "accuracy": 0.56,
    "F1 disgust": 0.00,
    "F1 fear": 0.26,
}

# Confusions that change a coaching conversation: a neutral rep read as sad, a surprised
# prospect read as happy, irritation read as disgust.
SALES_PAIRS = (("neutral", "sad"), ("happy", "surprise"), ("angry", "disgust"))


def confusion_pairs(
    metrics: dict[str, Any], pairs: Sequence[tuple[str, str]] = SALES_PAIRS
) -> list[dict[str, Any]]:
    """For each pair ``(a, b)``: the share of true ``a`` predicted ``b``, and the reverse."""
    matrix = np.asarray(metrics["confusion"])
    index = {c: i for i, c in enumerate(CLASSES)}
    return [
        {
            "pair": f"{a} / {b}",
            f"{a} read as {b}": float(matrix[index[a], index[b]]),
            f"{b} read as {a}": float(matrix[index[b], index[a]]),
        }
        for a, b in pairs
    ]


def confident_mistakes(
    probs: np.ndarray, y: np.ndarray, per_class: int = 6
) -> dict[str, np.ndarray]:
    """For each true class, the indices of its ``per_class`` most confident wrong predictions."""
    y = np.asarray(y)
    pred, confidence = probs.argmax(axis=1), probs.max(axis=1)
    out = {}
    for k, name in enumerate(CLASSES):
        wrong = np.flatnonzero((y == k) & (pred != k))
        out[name] = wrong[np.argsort(-confidence[wrong], kind="stable")][:per_class]
    return out


def score(y: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """:func:`classification_metrics`, the 95% intervals of accuracy and macro-F1
    (:func:`intervals`) and the expected calibration error (``ece``)."""
    from capstone.calibration import expected_calibration_error

    return {
        **classification_metrics(y, probs),
        **intervals(y, probs),
        "ece": expected_calibration_error(probs, y),
    }


def model_entry(
    kind: str,
    predict_fn: Callable[[np.ndarray], np.ndarray],
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    model: Any = None,
    file: Path | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One model's ``metrics.json`` entry: scores on every test set, size, speed.

    ``predict_fn`` maps uint8 faces to probabilities in :data:`CLASSES` order. ``model``
    (a Keras model) adds the parameter count; ``file`` the size on disk; ``extra`` is copied
    in (e.g. ``tta_flip``, ``speed``, ``description``).
    """
    entry: dict[str, Any] = {"kind": kind, **extra}
    if file is not None:
        entry["size_bytes"] = Path(file).stat().st_size
    if model is not None:
        entry["parameters"] = int(model.count_params())
    entry["test_sets"] = {name: score(y, predict_fn(x)) for name, (x, y) in test_sets.items()}
    return entry


def remembered(
    predict_fn: Callable[[np.ndarray], np.ndarray],
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict_fn`` that predicts each array once: a later call with the same array object
    (a test set scored, then compared) returns the first answer."""
    answers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def predict_once(x: np.ndarray) -> np.ndarray:
        if id(x) not in answers:
            answers[id(x)] = (x, predict_fn(x))  # x is kept, so its id is not reused
        return answers[id(x)][1]

    return predict_once


def compare(
    a: tuple[str, Callable[[np.ndarray], np.ndarray]],
    b: tuple[str, Callable[[np.ndarray], np.ndarray]],
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
) -> list[dict[str, Any]]:
    """``metrics.json``'s ``comparisons`` rows: :func:`paired_difference` of model ``a`` minus
    model ``b`` on every test set; each model is a ``(name, predict_fn)`` pair as in
    :func:`model_entry`."""
    (name_a, predict_a), (name_b, predict_b) = a, b
    return [
        {"a": name_a, "b": name_b, "test_set": test}
        | paired_difference(y, predict_a(x), predict_b(x))
        for test, (x, y) in test_sets.items()
    ]
