"""Load a released model and predict: the one way every reader of faces gets probabilities.

A released model is **self-contained**: it takes face crops as :func:`capstone.faces.crop.crop_face`
returns them, ``(n, 48, 48)`` uint8, and returns calibrated probabilities. Inside its graph,
in order: the rescaling to [0, 1], the test-time views that calibration kept (the mirror
image, copies shifted a few pixels), the network (its temperature folded into the last
layer) and the average of the views' logits. So::

    probs = keras.models.load_model("models/fer_cnn.keras").predict(crops)

is all a caller needs. The views are built from stock Keras layers only (a shift or a flip is
a fixed permutation matrix in a ``Dense`` layer), so the file loads with plain Keras, on any
backend, with no project code imported. Annotation, evaluation, calibration and the CLI all
predict through :func:`predict`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from capstone.errors import ModelError
from capstone.labels import N_CLASSES, SIZE, network_inputs


def _fixed_dense(matrix: np.ndarray, name: str) -> Any:
    """A frozen bias-free ``Dense`` layer that multiplies its last axis by ``matrix``."""
    import keras

    layer = keras.layers.Dense(matrix.shape[1], use_bias=False, trainable=False, name=name)
    layer.build((None, matrix.shape[0]))
    layer.set_weights([matrix.astype(np.float32)])
    return layer


def shift_matrix(n: int, offset: int) -> np.ndarray:
    """``W`` with ``x @ W`` = ``x`` moved ``offset`` places along its axis, the end value repeated."""
    matrix = np.zeros((n, n), np.float32)
    for i in range(n):
        matrix[min(max(i - offset, 0), n - 1), i] = 1.0
    return matrix


def flip_matrix(n: int) -> np.ndarray:
    """``W`` with ``x @ W`` = ``x`` reversed along its axis."""
    return np.eye(n, dtype=np.float32)[::-1].copy()


def views(tta_flip: bool = False, tta_shift: int = 0) -> list[tuple[int, int, bool]]:
    """The test-time views ``(dy, dx, mirrored)``: the face, ``tta_shift`` pixels up, down,
    left and right (if > 0), and the mirror image of each (if ``tta_flip``)."""
    if tta_shift < 0 or tta_shift >= SIZE:
        raise ValueError(f"tta_shift must be 0 (off) or a number of pixels below {SIZE}")
    shifts = [(0, 0)]
    if tta_shift:
        shifts += [(tta_shift, 0), (-tta_shift, 0), (0, tta_shift), (0, -tta_shift)]
    return [(dy, dx, m) for m in ([False, True] if tta_flip else [False]) for dy, dx in shifts]


def _signed(v: int) -> str:
    return f"p{v}" if v >= 0 else f"m{-v}"


def _view(x: Any, dy: int, dx: int, mirrored: bool, n: int) -> Any:
    """One view of images ``x`` (batch, h, w, 1) as stock Keras layers."""
    import keras

    if dy:  # along the height: bring it to the last axis and back
        x = keras.layers.Permute((3, 2, 1))(x)
        x = _fixed_dense(shift_matrix(SIZE, dy), f"shift_y{_signed(dy)}_{n}")(x)
        x = keras.layers.Permute((3, 2, 1))(x)
    if dx or mirrored:  # along the width
        matrix = shift_matrix(SIZE, dx)
        if mirrored:
            matrix = matrix @ flip_matrix(SIZE)
        x = keras.layers.Permute((1, 3, 2))(x)
        x = _fixed_dense(matrix, f"{'flip' if mirrored else 'shift'}_x{_signed(dx)}_{n}")(x)
        x = keras.layers.Permute((1, 3, 2))(x)
    return x


def self_contained(
    network: Any, tta_flip: bool = False, tta_shift: int = 0, name: str = "fer_cnn"
) -> Any:
    """The released form of ``network``: uint8 crops in, probabilities out.

    ``network`` takes ``(48, 48, 1)`` floats in [0, 1] and ends with a softmax
    ``Activation`` (all of :mod:`capstone.model.architectures` do). Its logits are averaged over
    :func:`views`, then a softmax: the normalised geometric mean of the views' probabilities,
    so a temperature folded into ``network`` applies to the average exactly.
    """
    import keras

    last = network.layers[-1]
    if not (
        isinstance(last, keras.layers.Activation) and last.get_config()["activation"] == "softmax"
    ):
        raise ValueError(f"{network.name}: the last layer must be a softmax Activation")
    logits = keras.Model(network.inputs, last.input, name=f"{network.name}_logits")
    crops = keras.Input((SIZE, SIZE), dtype="uint8", name="face_crops")
    x = keras.layers.Rescaling(1 / 255.0, name="pixels_to_unit")(crops)
    x = keras.layers.Reshape((SIZE, SIZE, 1), name="channel")(x)
    outputs = [
        logits(_view(x, dy, dx, m, i)) for i, (dy, dx, m) in enumerate(views(tta_flip, tta_shift))
    ]
    z = keras.layers.Average(name="mean_of_views")(outputs) if len(outputs) > 1 else outputs[0]
    probs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(z)
    return keras.Model(crops, probs, name=name)


def is_self_contained(model: Any) -> bool:
    """Whether ``model`` reads uint8 crops ``(n, 48, 48)`` (else: floats ``(n, 48, 48, 1)``).

    Anything that is not a Keras model (no ``input_shape``) is given the crops as they are.
    """
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return True
    return tuple(shape[1:]) == (SIZE, SIZE) and "int" in str(model.inputs[0].dtype)


def predict(model: Any, crops: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The model's output (float64) for uint8 face crops ``(n, 48, 48)``.

    A self-contained model gets the crops as they are; a bare network (one being trained or
    calibrated, or a feature extractor) gets ``crops / 255`` with a channel axis.
    """
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1:] != (SIZE, SIZE):
        raise ValueError(f"face crops must have shape (n, {SIZE}, {SIZE}), got {crops.shape}")
    if len(crops) == 0:
        return np.zeros((0, int(getattr(model, "output_shape", (N_CLASSES,))[-1])))
    inputs = crops.astype(np.uint8) if is_self_contained(model) else network_inputs(crops)
    one_batch = getattr(model, "predict_on_batch", None)
    if one_batch is not None and len(inputs) <= batch_size:  # skips predict()'s ~50 ms set-up
        return np.asarray(one_batch(inputs), np.float64)
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0), np.float64)


