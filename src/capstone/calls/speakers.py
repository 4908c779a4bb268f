"""Who is speaking in a sampled frame of a call: the app's highlight, the audio, the layout.

Three sources, each from what a recording holds:

* ``highlight``: in gallery view, Zoom, Teams and Meet outline the speaking tile (Zoom in
  green or yellow). :func:`highlighted_tile` finds a saturated yellow-to-green rectangular
  outline in the frame; the face inside it is speaking.
* ``speaker view``: the speaker fills the main tile, so a face at least
  ``SPEAKER_VIEW_RATIO`` times larger than every other face is the speaker's.
* ``audio``: voice activity in the recording's audio track (:mod:`capstone.calls.audio`).
  Silence means nobody speaks, whatever the picture shows (the apps keep the last
  speaker's outline through pauses). Voice with one face in the picture is that face's.

:func:`attribute` combines them per face: ``True``, ``False`` or ``None`` (unknown), and
the source that decided.
"""

from __future__ import annotations

import cv2
import numpy as np

from capstone.faces.boxes import Box

HIGHLIGHT_HSV = ((18, 110, 110), (95, 255, 255))  # yellow to green, saturated and bright
SPEAKER_VIEW_RATIO = 4.0  # the main tile's face, in area, against every other face


def highlighted_tile(frame: np.ndarray, min_side: int = 40) -> Box | None:
    """The ``(x, y, w, h)`` of a yellow-to-green outline around a tile, or ``None``.

    An outline is a coloured region whose bounding rectangle is at least ``min_side``
    pixels each way, that it mostly frames (it runs along at least 60% of the rectangle's
    border) and does not fill (under a third of the rectangle's area): a green sweater or
    a plant in the background is filled, not framed.
    """
    if frame.ndim != 3 or frame.shape[2] < 3:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[:, :, :3]), cv2.COLOR_BGR2HSV)
    mask = cv2.inRange(hsv, *map(np.array, HIGHLIGHT_HSV))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best = None
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w < min_side or h < min_side:
            continue
        inside = mask[y : y + h, x : x + w] > 0
        if inside.mean() > 1 / 3 or _border_share(inside) < 0.6:
            continue
        if best is None or w * h > best[2] * best[3]:
            best = (x, y, w, h)
    return best


def _border_share(inside: np.ndarray, depth: int = 6) -> float:
    """How much of a rectangle's border (within ``depth`` pixels of each edge) is coloured."""
    rows = np.r_[inside[:depth].any(axis=0), inside[-depth:].any(axis=0)]
    cols = np.r_[inside[:, :depth].any(axis=1), inside[:, -depth:].any(axis=1)]
    return float(np.r_[rows, cols].mean())


def speaker_view_face(boxes: list[Box]) -> int | None:
    """The index of a face that dominates the frame as speaker view shows the speaker."""
    if len(boxes) < 2:
        return None
    areas = np.array([w * h for _, _, w, h in boxes], dtype=float)
    order = np.argsort(-areas)
    return int(order[0]) if areas[order[0]] >= SPEAKER_VIEW_RATIO * areas[order[1]] else None


def attribute(
    boxes: list[Box], highlight: Box | None, voiced: bool | None
) -> list[tuple[bool | None, str]]:
    """For each face, ``(speaking, source)``: who speaks in this frame, as far as can be told.

    ``highlight`` is :func:`highlighted_tile` of the frame; ``voiced`` whether the audio is
    voiced at this time (``None``: no audio track, or past its end). The source is
    ``audio``, ``highlight``, ``speaker view`` or ``""`` where nothing could tell.
    """
    if voiced is False:
        return [(False, "audio")] * len(boxes)
    inside = [i for i, box in enumerate(boxes) if highlight and _centre_in(box, highlight)]
    if len(inside) == 1:
        return [(i == inside[0], "highlight") for i in range(len(boxes))]
    main = speaker_view_face(boxes)
    if main is not None:
        return [(i == main, "speaker view") for i in range(len(boxes))]
    if voiced and len(boxes) == 1:
        return [(True, "audio")]
    return [(None, "")] * len(boxes)


def _centre_in(box: Box, tile: Box) -> bool:
    x, y, w, h = box
    tx, ty, tw, th = tile
    cx, cy = x + w / 2, y + h / 2
    return tx <= cx <= tx + tw and ty <= cy <= ty + th
