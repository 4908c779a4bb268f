"""Face detection behind one function, and THE face-crop function that every reader shares.

Two detectors:

* ``mtcnn`` (default): the MTCNN cascade of three small CNNs (package ``mtcnn``, TensorFlow,
  weights inside the wheel, so it works offline). Finds small and turned faces in
  gallery-view layouts, and returns the eyes, which :func:`crop_face` can level.
* ``haar``: OpenCV's frontal-face Haar cascade, the seed's detector. Fast, but on real
  gallery-view screenshots it misses faces and invents others.

A face that fills the picture (a headshot, a speaker view at full screen) touches the image
border, and neither detector finds it there. :func:`detect` therefore also looks at a small
copy of the image with a border around it (``pad``), and merges what both passes find.

:func:`crop_face` cuts a detected face out the way the network was trained to see it: a
square around the box, enlarged by a margin, optionally rotated so the eyes are level,
in grayscale, at 48x48. Data preparation (for datasets that are not already cut like
FER2013), evaluation and annotation all call it, so training and use see the same crops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

from capstone.errors import CapstoneError

DETECTORS = ("mtcnn", "haar")
Box = tuple[int, int, int, int]
Point = tuple[float, float]

# How the released model's crops are cut (benchmarks/face_crops.py measured the choices on
# the FER2013 and in-the-wild validation splits; the book's "Cutting faces out" page).
CROP_SIZE = 48
CROP_MARGIN = 0.0
CROP_ALIGN = False
CROP_CONTRAST = "none"
CONTRASTS = ("none", "equalize", "clahe")

# The second, padded detection pass: border width as a share of the longer side, and the
# longer side of the small copy it runs on (large faces only, so a small copy is enough). It
# looks at that copy twice, as it is and with its lightness evened out (CLAHE), which finds
# faces in dark film stills and dim webcams (benchmarks/face_crops.py).
DETECT_PAD = 0.75
PADDED_SIDE = 320


class CropError(CapstoneError, ValueError):
    """A face cannot be cut out of this image with this box."""


@dataclass(frozen=True)
class Detection:
    """One face found in an image: its box ``(x, y, w, h)``, the detector's confidence, and
    the eye centres ``(left_eye, right_eye)`` in image coordinates where the detector gives
    them (MTCNN; ``None`` for Haar)."""

    box: Box
    confidence: float = 1.0
    eyes: tuple[Point, Point] | None = None


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
    detector = MTCNN()
    for stage in getattr(detector, "stages", []):  # its three networks, run as graphs
        network = getattr(stage, "_model", None)
        if network is not None:
            stage._model = _as_graph(network)
    return detector


def _as_graph(network: Any) -> Any:
    """``network`` as a TensorFlow graph function: MTCNN calls its networks eagerly, which
    costs twice the time per frame. An empty batch (no face proposals) raises the error
    MTCNN expects for it at once, instead of failing inside TensorFlow with a logged error."""
    import tensorflow as tf

    graph = tf.function(network, reduce_retracing=True)

    def run(batch: Any) -> Any:
        if batch.shape[0] == 0:
            raise tf.errors.InvalidArgumentError(None, None, "no face proposals")
        return graph(batch)

    return run


def to_gray(image: np.ndarray) -> np.ndarray:
    """An 8-bit grayscale copy of a BGR, BGRA or grayscale frame of 8 or 16 bits per channel.

    Raises :class:`CropError` for anything else (an empty array, 2 channels, 5-D...).
    """
    image = np.asarray(image)
    if (
        image.size == 0
        or image.ndim not in (2, 3)
        or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
    ):
        raise CropError(
            f"expected an image of shape (h, w), (h, w, 3) or (h, w, 4), got {image.shape}"
        )
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.number) or not np.isfinite(image).all():
            raise CropError(f"expected 8- or 16-bit pixels, got {image.dtype}")
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    return np.ascontiguousarray(image)


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


EYES = ("left_eye", "right_eye")


def _run(
    image_bgr: np.ndarray, min_size: int, detector: str, min_confidence: float
) -> list[Detection]:
    """One pass of a detector over a BGR image."""
    if detector == "haar":
        gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        found = _haar().detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
        )
        return [Detection(tuple(int(v) for v in b)) for b in np.asarray(found).reshape(-1, 4)]
    # MTCNN looks for faces from 12 pixels on. For larger ones, it is given a smaller copy
    # rather than a larger min_face_size, which finds nothing at all for some frame sizes
    # (mtcnn 1.0: min_face_size 28 on a 1280x720 frame) and costs the same.
    scale = min(1.0, 12 / max(min_size, 12))
    small = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _mtcnn().detect_faces(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), min_face_size=12)
    return [
        Detection(
            tuple(round(v / scale) for v in face["box"]),
            float(face["confidence"]),
            tuple((x / scale, y / scale) for x, y in (face["keypoints"][k] for k in EYES)),
        )
        for face in found
        if face["confidence"] >= min_confidence and min(face["box"][2:]) > 0
    ]


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
            eyes = tuple((ex / scale - border, ey / scale - border) for ex, ey in d.eyes)
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
        if all(_overlap(d.box, k.box) < 1 / 3 for k in kept):
            kept.append(d)
    return sorted(kept, key=lambda d: -d.box[2] * d.box[3])


def _overlap(a: Box, b: Box) -> float:
    """The intersection of two boxes over the area of the smaller one."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    smaller = min(a[2] * a[3], b[2] * b[3])
    return max(0, w) * max(0, h) / smaller if smaller else 0.0


