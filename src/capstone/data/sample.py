"""The embedded default: a synthetic facial-expression dataset, generated offline.

Each image is a cartoon face whose brows, eyes and mouth are deformed towards one of the
seven expressions by a random *intensity*, so weak expressions look alike (a model cannot
reach 100%). Identity (face shape, skin tone, eye spacing), pose (rotation, shift, scale),
lighting, background, blur and noise vary, so a model has to learn the expression rather
than look it up. Everything is drawn from one seed, so the same seed gives the same bytes.

Two sources are written as zip archives in the layouts of the real datasets:

- ``fer2013.zip``: 48x48 grayscale JPEGs in Kaggle's ``train/<class>/Training_<n>.jpg`` and
  ``test/<class>/{PublicTest,PrivateTest}_<n>.jpg`` layout, with FER2013's class imbalance;
- ``wild.zip``: larger colour JPEGs in ``<class>/<n>.jpg`` folders, using AffectNet's
  class names (``anger`` rather than ``angry``), with no split.

A third, ``ferplus.zip``, stands in for FER+ (:mod:`capstone.data.ferplus`): 48x48 PNGs in
FERPlus's folders with ``fer2013new.csv``, 10 made-up taggers' votes a face.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from capstone.data.ferplus import FOLDERS, TO_CLASS, VOTE_COLUMNS, VOTES_FILE
from capstone.labels import CLASSES, SIZE

#: FER2013's Training counts per class, in ``CLASSES`` order; used for the imbalance.
FER_TRAIN_COUNTS = (3995, 436, 4097, 7215, 4965, 4830, 3171)
#: AffectNet-HQ's folder names for the same classes.
AFFECTNET_NAMES = ("anger", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# How each expression moves the face away from neutral, at intensity 1.
# brow_in / brow_out: vertical shift of the inner / outer brow end (+ is down),
# eye: eye opening (1 = neutral), mouth: bend (+ = corners up), open: mouth opening,
# tilt: asymmetric corner lift (disgust), wrinkle: nose wrinkles.
_SHAPES = {
    "angry": dict(brow_in=0.14, brow_out=-0.04, eye=0.55, bend=-0.04, open=0.0, tilt=0.0),
    "disgust": dict(brow_in=0.08, brow_out=0.02, eye=0.5, bend=-0.02, open=0.03, tilt=0.12),
    "fear": dict(brow_in=-0.14, brow_out=-0.04, eye=1.5, bend=-0.05, open=0.07, tilt=0.0),
    "happy": dict(brow_in=0.0, brow_out=0.0, eye=0.6, bend=0.16, open=0.04, tilt=0.0),
    "neutral": dict(brow_in=0.0, brow_out=0.0, eye=1.0, bend=0.0, open=0.0, tilt=0.0),
    "sad": dict(brow_in=-0.1, brow_out=0.06, eye=0.8, bend=-0.13, open=0.0, tilt=0.0),
    "surprise": dict(brow_in=-0.18, brow_out=-0.16, eye=1.7, bend=0.0, open=0.2, tilt=0.0),
}


@dataclass(frozen=True)
class Identity:
    """What stays the same for one synthetic person."""

    face_w: float
    face_h: float
    skin: tuple[int, int, int]
    eye_gap: float
    eye_y: float
    mouth_y: float
    hair: bool


def make_identities(rng: np.random.Generator, n: int) -> list[Identity]:
    """Draw ``n`` random people."""
    people = []
    for _ in range(n):
        tone = rng.uniform(0.25, 0.95)
        skin = (int(150 * tone + 40), int(170 * tone + 45), int(200 * tone + 50))  # BGR
        people.append(
            Identity(
                face_w=rng.uniform(0.30, 0.38),
                face_h=rng.uniform(0.40, 0.48),
                skin=skin,
                eye_gap=rng.uniform(0.32, 0.44),
                eye_y=rng.uniform(-0.22, -0.08),
                mouth_y=rng.uniform(0.42, 0.56),
                hair=bool(rng.random() < 0.6),
            )
        )
    return people


def render_face(
    rng: np.random.Generator, label: str, person: Identity, size: int, colour: bool
) -> np.ndarray:
    """Draw one face showing ``label`` and return it as a ``size`` x ``size`` image.

    Returns an ``(size, size, 3)`` BGR array if ``colour`` else an ``(size, size)`` gray one.
    """
    s = size * 3  # draw large, then shrink: smooth edges at any size
    shape = {k: v * rng.uniform(0.35, 1.0) for k, v in _SHAPES[label].items()}
    shape["eye"] = 1 + (_SHAPES[label]["eye"] - 1) * rng.uniform(0.35, 1.0)

    img = _background(rng, s)
    cx, cy = s / 2 + rng.normal(0, 0.02 * s), s / 2 + rng.normal(0, 0.02 * s)
    a, b = person.face_w * s, person.face_h * s
    skin = tuple(int(np.clip(c + rng.normal(0, 8), 0, 255)) for c in person.skin)
    dark = tuple(int(c * 0.35) for c in skin)
    if person.hair:
        cv2.ellipse(img, _pt(cx, cy - 0.25 * b), _pt(a * 1.08, b * 0.85), 0, 180, 360, dark, -1)
    cv2.ellipse(img, _pt(cx, cy), _pt(a, b), 0, 0, 360, skin, -1, cv2.LINE_AA)

    line = max(2, round(s / 60))
    for side in (-1, 1):
        ex, ey = cx + side * person.eye_gap * a, cy + person.eye_y * b
        rx, ry = 0.17 * a, 0.09 * b * shape["eye"]
        cv2.ellipse(img, _pt(ex, ey), _pt(rx, ry), 0, 0, 360, (245, 245, 245), -1, cv2.LINE_AA)
        cv2.circle(img, _pt(ex, ey), round(min(rx, ry) * 0.8), dark, -1, cv2.LINE_AA)
        inner = (cx + side * 0.12 * a, ey - 0.2 * b + shape["brow_in"] * b)
        outer = (cx + side * 0.62 * a, ey - 0.2 * b + shape["brow_out"] * b)
        cv2.line(img, _pt(*inner), _pt(*outer), dark, line + 1, cv2.LINE_AA)

    nose_y = cy + 0.22 * b
    cv2.line(img, _pt(cx, cy), _pt(cx + 0.05 * a, nose_y), dark, line // 2 + 1, cv2.LINE_AA)
    if shape["tilt"] > 0.04:  # disgust wrinkles the nose
        for side in (-1, 1):
            x = cx + side * 0.12 * a
            cv2.line(img, _pt(x, nose_y - 0.1 * b), _pt(x + side * 0.06 * a, nose_y), dark, line)

    my, w = cy + person.mouth_y * b, 0.42 * a
    xs = np.linspace(-w, w, 21)
    ys = my - shape["bend"] * b * (xs / w) ** 2 - shape["tilt"] * b * (xs / w)
    lips = np.stack([cx + xs, ys], axis=1)
    if shape["open"] > 0.02:
        lower = lips.copy()
        lower[:, 1] += shape["open"] * b * 2 * (1 - (xs / w) ** 2)
        poly = np.concatenate([lips, lower[::-1]])
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], (40, 30, 60), cv2.LINE_AA)
    cv2.polylines(img, [np.round(lips).astype(np.int32)], False, dark, line, cv2.LINE_AA)

    img = _pose_and_light(rng, img)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    img = np.clip(img + rng.normal(0, rng.uniform(2, 9), img.shape), 0, 255).astype(np.uint8)
    return img if colour else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def _background(rng: np.random.Generator, s: int) -> np.ndarray:
    base = rng.uniform(30, 220, size=3)
    ramp = np.linspace(-1, 1, s)[None, :, None] * rng.uniform(-40, 40, size=3)
    img = np.broadcast_to(base + ramp, (s, s, 3)).astype(np.float32)
    return np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))


def _pose_and_light(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    s = img.shape[0]
    angle, scale = rng.normal(0, 9), rng.uniform(0.85, 1.15)
    m = np.asarray(cv2.getRotationMatrix2D((s / 2, s / 2), angle, scale), dtype=np.float64)
    m[:, 2] += rng.normal(0, 0.04 * s, size=2)
    img = cv2.warpAffine(img, m, (s, s), borderMode=cv2.BORDER_REFLECT)
    direction = rng.uniform(0, 2 * np.pi)
    xx, yy = np.meshgrid(np.linspace(-1, 1, s), np.linspace(-1, 1, s))
    light = 1 + rng.uniform(0.1, 0.45) * (np.cos(direction) * xx + np.sin(direction) * yy)
    gain = rng.uniform(0.6, 1.25)
    img = img.astype(np.float32) * (gain * light)[..., None]
    if rng.random() < 0.4:
        k = 2 * int(rng.integers(1, 4)) + 1
        img = cv2.GaussianBlur(img, (k, k), 0)
    return img


def _counts(total: int, weights: tuple[int, ...]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, at least 2 per class."""
    share = np.asarray(weights, dtype=float) / sum(weights)
    return [max(2, round(total * p)) for p in share]


