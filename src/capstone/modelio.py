"""Loading a trained model with a clear error when the file is missing or not a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from capstone.errors import CapstoneError


def load_model(path: str | Path) -> Any:
    """Load a ``.keras`` model saved by :func:`capstone.training.train`."""
    path = Path(path)
    if not path.is_file():
        raise CapstoneError(
            f"model not found: {path}. Train one with `nox -s pipeline`, or pass --model."
        )
    import keras

    import capstone.models  # noqa: F401 - registers the project's own layers for loading

    try:
        return keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        raise CapstoneError(f"{path}: not a loadable Keras model ({err})") from None


def calibration_of(path: str | Path) -> dict[str, Any]:
    """The calibration record of the model at ``path`` (empty when it has none).

    Read from ``fer_cnn.json`` next to ``fer_cnn.keras`` (or ``final.json`` next to
    ``final.keras``): ``tta_flip``, ``tta_shift``, ``temperature``, ``uncertain_below``, ...
    """
    path = Path(path)
    record = path.with_suffix(".json")
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8")).get("calibration", {})
    return {}


def tta_of(path: str | Path) -> dict[str, Any]:
    """The test-time augmentation the model at ``path`` is meant to be used with.

    ``{"tta_flip": bool, "tta_shift": pixels}`` from its record (off when it has none), ready
    to pass on to :func:`capstone.evaluation.predict`.
    """
    return tta_from(calibration_of(path))


def tta_from(calibration: dict[str, Any]) -> dict[str, Any]:
    """``{"tta_flip": bool, "tta_shift": pixels}`` of a calibration record (off where absent)."""
    return {
        "tta_flip": bool(calibration.get("tta_flip", False)),
        "tta_shift": int(calibration.get("tta_shift", 0)),
    }


def uncertain_below_of(path: str | Path, default: float = 0.4) -> float:
    """The confidence below which the model's readings are called uncertain (its record's)."""
    return float(calibration_of(path).get("uncertain_below", default))
