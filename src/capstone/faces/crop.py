"""THE face crop that every reader shares.

:func:`crop_face` cuts a detected face out the way the network was trained to see it: a
square around the box, enlarged by a margin, optionally rotated so the eyes are level,
in grayscale, at 48x48 (:data:`capstone.labels.SIZE`). Data preparation (for datasets that
are not already cut like FER2013), evaluation and annotation all call it, so training and
use see the same crops.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from capstone.errors import CapstoneError
from capstone.faces.boxes import Box, Detection, Point
from capstone.labels import SIZE

# How the released model's crops are cut (benchmarks/face_crops.py measured the choices on
# the FER2013 and in-the-wild validation splits; the book's "Cutting faces out" page).
CROP_SIZE = SIZE


CROP_MARGIN = 0.0


CROP_ALIGN = False


CROP_CONTRAST = "none"


CONTRASTS = ("none", "equalize", "clahe")


class CropError(CapstoneError, ValueError):
    """A face cannot be cut out of this image with this box."""


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