def load_model(path: str | Path, check: bool = True) -> Any:
    """Load a ``.keras`` model, with a clear :class:`ModelError` if it is not a usable one.

    With ``check``, the model must keep the contract: it reads 48x48 face crops (uint8
    ``(48, 48)``, or a bare network's ``(48, 48, 1)`` floats) and returns 7 probabilities
    per face (checked on two test crops: non-negative, summing to 1).
    """
    path = model_file(path)
    import keras

    import capstone.model.architectures  # noqa: F401 - registers the project's own layers (older files)

    try:
        model = keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ModelError(
            f"{path}: not a loadable Keras model ({type(err).__name__}); is the file complete?"
        ) from None
    if check:
        _check_contract(model, path)
    return model


def model_file(path: str | Path) -> Path:
    """``path``, refused with a clear :class:`ModelError` unless it is a file."""
    path = Path(path)
    if path.is_dir():
        raise ModelError(f"{path} is a folder; pass the .keras model file inside it")
    if not path.is_file():
        raise ModelError(
            f"model not found: {path}. Train one with `nox -s pipeline`, or pass --model."
        )
    return path


def _check_contract(model: Any, path: Path) -> None:
    shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if shape not in ((SIZE, SIZE), (SIZE, SIZE, 1)):
        raise ModelError(
            f"{path}: the model reads inputs of shape {model.input_shape}, not 48x48 face "
            "crops; use a model trained by this project"
        )
    if tuple(model.output_shape[1:]) != (N_CLASSES,):
        raise ModelError(
            f"{path}: the model gives {model.output_shape[1:]} outputs per face, not the "
            f"{N_CLASSES} expression classes"
        )
    probe = predict(
        model, np.stack([np.full((SIZE, SIZE), 128, np.uint8), np.eye(SIZE, dtype=np.uint8) * 255])
    )
    if not (np.all(probe >= -1e-6) and np.allclose(probe.sum(axis=1), 1.0, atol=1e-3)):
        raise ModelError(
            f"{path}: the model's outputs are not probabilities (they do not sum to 1): it "
            "may end in logits; add a softmax, or use a model released by this project"
        )


def record_of(path: str | Path) -> dict[str, Any]:
    """The JSON record beside a model (``fer_cnn.json`` next to ``fer_cnn.keras``), or ``{}``."""
    record = Path(path).with_suffix(".json")
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))
    return {}


def reading_meaning(path: str | Path) -> str:
    """What a reading of the model at ``path`` means, in plain words, from its record: how a
    crowd would likely see the face (a model calibrated to FER+'s vote shares), or how often
    the model is right against one annotator's labels (FER2013's)."""
    if record_of(path).get("faces") == "ferplus":
        return (
            'A reading is how a face likely appears to people: "angry 42%" means that about 4 '
            "in 10 people would likely see the face as angry."
        )
    return (
        "A reading is the model's confidence, calibrated to one annotator's labels (FER2013): "
        '"angry 42%" means it is right about 42% of the times it says so.'
    )


def uncertain_below_of(path: str | Path, default: float = 0.4) -> float:
    """The confidence below which the model's readings are called uncertain (its record's)."""
    from capstone.model.calibration_record import CalibrationRecord

    calibration = record_of(path).get("calibration")
    if calibration is None:
        return default
    return float(CalibrationRecord.from_json(calibration, f"{path}'s record").uncertain_below)


def crop_settings_of(path: str | Path) -> dict[str, Any]:
    """How faces are to be cut out for the model at ``path`` (its record's ``crop``), as
    keyword arguments of :func:`capstone.faces.crop.crop_face`; ``{}`` (the defaults) if none."""
    crop = record_of(path).get("crop", {})
    return {k: crop[k] for k in ("margin", "align", "contrast") if k in crop}
