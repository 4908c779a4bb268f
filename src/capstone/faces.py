"""Face detection behind one function, so the detector can change without touching callers.

Two detectors:

* ``mtcnn`` (default): the MTCNN cascade of three small CNNs (package ``mtcnn``, TensorFlow,
  weights inside the wheel, so it works offline). Finds small and turned faces in
  gallery-view layouts.
* ``haar``: OpenCV's frontal-face Haar cascade, the seed's detector. Fast, but on real
  gallery-view screenshots it misses faces and invents others.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import cv2
import numpy as np

from capstone.errors import CapstoneError

DETECTORS = ("mtcnn", "haar")
Box = tuple[int, int, int, int]


@cache
def _haar() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(
            f"OpenCV's Haar cascade is missing ({path}); install opencv-python-headless<5"
        )
    return cascade


@cache
def _mtcnn() -> Any:
    try:
        from mtcnn import MTCNN
    except ImportError:
        raise CapstoneError(
            "the mtcnn face detector is not installed: pip install mtcnn (or use detector='haar')"
        ) from None
    return MTCNN()


def detect_faces(
    image_bgr: np.ndarray, min_size: int = 12, detector: str = "mtcnn", min_confidence: float = 0.9
) -> list[Box]:
    """Boxes ``(x, y, w, h)`` of the faces in a BGR image, largest first.

    ``min_size`` is the smallest face side in pixels the detector looks for; callers decide
    separately which faces are big enough to classify. ``min_confidence`` applies to MTCNN.
    """
    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}; use one of {', '.join(DETECTORS)}")
    if detector == "haar":
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
        found = _haar().detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
        )
        boxes = [tuple(int(v) for v in box) for box in np.asarray(found).reshape(-1, 4)]
    else:
        rgb = cv2.cvtColor(
            image_bgr, cv2.COLOR_BGR2RGB if image_bgr.ndim == 3 else cv2.COLOR_GRAY2RGB
        )
        found = _mtcnn().detect_faces(rgb, min_face_size=max(min_size, 12))
        boxes = [
            tuple(int(v) for v in face["box"])
            for face in found
            if face["confidence"] >= min_confidence and min(face["box"][2:]) > 0
        ]
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def match(found: list[Box], truth: list[Box], threshold: float = 0.4) -> dict[str, int]:
    """Count true positives, false positives and missed faces (greedy matching by IoU)."""
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True
    )
    used_f, used_t = set(), set()
    for score, i, j in pairs:
        if score >= threshold and i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return {
        "true_positives": len(used_t),
        "false_positives": len(found) - len(used_f),
        "missed": len(truth) - len(used_t),
    }
