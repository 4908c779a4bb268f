"""Compile and fit: input batches, class weights, schedules, early stopping, atomic checkpoints.

The same code trains under every Keras 3 backend. Under TensorFlow the training images are
augmented in a ``tf.data`` pipeline (the CPU fast path); under JAX and PyTorch they come as
NumPy batches (:class:`~capstone.data.batches.ImageBatches`) and the augmentation layers
(:mod:`capstone.model.augmentation`) sit in front of the network inside the model being fitted, so
they run on the device. Either way the saved file holds the network alone.

:func:`train` runs one :class:`~capstone.params.TrainRun` (one or more phases, each
continuing from the previous weights) and leaves three files in ``out_dir``:
``<name>.keras`` (best weights on validation), ``<name>_history.csv`` and ``<name>.json``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from capstone import provenance
from capstone.artefacts import atomic_path, write_json
from capstone.data.batches import ImageBatches
from capstone.labels import CLASSES
from capstone.metrics import classification_metrics, majority
from capstone.model.architectures import INPUT_SHAPE, build
from capstone.model.backend import distribution_scope, effective_precision, gpu_visible, set_seed
from capstone.model.inputs import _low_resolution, class_weights, training_inputs
from capstone.model.released import predict
from capstone.params import TrainRun
from capstone.paths import ProjectPaths

log = logging.getLogger(__name__)


class AtomicCheckpoint(keras.callbacks.Callback):
    """Save ``network`` whenever ``monitor`` improves, via a temporary file and a rename.

    ``network`` is the model being trained, or the part of it that is saved (the fitted
    model may have augmentation layers in front of it). With ``template`` (the same
    architecture at the saved input size), the weights are copied into it and the template
    is saved instead.
    """

    def __init__(
        self,
        path: Path,
        network: keras.Model,
        monitor: str = "val_accuracy",
        template: keras.Model | None = None,
        best: float = -np.inf,
    ) -> None:
        super().__init__()
        self.path, self.monitor, self.best = Path(path), monitor, best
        self.network, self.template = network, template

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.keep((logs or {}).get(self.monitor, -np.inf))

    def keep(self, value: float) -> None:
        """Save the network if ``value`` (of ``monitor``) beats ``best``, the best so far."""
        if value > self.best:
            self.best = value
            saved = self.network
            if self.template is not None:
                self.template.set_weights(self.network.get_weights())
                saved = self.template
            with atomic_path(self.path) as tmp:
                saved.save(tmp)


class _HistoryAppender(keras.callbacks.Callback):
    """Append each epoch's figures to ``path`` as it ends, so that a run stopped mid-way
    keeps the history of the epochs its backup holds."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        row = pd.DataFrame([{"phase": 1, "epoch": epoch + 1, **(logs or {})}])
        if self.path.is_file():  # an epoch done again after a stop replaces its row
            kept = pd.read_csv(self.path)
            row = pd.concat([kept[kept["epoch"] != epoch + 1], row], ignore_index=True)
        with atomic_path(self.path) as tmp:
            row.to_csv(tmp, index=False)


def build_model(
    run: TrainRun,
    input_shape: tuple[Any, ...] = INPUT_SHAPE,
    fused_batch_norm: bool = True,
    allow_emulated: bool = False,
) -> keras.Model:
    """The run's architecture, with its layers in the precision this machine does best.

    See :func:`effective_precision`. When a run asks for ``mixed_bfloat16`` on a CPU that
    has no bf16 instructions, a warning says it trains in float32 instead: TensorFlow would
    emulate bf16, about 8x slower than float32 on a 2-core AMD EPYC.
    ``allow_emulated`` keeps the requested bf16 anyway (for the speed benchmark).
    """
    precision = effective_precision(run.precision)
    if run.precision == "mixed_bfloat16" and precision == "float32":
        if allow_emulated:
            precision = "mixed_bfloat16"
        else:
            log.warning(
                "%s: precision mixed_bfloat16 asked for, but this CPU has no bf16 instructions "
                "(avx512_bf16 or amx_bf16) and no GPU is visible, so bf16 would be emulated "
                "(about 8x slower, benchmarks/training_speed.py): training in float32 instead.",
                run.name,
            )
    keras.config.set_dtype_policy(precision)
    try:
        return build(run.architecture, run.width, input_shape, fused_batch_norm)
    finally:
        keras.config.set_dtype_policy("float32")


