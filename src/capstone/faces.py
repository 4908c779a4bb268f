"""Face detection behind one function, so the detector can change without touching callers."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np


@cache
def _haar() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(
            f"OpenCV's Haar cascade is missing ({path}); install opencv-python-headless<5"
        )
    return cascade


def detect_faces(image_bgr: np.ndarray, min_size: int = 12) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of the faces in a BGR image, largest first.

    ``min_size`` is the smallest face side in pixels the detector looks for; callers decide
    separately which faces are big enough to classify.
    """
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    found = _haar().detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
    )
    boxes = [tuple(int(v) for v in box) for box in np.asarray(found).reshape(-1, 4)]
    return sorted(boxes, key=lambda b: -b[2] * b[3])