def detect_faces(image_bgr: np.ndarray, **options: Any) -> list[Box]:
    """The boxes ``(x, y, w, h)`` of :func:`detect` (same options), largest first."""
    return [d.box for d in detect(image_bgr, **options)]


def crop_face(
    image: np.ndarray,
    box: Box | Detection,
    *,
    size: int = CROP_SIZE,
    margin: float = CROP_MARGIN,
    align: bool = CROP_ALIGN,
    contrast: str = CROP_CONTRAST,
) -> np.ndarray:
    """The ``size`` x ``size`` uint8 grayscale crop of one face, as the network reads it.

    Parameters
    ----------
    image : ndarray
        The frame: BGR, BGRA or grayscale, 8 or 16 bits per channel.
    box : tuple or Detection
        The face's ``(x, y, w, h)`` in pixels, or a :class:`Detection` (whose eyes allow
        ``align``). It may reach past the image border, or lie 1 pixel wide.
    margin : float
        How much larger than the box's longer side the square is (0.2: 20% larger; the
        default, 0, squares MTCNN's box, which frames faces as FER2013 does).
    align : bool
        Rotate about the face's centre so the eyes are level (needs a detection with eyes).
    contrast : str
        ``none``, ``equalize`` (histogram equalisation) or ``clahe`` (OpenCV's CLAHE).

    Returns
    -------
    ndarray
        ``(size, size)`` uint8. Parts of the square outside the image repeat its border pixels.

    Raises
    ------
    CropError
        If the image or the box cannot give a crop (no pixels, a box of no area or entirely
        outside the image, a margin below -0.5...).
    """
    gray = to_gray(image)
    eyes = box.eyes if isinstance(box, Detection) else None
    x, y, w, h = _check_box(box.box if isinstance(box, Detection) else box, gray.shape)
    if contrast not in CONTRASTS:
        raise CropError(f"unknown contrast normalisation {contrast!r}; use {', '.join(CONTRASTS)}")
    if not -0.5 < margin <= 3 or size < 8:
        raise CropError(f"need -0.5 < margin <= 3 and size >= 8, got margin {margin}, size {size}")
    side = max(w, h) * (1 + margin)
    cx, cy = x + w / 2, y + h / 2
    angle = _eye_angle(eyes) if align and eyes is not None else 0.0
    # Cut a square a little larger than the face (room to rotate), shrink it with area
    # averaging (no aliasing), then rotate and take the centre at the network's size.
    reach = side * (math.sqrt(2) if angle else 1.0)
    work = max(size, round(size * reach / side))
    region = _take(gray, cx - reach / 2, cy - reach / 2, reach)
    inter = cv2.INTER_AREA if region.shape[0] > work else cv2.INTER_LINEAR
    region = cv2.resize(region, (work, work), interpolation=inter)
    if angle:
        centre = ((work - 1) / 2, (work - 1) / 2)
        rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
        region = cv2.warpAffine(
            region, rotation, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    start = (work - size) // 2
    crop = np.ascontiguousarray(region[start : start + size, start : start + size])
    return normalise_contrast(crop, contrast)


def normalise_contrast(gray: np.ndarray, contrast: str = CROP_CONTRAST) -> np.ndarray:
    """``gray`` (uint8) after contrast normalisation ``none``, ``equalize`` or ``clahe``."""
    if contrast == "equalize":
        return cv2.equalizeHist(gray)
    if contrast == "clahe":
        return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(gray)
    if contrast != "none":
        raise CropError(f"unknown contrast normalisation {contrast!r}; use {', '.join(CONTRASTS)}")
    return gray


def _check_box(box: Any, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise CropError(f"a face box is (x, y, w, h) in pixels, got {box!r}") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w < 1 or h < 1:
        raise CropError(f"a face box needs a width and height of at least 1 pixel, got {box!r}")
    height, width = shape
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise CropError(f"the face box {box!r} lies entirely outside the {width}x{height} image")
    return x, y, w, h


def _take(gray: np.ndarray, left: float, top: float, side: float) -> np.ndarray:
    """The square ``side`` pixels wide at ``(left, top)``; pixels outside repeat the border."""
    n = max(1, round(side))
    x0, y0 = round(left), round(top)
    h, w = gray.shape
    pad = (max(0, -y0), max(0, y0 + n - h), max(0, -x0), max(0, x0 + n - w))
    inside = gray[max(0, y0) : min(h, y0 + n), max(0, x0) : min(w, x0 + n)]
    return np.pad(inside, ((pad[0], pad[1]), (pad[2], pad[3])), mode="edge")


def _eye_angle(eyes: tuple[Point, Point]) -> float:
    """Degrees to rotate (OpenCV's sense: counter-clockwise) so the eyes are level."""
    (x1, y1), (x2, y2) = sorted(eyes)
    return math.degrees(math.atan2(y2 - y1, x2 - x1))


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
