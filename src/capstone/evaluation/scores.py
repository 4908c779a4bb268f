"""Scores of every model on every test set, and the ``metrics.json`` they go into.

The scores themselves are in :mod:`capstone.metrics`; predictions come from
:func:`capstone.model.released.predict`, so every model is read the way annotation reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from capstone import metrics
from capstone.labels import CLASSES, network_inputs
from capstone.media import load_image
from capstone.metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    majority,
    paired_difference,
)
from capstone.model.released import is_self_contained, load_model, predict
from capstone.reading.classify import classify_faces


def classification_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """:func:`capstone.metrics.classification_metrics` with the project's class names;
    ``y_true`` holds class indices, or a crowd's vote shares (scored on its majority)."""
    return metrics.classification_metrics(majority(y_true), probs, CLASSES)


def annotation_scores(
    model: Any,
    files: Sequence[Path],
    y: np.ndarray,
    *,
    detector: str = "mtcnn",
    uncertain_below: float = 0.4,
    min_face: int = 24,
    crop: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """How annotation itself reads labelled image files: detect, crop, classify, as
    ``capstone annotate`` does, scored on the largest face of each image.

    A missed face, a face too small to read or an "uncertain" reading counts as wrong (for
    macro-F1, as a prediction of no class). Returns ``n``, ``face_found`` and ``uncertain``
    (shares of the images), ``accuracy`` and ``macro_f1``, and ``accuracy_every_face`` and
    ``macro_f1_every_face``: the same with the top class of every face found shown, as with
    ``uncertain_below`` 0.
    """
    y = np.asarray(y)
    pred, top, found, unsure = [], [], [], []
    for path in tqdm(files, desc="annotate", disable=not progress, mininterval=5):
        faces = classify_faces(
            load_image(path),
            model,
            detector=detector,
            uncertain_below=uncertain_below,
            min_face=min_face,
            crop=crop,
        )
        face = max(faces, key=lambda f: f.box[2] * f.box[3], default=None)
        found.append(face is not None)
        unsure.append(face is not None and face.status == "uncertain")
        expression = face.expression if face is not None else None
        ok = face is not None and face.status == "ok"
        pred.append(CLASSES.index(expression) if ok and expression else len(CLASSES))
        top.append(CLASSES.index(expression) if expression else len(CLASSES))
    k = len(CLASSES)

    def f1(p: list[int]) -> float:  # over the 7 real classes; "no class" counts as wrong
        return metrics.macro_f1(y, np.asarray(p), k + 1) * (k + 1) / k

    return {
        "n": len(y),
        "face_found": float(np.mean(found)),
        "uncertain": float(np.mean(unsure)),
        "accuracy": float(np.mean(np.asarray(pred) == y)),
        "macro_f1": f1(pred),
        "accuracy_every_face": float(np.mean(np.asarray(top) == y)),
        "macro_f1_every_face": f1(top),
    }


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

    ``prepare`` turns the uint8 faces into the model's input (default: none, for a
    self-contained model that reads uint8 crops); its time counts.
    """
    start = time.perf_counter()
    inputs = prepare(x) if prepare else x
    prep_per_image = (time.perf_counter() - start) / len(x)
    model.predict(inputs[:batch_size], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.predict(inputs, batch_size=batch_size, verbose=0)
    batched = 1 / ((time.perf_counter() - start) / len(inputs) + prep_per_image)
    model.predict_on_batch(inputs[:1])  # one image a call, as annotation reads a frame's face
    start = time.perf_counter()
    for i in range(min(single, len(inputs))):
        model.predict_on_batch(inputs[i : i + 1])
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
    (:func:`capstone.metrics.intervals`) and the expected calibration error (``ece``).

    ``y`` holds class indices, or a crowd's vote shares ``(n, classes)``: the scores are then
    of the crowd's majority, and ``crowd`` adds :func:`capstone.metrics.crowd_agreement`.
    """
    y = np.asarray(y)
    if y.ndim == 2:
        crowd = metrics.crowd_agreement(y, probs, CLASSES).to_dict()
        return {**score(majority(y), probs), "crowd": crowd}
    return {
        **classification_metrics(y, probs),
        **metrics.intervals(y, probs),
        "ece": metrics.expected_calibration_error(probs, y),
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


def keras_entry(
    kind: str,
    path: Path,
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    batch_size: int = 256,
    **extra: Any,
) -> tuple[dict[str, Any], Callable[[np.ndarray], np.ndarray]]:
    """:func:`model_entry` of the Keras model file at ``path``, with its speed on the FER2013
    test faces; returns the entry and the model's :func:`remembered` predictions."""
    model = load_model(path)
    predict_fn = remembered(lambda x: predict(model, x, batch_size))
    entry = model_entry(
        kind,
        predict_fn,
        test_sets,
        model=model,
        file=path,
        speed=throughput(model, test_sets["fer2013"][0], batch_size, prepare=_inputs_for(model)),
        **extra,
    )
    return entry, predict_fn


def _inputs_for(model: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """How :func:`throughput` feeds ``model``: crops as they are, or ``x / 255`` for a bare
    network."""
    if is_self_contained(model):
        return None
    return network_inputs


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
    """``metrics.json``'s ``comparisons`` rows: :func:`capstone.metrics.paired_difference` of model ``a`` minus
    model ``b`` on every test set; each model is a ``(name, predict_fn)`` pair as in
    :func:`model_entry`."""
    (name_a, predict_a), (name_b, predict_b) = a, b
    return [
        {"a": name_a, "b": name_b, "test_set": test}
        | paired_difference(majority(y), predict_a(x), predict_b(x))
        for test, (x, y) in test_sets.items()
    ]


__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "annotation_scores",
    "classification_metrics",
    "compare",
    "confident_mistakes",
    "confusion_pairs",
    "keras_entry",
    "majority_probs",
    "model_entry",
    "paired_difference",
    "per_class_table",
    "remembered",
    "score",
    "summary_row",
    "throughput",
]
