"""How the faces of a call become the participants ``P1``, ``P2``, ...: the one numbering that
the app's first look shows and the annotation uses, so that the roles a manager gives at
first look attach to the same faces in the results.

A screenshot's faces are numbered in reading order (rows top to bottom, each left to right).
A recording's are numbered by :class:`FrameNumbering`, frame after frame: faces linked
across frames keep their number (:mod:`capstone.calls.tracking`), and faces new to the call
take the next numbers, in reading order (so the first frame's gallery reads P1, P2, ... left
to right, top to bottom). :func:`first_look` is the numbering of a screenshot, or of a recording's
first sampled frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capstone.calls.request import ReadingOptions
from capstone.calls.tracking import Tracker
from capstone.calls.video_io import sample_frames
from capstone.faces.boxes import Box, Detection
from capstone.faces.detect import DETECT_PAD, detect
from capstone.formats import IMAGE_SUFFIXES
from capstone.media import MediaError, load_image


@dataclass(frozen=True)
class NumberedFace:
    """A face found on a call, and the participant it is."""

    participant: str
    detection: Detection

    @property
    def box(self) -> Box:
        return self.detection.box


def reading_order(boxes: list[Box]) -> list[int]:
    """Indices of ``(x, y, w, h)`` boxes in reading order: rows top to bottom, each left to
    right. A row is the faces whose centres lie within half the median face height of the
    row's first (highest) centre, so that tiles a few pixels apart share a row."""
    if not boxes:
        return []
    half = max(1.0, float(np.median([b[3] for b in boxes])) / 2)
    by_height = sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2)
    rows: list[list[int]] = []
    for i in by_height:
        centre = boxes[i][1] + boxes[i][3] / 2
        if rows and centre - (boxes[rows[-1][0]][1] + boxes[rows[-1][0]][3] / 2) <= half:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda i: boxes[i][0])]


def number_picture(image: np.ndarray, options: ReadingOptions) -> list[NumberedFace]:
    """A screenshot's faces as ``P1``, ``P2``, ... in reading order."""
    found = detect(image, detector=options.detector)
    ordered = [found[i] for i in reading_order([f.box for f in found])]
    return [NumberedFace(f"P{i + 1}", face) for i, face in enumerate(ordered)]


def find_faces(
    frame: np.ndarray, known: list[Box], new_layout: bool, min_face: int, detector: str
) -> list[Detection]:
    """The faces of a frame. On a new layout (the first frame, a scene cut), or with no
    face known, every face from ``min_face`` pixels on, with the padded pass for a face
    that fills the picture (:func:`capstone.faces.detect.detect`). Otherwise the faces already
    there are looked for again, cheaply: from half the smallest known face's size on, and
    with the padded pass only while a known face is taller than 40% of the frame."""
    if new_layout or not known:
        return detect(frame, min_size=min_face, detector=detector)
    smallest = min(min(box[2:]) for box in known)
    large = max(box[3] for box in known) > 0.4 * frame.shape[0]
    return detect(
        frame,
        min_size=max(min_face, smallest // 2),
        detector=detector,
        pad=DETECT_PAD if large else 0.0,
    )


@dataclass
class FrameNumbering:
    """A recording's faces, numbered frame after frame. ``by_look=False`` links faces by
    their position alone (for measuring what telling them apart by their look costs)."""

    options: ReadingOptions = field(default_factory=ReadingOptions)
    by_look: bool = True
    tracker: Tracker = field(default_factory=Tracker)
    faces: list[NumberedFace] = field(default_factory=list)

    def number(self, frame: np.ndarray, new_layout: bool) -> list[NumberedFace]:
        """Look for the faces in ``frame`` (``new_layout``: the first frame, or the picture
        changed at once) and number them; they are also kept in :attr:`faces`."""
        known = [f.box for f in self.faces]
        found = find_faces(frame, known, new_layout, self.options.look_for, self.options.detector)
        found = [found[i] for i in reading_order([d.box for d in found])]  # new ids read so
        ids = self.tracker.assign([d.box for d in found], frame if self.by_look else None)
        self.faces = [NumberedFace(pid, d) for pid, d in zip(ids, found, strict=True)]
        return self.faces


def first_look(
    path: str | Path, options: ReadingOptions | None = None
) -> tuple[np.ndarray, list[NumberedFace]]:
    """The picture the numbering starts from (a screenshot, or a recording's first sampled
    frame) and its faces, numbered as the annotation numbers them."""
    path, options = Path(path), options or ReadingOptions()
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = load_image(path)
        return image, number_picture(image, options)
    first = next((frame for _, frame in sample_frames(path, options.fps)), None)
    if first is None:
        raise MediaError(f"{path.name}: no frame can be read; the recording may be cut")
    return first, FrameNumbering(options).number(first, new_layout=True)
