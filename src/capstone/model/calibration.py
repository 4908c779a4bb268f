"""After training: a refitted last layer, then calibrated probabilities fitted on validation.

A network trained with augmentation, label smoothing and dropout ends with a last layer fitted
to noisy, smoothed targets. Three post-hoc steps finish it without touching the features:

* **head refit** fits the last ``Dense`` layer again, as a multinomial logistic regression on
  the clean training images (and their mirror images), without smoothing or dropout
  (classifier re-training, Kang et al. 2020); it is fitted on the training split only;
* **temperature scaling** divides the logits by one number ``T``, chosen to minimise the
  validation log-loss; it changes how confident the model is, not what it predicts;
* **class offsets** add one number per class to the scaled logits, chosen to maximise the
  validation macro-F1 (post-hoc logit adjustment); they trade a little accuracy on the common
  classes for recall on the rare ones. Seven numbers fitted to the same 3,500 faces they are
  scored on can overfit, so they are kept only if they raise macro-F1 on held-out halves of
  the validation split (:func:`offsets_heldout`).

All are affine in the logits, so :func:`finalize` folds them into the last ``Dense`` layer,
and the test-time views that help go into the graph too
(:func:`capstone.model.released.self_contained`): the released model outputs the corrected
probabilities by itself.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression

from capstone.metrics import check_probs, expected_calibration_error, macro_f1, majority
from capstone.model.architectures import INPUT_SHAPE, build
from capstone.model.calibration_record import CalibrationRecord, HeadRefit, OffsetsHeldOut
from capstone.model.released import predict, self_contained

HEAD_REFIT_C = 1.0  # inverse L2 strength of the head refit's logistic regression


def log_probs(probs: np.ndarray) -> np.ndarray:
    """Logits up to a per-row constant: the log of softmax probabilities."""
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0))


def adjust(
    probs: np.ndarray, temperature: float = 1.0, offsets: np.ndarray | None = None
) -> np.ndarray:
    """``softmax(log(probs) / temperature + offsets)``, row by row."""
    z = log_probs(probs) / temperature
    if offsets is not None:
        z = z + np.asarray(offsets)[None, :]
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the log-loss of ``adjust(probs, T)`` on ``y``.

    ``y`` holds class indices, or target distributions such as a crowd's vote shares: then
    the cross-entropy against them is minimised, so that a reading of 40% comes to mean that
    about 4 in 10 people would see the face that way.
    """
    y = np.asarray(y)
    check_probs(probs, y)
    targets = y if y.ndim == 2 else np.eye(probs.shape[1])[y]

    def nll(log_t: float) -> float:
        p = adjust(probs, float(np.exp(log_t)))
        return float(-(targets * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=1).mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def fit_class_offsets(
    probs: np.ndarray,
    y: np.ndarray,
    temperature: float = 1.0,
    grid: np.ndarray | None = None,
    rounds: int = 3,
) -> np.ndarray:
    """Per-class logit offsets that maximise macro-F1 of the adjusted predictions on ``y``.

    Coordinate ascent: each round tries every value of ``grid`` for each class in turn, the
    others fixed, and keeps the best (ties keep the smaller change). The result is centred
    (offsets that differ by a constant give the same probabilities).
    """
    y = np.asarray(y)
    check_probs(probs, y)
    grid = np.round(np.arange(-1.5, 1.51, 0.05), 2) if grid is None else np.asarray(grid)
    z = log_probs(probs) / temperature
    n_classes = probs.shape[1]
    labels = np.arange(n_classes)
    offsets = np.zeros(n_classes)

    def score(d: np.ndarray) -> float:
        return macro_f1(y, (z + d).argmax(axis=1), n_classes)

    best = score(offsets)
    for _ in range(rounds):
        improved = False
        for k in labels:
            for value in sorted(grid, key=lambda v: abs(v - offsets[k])):
                trial = offsets.copy()
                trial[k] = value
                s = score(trial)
                if s > best + 1e-9:
                    best, offsets, improved = s, trial, True
        if not improved:
            break
    return offsets - offsets.mean()


def offsets_heldout(
    probs: np.ndarray, y: np.ndarray, temperature: float = 1.0, repeats: int = 5, seed: int = 0
) -> dict[str, float]:
    """Macro-F1 with and without class offsets, each time on data they were not fitted on.

    The split is cut in random halves ``repeats`` times; offsets fitted on one half are
    scored on the other, and the other way round. Returns the mean held-out macro-F1 and
    accuracy without offsets and with them.
    """
    y = np.asarray(y)
    check_probs(probs, y)
    rng = np.random.default_rng(seed)
    rows: dict[str, list[float]] = {
        k: [] for k in ("f1_without", "f1_with", "acc_without", "acc_with")
    }
    for _ in range(repeats):
        order = rng.permutation(len(y))
        halves = (order[: len(y) // 2], order[len(y) // 2 :])
        for fit, held in (halves, halves[::-1]):
            offsets = fit_class_offsets(probs[fit], y[fit], temperature)
            for key, off in (("without", None), ("with", offsets)):
                pred = adjust(probs[held], temperature, off).argmax(axis=1)
                rows[f"f1_{key}"].append(macro_f1(y[held], pred, probs.shape[1]))
                rows[f"acc_{key}"].append(float((pred == y[held]).mean()))
    return {k: round(float(np.mean(v)), 4) for k, v in rows.items()}


def head_features(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """What the last ``Dense`` layer of ``model`` reads, for uint8 images ``x`` (n, 48, 48)."""
    features = keras.Model(model.inputs, _linear_head(model).input)
    return predict(features, x, batch_size).astype(np.float32)


def refit_head(
    model: keras.Model,
    train_xy: tuple[np.ndarray, np.ndarray],
    batch_size: int = 256,
    c: float = HEAD_REFIT_C,
) -> tuple[np.ndarray, np.ndarray]:
    """A new kernel and bias for the last ``Dense`` layer, fitted on clean training images.

    The features of every training image and of its mirror image are computed once; a
    multinomial logistic regression (L2 penalty, inverse strength ``c``, no class weights)
    is fitted on them. The labels are class indices, or target distributions such as a
    crowd's vote shares: then each face counts once for every class it has a share of,
    weighted by that share, which minimises the cross-entropy against the shares (fitted
    on their majority instead, the head learns one annotator's certainty back). Deterministic
    for given inputs.
    """
    x, y = train_xy
    features = np.concatenate(
        [head_features(model, x, batch_size), head_features(model, x[:, :, ::-1], batch_size)]
    )
    n_classes = _linear_head(model).units
    shares = np.concatenate([y, y]) if y.ndim == 2 else np.eye(n_classes)[np.concatenate([y, y])]
    face, label = np.nonzero(shares)
    if set(np.unique(label)) != set(range(n_classes)):
        raise ValueError(f"refit_head needs training images of all {n_classes} classes")
    fit = LogisticRegression(C=c, max_iter=1000).fit(
        features[face], label, sample_weight=shares[face, label]
    )
    return fit.coef_.T.astype(np.float32), fit.intercept_.astype(np.float32)


def confidence_threshold(probs: np.ndarray, y: np.ndarray, target: float = 0.7) -> float:
    """The lowest confidence at which the readings shown are right at least ``target`` of the time.

    Among the predictions whose top probability is at least the returned threshold, the
    accuracy on ``y`` is ``target`` or more; readings below it are called "uncertain".
    Searched on a grid from 0.2 to 0.95 in steps of 0.05.
    """
    y = np.asarray(y)
    check_probs(probs, y)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    for t in np.round(np.arange(0.2, 0.951, 0.05), 2):
        shown = confidence >= t
        if shown.any() and correct[shown].mean() >= target:
            return float(t)
    return 0.95


def finalize(
    model: keras.Model,
    architecture: str,
    width: int,
    *,
    temperature: float = 1.0,
    offsets: np.ndarray | None = None,
    head: tuple[np.ndarray, np.ndarray] | None = None,
    fused_batch_norm: bool = True,
) -> keras.Model:
    """A float32 copy of ``model`` whose output already includes the temperature and offsets.

    The last ``Dense`` layer's weights ``W, b`` (or ``head``, from :func:`refit_head`)
    become ``W / T`` and ``b / T + offsets``, so ``softmax`` of its output equals
    :func:`adjust` of the probabilities before. The copy has no optimizer state, which keeps
    the file small; with ``fused_batch_norm=False`` it holds only stock Keras layers, so it
    loads with plain Keras on any backend.
    """
    final = build(architecture, width, fused_batch_norm=fused_batch_norm)
    final.set_weights(model.get_weights())
    dense = _linear_head(final, architecture)
    kernel, bias = dense.get_weights() if head is None else head
    shift = np.zeros_like(bias) if offsets is None else np.asarray(offsets, dtype=bias.dtype)
    dense.set_weights([kernel / temperature, bias / temperature + shift])
    if final.input_shape[1:] != INPUT_SHAPE:
        raise ValueError(f"unexpected input shape {final.input_shape}")
    return final


def _linear_head(model: keras.Model, name: str | None = None) -> keras.layers.Dense:
    """The linear ``Dense`` layer before ``model``'s softmax, or a ``ValueError``."""
    dense = model.layers[-2]
    if (
        not isinstance(dense, keras.layers.Dense)
        or dense.activation is not keras.activations.linear
    ):
        raise ValueError(
            f"{name or model.name}: the layer before the softmax must be a linear Dense layer "
            f"to refit or fold calibration into it, got {type(dense).__name__}"
        )
    return dense


def calibrate(
    model: keras.Model,
    architecture: str,
    width: int,
    val_xy: tuple[np.ndarray, np.ndarray],
    *,
    batch_size: int = 256,
    try_flip: bool = True,
    train_xy: tuple[np.ndarray, np.ndarray] | None = None,
    try_shift: int = 0,
) -> tuple[keras.Model, CalibrationRecord]:
    """Fit every post-hoc choice and fold it into a final model.

    In order, each kept only if it helps on data it was not fitted on: the head refit on
    ``train_xy`` (if given; kept if it raises validation accuracy), flip test-time
    augmentation (if ``try_flip``; kept if it raises validation accuracy), shift test-time
    augmentation (if ``try_shift`` pixels; kept if it raises validation accuracy further; see
    :func:`capstone.model.released.views`), the temperature (fitted on validation; it never
    changes a prediction), then the class offsets (fitted on validation, kept if they raise
    macro-F1 on held-out halves of it). Returns the final network (bare: wrap it with
    :func:`capstone.model.released.self_contained` and the record's ``tta_flip`` and ``tta_shift``)
    and a record of each choice with the validation accuracy, macro-F1 and ECE after it.

    The validation labels may be a crowd's vote shares ``(n, classes)``: the temperature is
    then fitted to the shares, so that a reading of 40% means that about 4 in 10 people would
    see the face that way, and the class offsets are measured but never kept (they would
    move the readings away from the shares); every other choice, and the scores, use the
    crowd's majority.
    """
    x, targets = val_xy
    y = majority(targets)

    def scores(probs: np.ndarray) -> dict[str, float]:
        return {
            "accuracy": float(np.mean(probs.argmax(axis=1) == y)),
            "macro_f1": macro_f1(y, probs.argmax(axis=1), probs.shape[1]),
            "ece": expected_calibration_error(probs, y),
        }

    plain = predict(model, x, batch_size)
    steps = {"trained": scores(plain)}
    current = steps["trained"]
    head = None
    if train_xy is not None:
        start = time.perf_counter()
        refitted_head = refit_head(model, train_xy, batch_size)
        seconds = round(time.perf_counter() - start, 1)
        refitted = finalize(model, architecture, width, head=refitted_head)
        refitted_plain = predict(refitted, x, batch_size)
        steps["head_refit"] = scores(refitted_plain)
        kept = steps["head_refit"]["accuracy"] > current["accuracy"]
        head = HeadRefit(kept=bool(kept), c=HEAD_REFIT_C, seconds=seconds)
        if kept:
            model, plain = refitted, refitted_plain  # its last layer holds the new head
            current = steps["head_refit"]
    tta: dict[str, Any] = {"tta_flip": False, "tta_shift": 0}
    probs = plain
    trials: list[tuple[str, dict[str, Any]]] = [
        ("flip_tta", {"tta_flip": try_flip}),
        ("shift_tta", {"tta_shift": try_shift}),
    ]
    for step, trial in trials:
        if not any(trial.values()):
            continue  # not asked for
        augmented = predict(self_contained(model, **(tta | trial)), x, batch_size)
        steps[step] = scores(augmented)
        if steps[step]["accuracy"] > current["accuracy"]:
            tta, probs, current = tta | trial, augmented, steps[step]
    temperature = fit_temperature(probs, targets)
    steps["temperature"] = scores(adjust(probs, temperature))
    temperature = round(temperature, 4)
    offsets = np.round(fit_class_offsets(probs, y, temperature), 4)
    steps["class_offsets"] = scores(adjust(probs, temperature, offsets))
    held = offsets_heldout(probs, y, temperature)
    crowd = targets.ndim == 2  # readings that are a crowd's shares stay its shares
    heldout = OffsetsHeldOut(kept=not crowd and held["f1_with"] > held["f1_without"], **held)
    if not heldout.kept:
        offsets = np.zeros_like(offsets)
    finished = adjust(probs, temperature, offsets)
    threshold = confidence_threshold(finished, y)
    record = CalibrationRecord(
        temperature=temperature,
        class_offsets=[float(v) for v in offsets],
        uncertain_below=threshold,
        shown_share=float((finished.max(axis=1) >= threshold).mean()),
        validation=steps,
        tta_flip=bool(tta["tta_flip"]),
        tta_shift=int(tta["tta_shift"]),
        head_refit=head,
        class_offsets_heldout=heldout,
    )
    final = finalize(
        model, architecture, width, temperature=temperature, offsets=offsets, fused_batch_norm=False
    )
    return final, record