def _jpeg(img: np.ndarray, quality: int = 92) -> bytes:
    mode_img = Image.fromarray(img if img.ndim == 2 else img[..., ::-1])
    buf = io.BytesIO()
    mode_img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _write_zip(path: Path, files: list[tuple[str, bytes]]) -> None:
    """Write ``files`` into a zip with fixed timestamps, so the archive bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    tmp.replace(path)


def _fer_faces(n_train: int, n_test: int, seed: int) -> Iterator[tuple[str, str, np.ndarray]]:
    """``(usage, label, face)`` of the FER2013-like faces: ``n_train`` Training faces and
    ``n_test`` in each of PublicTest and PrivateTest, with FER2013's class imbalance. Both
    archives that hold these faces (FER2013's JPEGs, FER+'s PNGs) draw them from here."""
    rng = np.random.default_rng([seed, 2013])
    people = make_identities(rng, 60)
    for usage, total in (("Training", n_train), ("PublicTest", n_test), ("PrivateTest", n_test)):
        for label, count in zip(CLASSES, _counts(total, FER_TRAIN_COUNTS), strict=True):
            for _ in range(count):
                person = people[int(rng.integers(len(people)))]
                yield usage, label, render_face(rng, label, person, SIZE, colour=False)


def write_fer2013_zip(path: Path, n_train: int, n_test: int, seed: int) -> Path:
    """Write a FER2013-like archive in Kaggle's layout to ``path``.

    ``n_train`` images go to ``train/`` and ``n_test`` to each of PublicTest and PrivateTest.
    """
    files: list[tuple[str, bytes]] = []
    for usage, label, img in _fer_faces(n_train, n_test, seed):
        split = "train" if usage == "Training" else "test"
        files.append((f"{split}/{label}/{usage}_{len(files)}.jpg", _jpeg(img)))
    _write_zip(path, files)
    return path


def write_affectnet_zip(path: Path, n_images: int, size: int, seed: int) -> Path:
    """Write an AffectNet-like archive (colour, ``size`` px, ``<class>/<n>.jpg``) to ``path``."""
    rng = np.random.default_rng([seed, 2017])
    people = make_identities(rng, 40)
    files = []
    per_class = _counts(n_images, (5, 2, 3, 6, 6, 4, 4))
    for name, label, count in zip(AFFECTNET_NAMES, CLASSES, per_class, strict=True):
        for i in range(count):
            person = people[int(rng.integers(len(people)))]
            img = render_face(rng, label, person, size, colour=True)
            files.append((f"{name}/image{i:05d}.jpg", _jpeg(img)))
    _write_zip(path, files)
    return path


def crowd_votes(rng: np.random.Generator, label: str, taggers: int = 10) -> list[int]:
    """Made-up votes of ``taggers`` people for a face drawn as ``label``, in FER+'s columns.

    Most taggers see the drawn expression; the others split between one other expression
    and, now and then, contempt, unknown or not-a-face, as FER+'s crowd does.
    """
    ours = next(src for src, dst in TO_CLASS.items() if dst == label)
    other = VOTE_COLUMNS[int(rng.integers(7))]
    stray = VOTE_COLUMNS[7 + int(rng.integers(3))]
    agree = int(rng.integers(4, taggers + 1))
    votes = dict.fromkeys(VOTE_COLUMNS, 0)
    votes[ours] += agree
    for _ in range(taggers - agree):
        votes[stray if rng.random() < 0.15 else other] += 1
    return [votes[c] for c in VOTE_COLUMNS]


def write_ferplus_zip(path: Path, n_train: int, n_test: int, seed: int) -> Path:
    """Write a FER+-like archive in FERPlus's layout to ``path``: the faces of
    :func:`write_fer2013_zip` (same sizes and seed) as lossless PNGs in ``FER2013Train/``,
    ``FER2013Valid/`` and ``FER2013Test/``, and ``fer2013new.csv`` with a crowd's votes.

    Like the real file, the CSV has a row with no image (a face FER+ dropped) after each
    subset, and an image listed twice with the same votes.
    """
    rng = np.random.default_rng([seed, 2016])
    files, lines = [], [f"Usage,Image name,{','.join(VOTE_COLUMNS)}"]
    usage_before = "Training"
    for usage, label, img in _fer_faces(n_train, n_test, seed):
        if usage != usage_before:
            lines.append(f"{usage_before},,{','.join(['0'] * 9)},10")  # dropped: not a face
            usage_before = usage
        name = f"fer{len(lines) - 1:07d}.png"
        files.append((f"{FOLDERS[usage]}/{name}", cv2.imencode(".png", img)[1].tobytes()))
        lines.append(f"{usage},{name},{','.join(map(str, crowd_votes(rng, label)))}")
    lines.append(f"{usage_before},,{','.join(['0'] * 9)},10")
    lines.append(lines[1])  # an image listed twice, with the same votes
    files.append((VOTES_FILE, ("\n".join(lines) + "\n").encode()))
    _write_zip(path, files)
    return path
