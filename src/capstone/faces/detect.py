"""Face detection behind one function, :func:`detect`.

Two detectors:

* ``mtcnn`` (default): the MTCNN cascade of three small CNNs (the ``mtcnn`` package's
  weights, run by ONNX Runtime without TensorFlow: :mod:`capstone.faces.cascade`). Finds
  small and turned faces in gallery-view layouts, and returns the eyes, which
  :func:`capstone.faces.crop.crop_face` can level.
* ``haar``: OpenCV's frontal-face Haar cascade, the seed's detector. Fast, but on real
  gallery-view screenshots it misses faces and invents others.

A face that fills the picture (a headshot, a speaker view at full screen) touches the image
border, and neither detector finds it there. :func:`detect` therefore also looks at a small
copy of the image with a border around it (``pad``), and merges what both passes find.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import cv2
import numpy as np

from capstone.faces import cascade
from capstone.faces.boxes import Box, Detection, as_box, overlap
from capstone.faces.crop import to_gray

DETECTORS = ("mtcnn", "haar")


# The second, padded detection pass: border width as a share of the longer side, and the
# longer side of the small copy it runs on (large faces only, so a small copy is enough). It
# looks at that copy twice, as it is and with its lightness evened out (CLAHE), which finds
# faces in dark film stills and dim webcams (benchmarks/face_crops.py).
DETECT_PAD = 0.75


PADDED_SIDE = 320


@cache
def _haar() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(
            f"OpenCV's Haar cascade is missing ({path}); install opencv-python-headless<5"
        )
    return cascade


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """An 8-bit BGR copy of a frame of any kind :func:`to_gray` accepts."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8:
        return image
    if image.ndim == 3 and image.shape[2] == 4 and image.dtype == np.uint8:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] in (3, 4):  # 16-bit colour: keep the colour
        return _to_bgr((np.asarray(image, np.uint16) >> 8).astype(np.uint8))
    return cv2.cvtColor(to_gray(image), cv2.COLOR_GRAY2BGR)


def _run(
    image_bgr: np.ndarray, min_size: int, detector: str, min_confidence: float
) -> list[Detection]:
    """One pass of a detector over a BGR image."""
    if detector == "haar":
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        boxes = _haar().detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
        )
        return [Detection(as_box(b)) for b in np.asarray(boxes).reshape(-1, 4)]
    # MTCNN looks for faces from 12 pixels on. For larger ones, it is given a smaller copy
    # rather than a larger min_face_size, which finds nothing at all for some frame sizes
    # (mtcnn 1.0: min_face_size 28 on a 1280x720 frame; the cascade keeps its steps) and
    # costs the same.
    scale = min(1.0, 12 / max(min_size, 12))
    small = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = cascade.detect_faces(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
    return [
        _unscaled(face, scale)
        for face in found
        if face.confidence >= min_confidence and min(face.box[2:]) > 0
    ]


def _unscaled(face: Detection, scale: float) -> Detection:
    """``face``, found on a copy of the image scaled by ``scale``, in the image's coordinates."""
    eyes = None
    if face.eyes is not None:
        (lx, ly), (rx, ry) = face.eyes
        eyes = ((lx / scale, ly / scale), (rx / scale, ry / scale))
    return Detection(as_box(v / scale for v in face.box), face.confidence, eyes)


def detect(
    image: np.ndarray,
    min_size: int = 12,
    detector: str = "mtcnn",
    min_confidence: float = 0.9,
    pad: float = DETECT_PAD,
) -> list[Detection]:
    """The faces in an image, largest first.

    ``image`` is a BGR, BGRA or grayscale frame (8 or 16 bits). ``min_size`` is the smallest
    face side in pixels the detector looks for; callers decide separately which faces are big
    enough to classify. ``min_confidence`` applies to MTCNN. With ``pad > 0`` a second pass
    looks for large faces on a small copy of the image framed by a border of ``pad`` times
    its longer side, so that a face filling the picture is found too; a face both passes
    find is kept once (the more confident one).
    """
    if detector not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}; use one of {', '.join(DETECTORS)}")
    image_bgr = _to_bgr(image)
    found = _run(image_bgr, min_size, detector, min_confidence)
    extra = _padded_pass(image_bgr, pad, detector, min_confidence) if pad > 0 else []
    return _merge(found, extra)


def _padded_pass(
    image_bgr: np.ndarray, pad: float, detector: str, min_confidence: float
) -> list[Detection]:
    """Large faces, found on a small copy of the image with a grey border around it."""
    h, w = image_bgr.shape[:2]
    border = max(1, round(pad * max(h, w)))
    framed = cv2.copyMakeBorder(
        image_bgr, border, border, border, border, cv2.BORDER_CONSTANT, value=(114, 114, 114)
    )
    scale = min(1.0, PADDED_SIDE / max(framed.shape[:2]))
    small = cv2.resize(framed, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    back = []
    found = _run(small, 12, detector, min_confidence) + _run(
        _even_light(small), 12, detector, min_confidence
    )
    for d in found:
        x, y, bw, bh = (v / scale for v in d.box)
        eyes = None
        if d.eyes is not None:
            (lx, ly), (rx, ry) = d.eyes
            eyes = (
                (lx / scale - border, ly / scale - border),
                (rx / scale - border, ry / scale - border),
            )
        back.append(
            Detection(
                (round(x - border), round(y - border), round(bw), round(bh)), d.confidence, eyes
            )
        )
    return back


def _even_light(image_bgr: np.ndarray) -> np.ndarray:
    """``image_bgr`` with its lightness evened out by CLAHE (the colours kept)."""
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _merge(found: list[Detection], extra: list[Detection]) -> list[Detection]:
    """``found``, plus each face of ``extra`` (most confident first) that overlaps none kept.

    The padded pass sees faces at a coarser scale, so its box of a face the first pass also
    found can be offset: any overlap of a third of the smaller box makes it the same face.
    """
    kept = list(found)
    for d in sorted(extra, key=lambda d: -d.confidence):
        if all(overlap(d.box, k.box) < 1 / 3 for k in kept):
            kept.append(d)
    return sorted(kept, key=lambda d: -d.box[2] * d.box[3])


def detect_faces(image_bgr: np.ndarray, **options: Any) -> list[Box]:
    """The boxes ``(x, y, w, h)`` of :func:`detect` (same options), largest first."""
    return [d.box for d in detect(image_bgr, **options)]
