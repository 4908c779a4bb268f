"""The model's contract: the expression classes it reads and the face crops it reads them from.

A leaf module (nothing of ours is imported), so that data preparation, training, the released
model, evaluation and the call product all take the same seven classes, in the same order, and
the same 48x48 grayscale crops from one place.
"""

from __future__ import annotations

import numpy as np

#: The perceived expressions, in the order of a model's outputs (FER2013's label order).
CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
N_CLASSES = len(CLASSES)

#: The side of the square grayscale face crops a model reads, in pixels.
SIZE = 48


def network_inputs(crops: np.ndarray) -> np.ndarray:
    """What a bare network reads for uint8 face crops ``(n, 48, 48)``: floats in [0, 1] with
    a channel axis, ``(n, 48, 48, 1)`` (a self-contained model does this inside its graph)."""
    return np.asarray(crops)[..., None].astype(np.float32) / 255.0