def train(
    run: TrainRun,
    train_xy: tuple[np.ndarray, np.ndarray],
    val_xy: tuple[np.ndarray, np.ndarray],
    out_dir: str | Path,
    *,
    seed: int,
    verbose: int | str = "auto",
    init_weights: str | Path | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, pd.DataFrame]:
    """Train ``run`` on ``train_xy``, validate on ``val_xy``, and save it under ``out_dir``.

    The labels are class indices, or target distributions such as a crowd's vote shares
    (soft targets: the loss is the cross-entropy against them, and accuracy counts the
    faces whose top reading is their top class).

    ``init_weights`` is a ``.keras`` model of the same architecture to start from
    (:func:`start_weights`); a run with no phases saves it as it is. ``callbacks`` are
    Keras callbacks to run as well in every full-size phase (e.g. to watch a test set).
    Returns the best model (by validation accuracy) and the per-epoch history.

    A ``keras.callbacks.BackupAndRestore`` among ``callbacks`` makes the run resumable (one
    full-size phase): it backs up the weights, the optimiser and the epoch after every epoch,
    and the same call after a stop goes on from the last epoch done, keeping the best
    network so far (its validation accuracy read from the history) and appending each
    epoch's figures to ``<name>_history.csv`` as it ends.
    """
    out_dir = Path(out_dir)
    set_seed(seed)
    scope = distribution_scope(run.distribution)
    with scope():
        if any(_low_resolution(p) for p in run.phases):  # any size while training; saved at 48
            model, template = build_model(run, (None, None, 1)), build_model(run)
        else:
            model, template = build_model(run), None
    if init_weights is not None:
        model.set_weights(keras.models.load_model(init_weights).get_weights())
    history_file = out_dir / f"{run.name}_history.csv"
    resumable = any(isinstance(c, keras.callbacks.BackupAndRestore) for c in callbacks or [])
    before = pd.read_csv(history_file) if resumable and history_file.is_file() else None
    best = before["val_accuracy"].max() if before is not None and len(before) else -np.inf
    checkpoint = AtomicCheckpoint(
        out_dir / f"{run.name}.keras", model, template=template, best=best
    )
    if resumable:
        if len(run.phases) != 1 or _low_resolution(run.phases[0]):
            raise ValueError("a resumable run has one phase, at the stored image size")
        callbacks = [_HistoryAppender(history_file), *(callbacks or [])]
    start = time.perf_counter()
    if run.phases:
        val_ds = ImageBatches(*val_xy, run.batch_size)
        histories = [
            _fit_phase(
                run,
                number,
                model,
                train_xy,
                val_ds,
                seed=seed + number,
                watching=[checkpoint, *(callbacks or [])],
                verbose=verbose,
            )
            for number in range(1, len(run.phases) + 1)
        ]
        history = pd.concat([before, *histories] if before is not None else histories)
        history = history.reset_index(drop=True)
    else:  # adopt the starting network as it is (saved with no optimizer)
        x_val, y_val = val_xy
        checkpoint.keep(float(np.mean(predict(model, x_val).argmax(axis=1) == majority(y_val))))
        history = pd.DataFrame(columns=["phase", "epoch", "accuracy", "val_accuracy"])
    seconds = time.perf_counter() - start
    with atomic_path(out_dir / f"{run.name}_history.csv") as tmp:
        history.to_csv(tmp, index=False)
    best = keras.models.load_model(out_dir / f"{run.name}.keras")
    write_json(
        out_dir / f"{run.name}.json",
        _record(
            run,
            best,
            best_val_accuracy=float(checkpoint.best),
            seconds=seconds,
            train_images=len(train_xy[1]),
            init_weights=init_weights,
            out_dir=out_dir,
        ),
    )
    return best, history


def _fit_phase(
    run: TrainRun,
    number: int,
    model: keras.Model,
    train_xy: tuple[np.ndarray, np.ndarray],
    val_ds: ImageBatches,
    *,
    seed: int,
    watching: list[keras.callbacks.Callback],
    verbose: int | str,
) -> pd.DataFrame:
    """Phase ``number`` of ``run`` (compiled afresh: its optimiser, schedule and augmentation);
    returns its per-epoch history. A full-size phase stops early and reports to ``watching``
    (the checkpoint first); a low-resolution one runs to its end, unsaved: it is judged on
    full-size validation images, which it reads poorly until the full-size phase (measured
    here: early stopping then restored an epoch from the middle of the phase)."""
    phase = run.phases[number - 1]
    with distribution_scope(run.distribution)():
        train_ds, fitted = training_inputs(model, train_xy, run.batch_size, phase, seed=seed)
        fitted.compile(
            optimizer=_optimizer(run, phase.learning_rate, phase.epochs * len(train_ds)),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=run.label_smoothing),
            metrics=["accuracy"],
            # Under JAX, unjitted Keras compiles each operation by itself, every new shape again
            # (563 compilations in tests/model/train_under_backend.py's tiny run): jit the step.
            jit_compile=run.jit_compile or keras.backend.backend() == "jax",
        )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=run.patience, restore_best_weights=True
    )
    size = f", {phase.image_size} px" if phase.image_size else ""
    webcam = f" + {', '.join(phase.degrade)}" if phase.degrade else ""
    log.info(
        f"{run.name}: phase {number}/{len(run.phases)}, augmentation {phase.augment}{webcam}{size}"
    )
    fit = fitted.fit(
        train_ds,
        validation_data=val_ds,
        epochs=phase.epochs,
        class_weight=class_weights(train_xy[1]) if run.class_weight else None,
        callbacks=[] if _low_resolution(phase) else [stop, *watching],
        shuffle=False,  # the batches reshuffle every epoch themselves
        verbose=verbose,
    )
    frame = pd.DataFrame(fit.history)
    frame.insert(0, "epoch", np.asarray(fit.epoch) + 1)  # after a resume, from where it went on
    frame.insert(0, "phase", number)
    return frame


