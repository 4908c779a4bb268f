"""Call frames composed from a real photo, with the true face boxes: for the demo, the tests,
and the detector scores on the model card.

Gallery view (2x2 to 7x7 tiles in a 1280x720 frame), speaker view (one large tile and a strip
of small thumbnails), and screen share (a slide with a strip of thumbnails). Each tile holds
a variant of the same real portrait (mirrored, cropped, darker, lower contrast), so every
tile has exactly one face whose box is known.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def gallery_frame(
    tiles: list[np.ndarray], cols: int, tile: tuple[int, int] = (480, 360)
) -> np.ndarray:
    """Compose a gallery-view call frame: each image fitted into a tile on a dark background."""
    tw, th = tile
    rows = -(-len(tiles) // cols)
    frame = np.full((rows * th + (rows + 1) * 8, cols * tw + (cols + 1) * 8, 3), 32, np.uint8)
    for i, img in enumerate(tiles):
        r, c = divmod(i, cols)
        place(frame, img, (0, 0, 0, 0), (8 + c * (tw + 8), 8 + r * (th + 8), tw, th))
    return frame


import time

from capstone.faces.boxes import Box, match
from capstone.faces.detect import detect_faces

FRAME = (1280, 720)


# grace_hopper.jpg (matplotlib's sample data, 512x600): the face, labelled by hand.
HOPPER_FACE: Box = (175, 120, 175, 210)


def variants(photo: np.ndarray, face: Box) -> list[tuple[np.ndarray, Box]]:
    """Four looks of one portrait with the face box in each: as is, mirrored, cropped, darker."""
    h, w = photo.shape[:2]
    x, y, fw, fh = face
    top, left = max(0, y - 100), max(0, x - 80)
    crop = photo[top : min(h, y + fh + 160), left : min(w, x + fw + 80)]
    return [
        (photo, face),
        (cv2.flip(photo, 1), (w - x - fw, y, fw, fh)),
        (crop, (x - left, y - top, fw, fh)),
        (cv2.convertScaleAbs(photo, alpha=0.55, beta=10), face),
    ]


CASTS = [(1.0, 1.0, 1.0), (1.3, 1.0, 0.7), (0.7, 1.15, 1.0), (1.0, 0.75, 1.3)]  # B, G, R gains


def people(photo: np.ndarray, face: Box) -> list[tuple[np.ndarray, Box]]:
    """Four participants from one portrait, told apart as a tracker must tell people apart:
    each of :func:`variants` in its own light (a colour cast, as different rooms and screens
    give)."""
    return [
        (np.clip(image * np.array(cast), 0, 255).astype(np.uint8), box)
        for (image, box), cast in zip(variants(photo, face), CASTS, strict=True)
    ]


def synthetic_people(n: int = 4, size: int = 200, seed: int = 0) -> list[tuple[np.ndarray, Box]]:
    """``n`` participants drawn as the sample profile draws its faces
    (:func:`capstone.data.sample.render_face`), each a different person with a neutral face,
    with the box the face is drawn in (roughly: the sample's pose jitter moves it a little).
    A second cast, unlike any photo, for testing identity on given boxes: MTCNN finds few
    of these drawn faces, so the end-to-end composed calls use :func:`people`."""
    from capstone.data.sample import make_identities, render_face

    rng = np.random.default_rng(seed)
    looks = []
    for person in make_identities(rng, n):
        image = render_face(rng, "neutral", person, size, colour=True)
        w, h = round(2 * person.face_w * size), round(2 * person.face_h * size)
        looks.append((image, ((size - w) // 2, (size - h) // 2, w, h)))
    return looks


def place(frame: np.ndarray, image: np.ndarray, face: Box, tile: tuple[int, int, int, int]) -> Box:
    """Fit ``image`` into ``tile`` ``(x, y, w, h)`` of ``frame``; return the face's new box."""
    tx, ty, tw, th = tile
    scale = min(tw / image.shape[1], th / image.shape[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x0, y0 = tx + (tw - small.shape[1]) // 2, ty + (th - small.shape[0]) // 2
    frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    x, y, w, h = face
    return (x0 + round(x * scale), y0 + round(y * scale), round(w * scale), round(h * scale))


HIGHLIGHT_BGR = (60, 205, 35)  # the green outline Zoom draws around the speaking tile


def gallery(
    photo: np.ndarray,
    face: Box,
    n: int,
    *,
    highlight: int | None = None,
    looks: list[tuple[np.ndarray, Box]] | None = None,
    order: list[int] | None = None,
) -> tuple[np.ndarray, list[Box]]:
    """An ``n`` x ``n`` gallery view; ``highlight`` outlines that tile as the speaker's.

    Tile ``i`` shows ``looks[order[i]]`` (default: :func:`variants` in turn, every tile).
    """
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 28, np.uint8)
    looks, truth, gap = looks or variants(photo, face), [], 6
    order = list(range(n * n)) if order is None else order
    tw, th = (fw - gap * (n + 1)) // n, (fh - gap * (n + 1)) // n
    for i, look in enumerate(order):
        r, c = divmod(i, n)
        image, box = looks[look % len(looks)]
        tile = (gap + c * (tw + gap), gap + r * (th + gap), tw, th)
        truth.append(place(frame, image, box, tile))
        if i == highlight:
            x, y, w, h = tile
            cv2.rectangle(frame, (x - 2, y - 2), (x + w + 1, y + h + 1), HIGHLIGHT_BGR, 4)
    return frame, truth


def speaker(
    photo: np.ndarray,
    face: Box,
    thumbs: int = 4,
    looks: list[tuple[np.ndarray, Box]] | None = None,
    order: list[int] | None = None,
) -> tuple[np.ndarray, list[Box]]:
    """Speaker view: one large tile below a strip of ``thumbs`` small ones.

    The large tile shows ``looks[order[0]]``, the strip the rest of ``order`` (default:
    :func:`variants` in turn).
    """
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 28, np.uint8)
    looks = looks or variants(photo, face)
    order = list(range(thumbs + 1)) if order is None else order
    thumbs = len(order) - 1
    truth = [place(frame, *looks[order[0] % len(looks)], (0, 110, fw, fh - 110))]
    for i in range(thumbs):
        image, box = looks[order[i + 1] % len(looks)]
        truth.append(place(frame, image, box, (fw // 2 - thumbs * 90 + i * 180, 5, 170, 100)))
    return frame, truth


def screen_share(photo: np.ndarray, face: Box, thumbs: int = 4) -> tuple[np.ndarray, list[Box]]:
    """Screen share: a slide with text lines and a chart, and a strip of thumbnails on the right."""
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 245, np.uint8)
    cv2.putText(
        frame, "Q3 pricing proposal", (60, 90), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (40, 40, 40), 3
    )
    for i in range(6):
        cv2.line(frame, (60, 160 + 50 * i), (700, 160 + 50 * i), (150, 150, 150), 8)
    for i, height in enumerate([120, 200, 160, 260]):
        cv2.rectangle(frame, (760 + i * 70, 560 - height), (810 + i * 70, 560), (200, 120, 40), -1)
    looks, truth = variants(photo, face), []
    for i in range(thumbs):
        image, box = looks[i % len(looks)]
        truth.append(place(frame, image, box, (fw - 230, 20 + i * 175, 220, 165)))
    return frame, truth


def hopper() -> np.ndarray:
    """The portrait every composed call is made of: matplotlib's ``grace_hopper.jpg`` (BGR)."""
    from matplotlib import cbook

    path = str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    image = cv2.imread(path)
    if image is None:
        raise FileNotFoundError(f"{path}: matplotlib's sample portrait is missing or unreadable")
    return image


def call_layouts(
    photo: np.ndarray, face: Box = HOPPER_FACE
) -> dict[str, tuple[np.ndarray, list[Box]]]:
    """Every layout, by name, with its true face boxes."""
    layouts = {f"gallery {n}x{n}": gallery(photo, face, n) for n in (2, 3, 4, 5, 7)}
    layouts["speaker view"] = speaker(photo, face)
    layouts["screen share"] = screen_share(photo, face)
    return layouts


def score_detectors(
    layouts: dict[str, tuple[np.ndarray, list[Box]]], detectors: tuple[str, ...] = ("haar", "mtcnn")
) -> list[dict[str, Any]]:
    """Recall, precision and time of each detector on each layout (a hit: IoU >= 0.4)."""
    rows = []
    for detector in detectors:
        detect_faces(next(iter(layouts.values()))[0], detector=detector)  # warm-up
        for name, (frame, truth) in layouts.items():
            start = time.perf_counter()
            found = detect_faces(frame, detector=detector)
            seconds = time.perf_counter() - start
            counts = match(found, truth)
            tp = counts["true_positives"]
            rows.append(
                {
                    "layout": name,
                    "detector": detector,
                    "faces": len(truth),
                    "smallest face (px)": min(min(b[2], b[3]) for b in truth),
                    **counts,
                    "recall": tp / len(truth),
                    "precision": tp / len(found) if found else 1.0,
                    "seconds": round(seconds, 3),
                }
            )
    return rows
