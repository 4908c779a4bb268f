"""The faces the project may ship, for its demo calls: two public-domain portraits, and a smile
made from one of them.

- **Grace Hopper** (US Navy photograph, public domain), from matplotlib's sample data
  (:func:`capstone.synthetic.layouts.hopper`): the released model reads her as neutral.
- **Eileen Collins** (NASA photograph, public domain; scikit-image ships it as
  ``astronaut.png``), cropped to head and shoulders and shipped here as ``astronaut.jpg``:
  read as happy.
- **Hopper smiling**: her mouth corners and cheeks moved up by a smooth local warp
  (:func:`warp`); nothing is painted in.

Nobody's data, and the demo's readings are the model's own: the app reads these faces as it
reads any call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from capstone.faces.boxes import Box
from capstone.synthetic.layouts import HOPPER_FACE, hopper

Point = tuple[float, float]


@dataclass(frozen=True)
class Portrait:
    """A photo (BGR) with its face box and where its eyes and mouth corners are (as MTCNN
    finds them: left and right as seen in the picture)."""

    image: np.ndarray
    face: Box
    eyes: tuple[Point, Point]
    mouth: tuple[Point, Point]


def hopper_portrait() -> Portrait:
    """Grace Hopper, with the landmarks MTCNN finds in ``grace_hopper.jpg``."""
    return Portrait(hopper(), HOPPER_FACE, ((220, 190), (308, 186)), ((232, 277), (304, 273)))


def astronaut_portrait() -> Portrait:
    """Eileen Collins, from the crop shipped beside this module."""
    path = Path(__file__).with_name("astronaut.jpg")
    image = cv2.imread(str(path))
    if image is None:
        raise FileNotFoundError(f"{path}: the demo's portrait is missing; reinstall the package")
    return Portrait(image, (92, 64, 83, 107), ((114, 100), (155, 102)), ((112, 139), (154, 140)))


def warp(image: np.ndarray, points: list[Point], moves: list[Point], sigma: float) -> np.ndarray:
    """``image`` with the content at each of ``points`` moved by its ``moves`` (pixels),
    smoothly: each move fades with distance as a Gaussian of width ``sigma`` pixels."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    for (px, py), (dx, dy) in zip(points, moves, strict=True):
        weight = np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * sigma**2))
        map_x -= dx * weight
        map_y -= dy * weight
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def smiling(portrait: Portrait) -> Portrait:
    """The same portrait with a smile: mouth corners up and out, cheeks raised (sizes in
    eye distances, chosen where the released model reads Hopper as happy at full size and in
    a gallery tile)."""
    (lx, ly), (rx, ry) = portrait.eyes
    (ml, mly), (mr, mry) = portrait.mouth
    eye = float(np.hypot(rx - lx, ry - ly))
    up, out, cheek = 0.18 * eye, 0.08 * eye, 0.12 * eye
    points = [(ml, mly), (mr, mry), (lx, ly + 0.5 * eye), (rx, ry + 0.5 * eye)]
    moves = [(-out, -up), (out, -up), (0.0, -cheek), (0.0, -cheek)]
    moved = warp(portrait.image, points, moves, 0.22 * eye)
    return Portrait(moved, portrait.face, portrait.eyes, portrait.mouth)