def _record(
    run: TrainRun,
    best: keras.Model,
    *,
    best_val_accuracy: float,
    seconds: float,
    train_images: int,
    init_weights: str | Path | None,
    out_dir: Path,
) -> dict[str, Any]:
    """What ``<run>.json`` says of a trained run: the network, its best validation accuracy,
    how and where it trained, and from which code."""
    return {
        "name": run.name,
        "architecture": run.architecture,
        "classes": list(CLASSES),
        "input_shape": list(best.input_shape[1:]),
        "pixel_scale": "x / 255.0 (float32 in [0, 1])",
        "params": best.count_params(),
        "best_val_accuracy": best_val_accuracy,
        "precision": effective_precision(run.precision),
        "train_seconds": round(seconds, 1),
        "machine": provenance.machine(gpu=gpu_visible()),
        "train_images": train_images,
        "init_weights": None if init_weights is None else Path(init_weights).name,
        "recipe": dataclasses.asdict(run),
        "commit": provenance.git_commit(out_dir),
    }


@dataclasses.dataclass
class TrainedRuns:
    """What :func:`train_runs` trained: each run's per-epoch ``histories`` and its
    ``test_metrics`` (run -> test set -> :func:`capstone.metrics.classification_metrics`)."""

    histories: dict[str, pd.DataFrame]
    test_metrics: dict[str, dict[str, Any]]


def train_runs(
    runs: list[TrainRun],
    train_xy: tuple[np.ndarray, np.ndarray],
    val_xy: tuple[np.ndarray, np.ndarray],
    *,
    paths: ProjectPaths,
    stage: str,
    seed: int,
    test_sets: dict[str, tuple[np.ndarray, np.ndarray]],
) -> TrainedRuns:
    """Train each run of a stage in turn (each from its :func:`start_weights`) into the
    stage's folder, and score it on every test set; ``test_metrics.json`` holds the scores."""
    out = paths.stage(stage)
    trained = TrainedRuns({}, {})
    for run in runs:
        init = start_weights(run, paths)
        model, history = train(run, train_xy, val_xy, out, seed=seed, verbose=2, init_weights=init)
        trained.histories[run.name] = history
        trained.test_metrics[run.name] = {
            name: classification_metrics(majority(y), predict(model, x), CLASSES)
            for name, (x, y) in test_sets.items()
        }
    write_json(out / "test_metrics.json", trained.test_metrics)
    return trained


def start_weights(run: TrainRun, paths: ProjectPaths) -> Path | None:
    """The ``.keras`` file ``run`` starts from: its ``init_from`` run's model, its
    ``init_file`` (relative to the project folder), or ``None`` (random initialisation)."""
    if run.init_from:
        return paths.model(run.init_from)
    if run.init_file:
        return paths.root / run.init_file
    return None


def _optimizer(run: TrainRun, lr: float, steps: int) -> keras.optimizers.Optimizer:
    schedule: Any = lr
    if run.schedule == "cosine":
        schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(steps, 1))
    if run.schedule == "inverse_time":  # Keras 2's `decay`: lr / (1 + decay * step)
        schedule = keras.optimizers.schedules.InverseTimeDecay(lr, 1, run.decay)
    if run.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=run.weight_decay)
    return keras.optimizers.Adam(schedule)


def candidates(runs: list[TrainRun]) -> list[str]:
    """The names of ``runs``, then of the models they start from (``init_from``).

    A fine-tune has to beat the model it continued from, or that model is kept.
    """
    names = [run.name for run in runs]
    starts = [run.init_from for run in runs if run.init_from]
    return names + [name for name in dict.fromkeys(starts) if name not in names]


def select_best(out_dir: str | Path, scores: dict[str, float]) -> dict[str, Any]:
    """Pick the candidate with the best validation accuracy in ``scores`` (name -> accuracy).

    Writes ``selected.json`` in ``out_dir`` (the winner, and every candidate's validation
    accuracy) and returns it. Ties go to the first candidate. Only validation data decides:
    the test sets stay unseen until evaluation.
    """
    if not scores:
        raise ValueError("no candidates to select from: the params list no runs")
    best = max(scores, key=scores.__getitem__)
    selected = {"selected": best, "val_accuracy": {n: float(v) for n, v in scores.items()}}
    write_json(Path(out_dir) / "selected.json", selected)
    return selected
