"""Who is who across a call's frames: participants by what their face and tile look like, and where.

A participant keeps their id while their tile moves (tiles reorder when someone joins or
leaves, the layout switches between gallery view, speaker view and screen share): each
face is matched to the participant it looks most like, with its position as a tie-breaker.
The look is :func:`appearance`: the colours around the face (hair, clothes, the room) and
the face's coarse pattern of light and dark, neither of which depends on the tile's size.
Without a frame, faces are matched by position alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from capstone.faces.boxes import Box, as_box, iou

PATTERN = 16  # side of the face's grayscale pattern
MIN_IOU = 0.3  # the overlap that links a face to a participant when only positions count


def appearance(frame: np.ndarray, box: Box) -> np.ndarray:
    """A unit-length descriptor of the face in ``box`` and what surrounds it.

    Half of it is a hue-saturation histogram of the box enlarged 1.6 times (clipped to the
    frame), half the face's ``PATTERN`` x ``PATTERN`` grayscale pattern, centred and scaled
    so that brightness and contrast do not count.
    """
    h, w = frame.shape[:2]
    x, y, bw, bh = (int(v) for v in box)
    cx, cy, side = x + bw / 2, y + bh / 2, 1.6 * max(bw, bh)
    x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    x1, y1 = min(w, int(cx + side / 2)), min(h, int(cy + side / 2))
    around = frame[y0:y1, x0:x1]
    face = frame[max(0, y) : min(h, y + bh), max(0, x) : min(w, x + bw)]
    if around.size == 0 or face.size == 0:
        return np.zeros(16 * 8 + PATTERN * PATTERN, np.float32)
    hsv = cv2.cvtColor(np.ascontiguousarray(around[:, :, :3]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).ravel()
    gray = cv2.cvtColor(np.ascontiguousarray(face[:, :, :3]), cv2.COLOR_BGR2GRAY)
    pattern = cv2.resize(gray, (PATTERN, PATTERN), interpolation=cv2.INTER_AREA).ravel()
    pattern = pattern.astype(np.float32) - pattern.mean()
    parts = [hist / (np.linalg.norm(hist) + 1e-9), pattern / (np.linalg.norm(pattern) + 1e-9)]
    return (np.concatenate(parts) / np.sqrt(2)).astype(np.float32)


class Tracker:
    """Links faces across frames into participants ``P1``, ``P2``, ...

    Parameters
    ----------
    min_score : float
        The least score at which a face is an already-known participant; below it, a new
        one. The score is the cosine similarity of the appearances (with a frame) plus
        ``position_weight`` times the overlap (IoU) with the participant's last box.
    position_weight : float
        How much the position counts beside the appearance.
    memory : float
        How much of a participant's appearance is kept at each update (the rest is the
        new face's), so that slow changes of light and pose are followed.
    """

    def __init__(
        self, min_score: float = 0.55, position_weight: float = 0.3, memory: float = 0.8
    ) -> None:
        self.min_score, self.position_weight, self.memory = min_score, position_weight, memory
        self.boxes: dict[str, list[int]] = {}
        self.looks: dict[str, np.ndarray] = {}

    def assign(
        self, boxes: list[list[int]] | list[Box], frame: np.ndarray | None = None
    ) -> list[str]:
        """Participant ids for ``boxes`` in ``frame`` (new ids for faces that match no one)."""
        looks = [appearance(frame, as_box(b)) for b in boxes] if frame is not None else None
        pairs = sorted(
            (
                (self._score(i, b, pid, looks), i, pid)
                for i, b in enumerate(boxes)
                for pid in self.boxes
            ),
            reverse=True,
        )
        # without a frame only the position counts: the face must overlap by IoU >= 0.3
        threshold = self.min_score if looks is not None else MIN_IOU * self.position_weight
        ids: dict[int, str] = {}
        taken: set[str] = set()
        for score, i, pid in pairs:
            if score >= threshold and i not in ids and pid not in taken:
                ids[i] = pid
                taken.add(pid)
        for i in range(len(boxes)):
            if i not in ids:
                ids[i] = f"P{len(self.boxes) + 1}"
                self.boxes[ids[i]] = list(boxes[i])
        for i, b in enumerate(boxes):
            pid = ids[i]
            self.boxes[pid] = list(b)
            if looks is not None:
                old = self.looks.get(pid)
                new = looks[i] if old is None else self.memory * old + (1 - self.memory) * looks[i]
                self.looks[pid] = new / (np.linalg.norm(new) + 1e-9)
        return [ids[i] for i in range(len(boxes))]

    def _score(self, i: int, box, pid: str, looks: list[np.ndarray] | None) -> float:
        overlap = iou(as_box(box), as_box(self.boxes[pid]))
        if looks is None or pid not in self.looks:
            return self.position_weight * overlap
        return float(looks[i] @ self.looks[pid]) + self.position_weight * overlap
