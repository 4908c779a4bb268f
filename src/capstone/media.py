"""Reading a user's picture: a file that is there, an image that decodes, a size that fits
in memory. Every caller that loads a screenshot or a photo goes through :func:`load_image`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, listed

MAX_PIXELS = 40_000_000  # larger images are refused rather than exhausting memory


class MediaError(CapstoneError):
    """An input file is not a readable image."""


def check_input_file(path: Path) -> None:
    """Refuse a path that is missing or a folder, saying which."""
    if path.is_dir():
        raise MediaError(f"{path}: is a folder; give the image or video files in it")
    if not path.is_file():
        raise MediaError(f"{path}: no such file")


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR, refusing unreadable, truncated or oversized files."""
    path = Path(path)
    check_input_file(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaError(f"{path}: not an image ({listed(IMAGE_SUFFIXES)} are supported)")
    too_large = f"{path}: image larger than {max_pixels:,} pixels; downscale it first"
    try:  # read only the header first: refuse decompression bombs before decoding
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as probe:
                width, height = probe.size
    except Image.DecompressionBombError:
        raise MediaError(too_large) from None
    except OSError:
        raise MediaError(
            f"{path}: cannot decode the image (truncated or not an image file)"
        ) from None
    if width * height > max_pixels:
        raise MediaError(too_large)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise MediaError(f"{path}: cannot decode the image (truncated or not an image file)")
    return image
