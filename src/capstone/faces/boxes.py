"""Face boxes: the ``(x, y, w, h)`` type, a detected face (:class:`Detection`), and how boxes
overlap and match (for tracking, merging detector passes and scoring detectors).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Box = tuple[int, int, int, int]


Point = tuple[float, float]


def as_box(values: Iterable[float]) -> Box:
    """Four numbers ``x, y, w, h`` (a list, an array row, a tuple) as a :data:`Box` of ints."""
    x, y, w, h = (round(v) for v in values)
    return (x, y, w, h)


@dataclass(frozen=True)
class Detection:
    """One face found in an image: its box ``(x, y, w, h)``, the detector's confidence, and
    the eye centres ``(left_eye, right_eye)`` in image coordinates where the detector gives
    them (MTCNN; ``None`` for Haar)."""

    box: Box
    confidence: float = 1.0
    eyes: tuple[Point, Point] | None = None


def overlap(a: Box, b: Box) -> float:
    """The intersection of two boxes over the area of the smaller one."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    smaller = min(a[2] * a[3], b[2] * b[3])
    return max(0, w) * max(0, h) / smaller if smaller else 0.0


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
