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

    try:
        return keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        raise CapstoneError(f"{path}: not a loadable Keras model ({err})") from None


def tta_flip_of(path: str | Path) -> bool:
    """Whether the model at ``path`` is meant to be used with flip test-time augmentation.

    Read from its record (``fer_cnn.json`` next to ``fer_cnn.keras``, or ``final.json``);
    ``False`` when there is none.
    """
    path = Path(path)
    for record in (path.with_suffix(".json"), path.parent / "final.json"):
        if record.is_file() and record.stem in (path.stem, "final"):
            data = json.loads(record.read_text(encoding="utf-8"))
            return bool(data.get("calibration", {}).get("tta_flip", False))
    return False
