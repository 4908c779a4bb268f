"""The processed dataset: every image decoded once into arrays, saved as ``.npz``.

A dataset already cut like FER2013 (a face filling a small grayscale square) is converted to
grayscale and resized to ``size`` x ``size`` with area interpolation (``cv2.INTER_AREA``: each
output pixel averages the input pixels it covers, so shrinking does not alias). Any other
dataset (``crop`` names a detector) has its faces found and cut out by
:func:`capstone.faces.crop.crop_face`, exactly as annotation cuts faces from a call. Later stages
read these stores, never the raw images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from capstone.artefacts import atomic_path
from capstone.data import ferplus
from capstone.data.layout import scan
from capstone.errors import DataError
from capstone.faces.crop import crop_face
from capstone.faces.detect import Detection, detect
from capstone.labels import CLASSES, SIZE


@dataclass(frozen=True)
class Store:
    """All usable images of one dataset, as arrays of equal length.

    ``x`` is ``(n, size, size)`` uint8 grayscale; ``y`` the class index into ``CLASSES``;
    ``subset`` the dataset's own split (see :class:`capstone.data.layout.Scan`); ``path`` the
    raw file; ``height``/``width`` its size before resizing; ``digest`` a hash of its decoded
    pixels, equal for exact duplicates; ``face`` whether a detector found the face the crop
    was cut around (``True`` for datasets that are not cropped: they are faces already).
    ``votes``, for a crowd-labelled dataset (FER+), is ``(n, 10)``: each face's votes in
    :data:`capstone.data.ferplus.VOTE_COLUMNS`; ``y`` is then the most-voted of our classes.
    """

    x: np.ndarray
    y: np.ndarray
    subset: np.ndarray
    path: np.ndarray
    height: np.ndarray
    width: np.ndarray
    digest: np.ndarray
    face: np.ndarray
    votes: np.ndarray | None = None

    def table(self) -> pd.DataFrame:
        """One row per image, without the pixels."""
        return pd.DataFrame(
            {
                "path": self.path,
                "label": np.asarray(CLASSES)[self.y],
                "subset": self.subset,
                "height": self.height,
                "width": self.width,
                "brightness": self.x.mean(axis=(1, 2)),
                "contrast": self.x.std(axis=(1, 2)),
                "face found": self.face,
            }
        )


def pixel_digest(img: np.ndarray) -> str:
    """A hash of decoded pixels and their shape: equal for exact duplicates."""
    return hashlib.blake2b(img.tobytes() + str(img.shape).encode(), digest_size=12).hexdigest()


def decode(
    data: bytes | np.ndarray, size: int, crop: str = "none"
) -> tuple[np.ndarray, tuple[int, int], str, bool] | None:
    """Decode encoded image bytes.

    With ``crop`` ``none``, the whole image is the face: converted to grayscale and resized.
    With a detector's name (``mtcnn``, ``haar``), the largest face it finds is cut out with
    :func:`capstone.faces.crop.crop_face`; where it finds none, the whole image is the box.

    Returns the ``size`` x ``size`` grayscale image, the original ``(height, width)``, a hash
    of the original decoded pixels and whether a face was found (``True`` without ``crop``);
    or ``None`` if the bytes are not a readable image.
    """
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        return None
    digest = pixel_digest(img)
    shape = img.shape[:2]
    if crop != "none":
        found = detect(img, detector=crop)
        box = found[0] if found else Detection((0, 0, shape[1], shape[0]))
        return crop_face(img, box, size=size), shape, digest, bool(found)
    if img.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        img = cv2.cvtColor(img, code)
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1, int(img.max())))
    if shape != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return img, shape, digest, True


def build_store(
    raw_dir: Path, out: Path, size: int, progress: bool = True, crop: str = "none"
) -> dict[str, Any]:
    """Decode every image under ``raw_dir`` into a :class:`Store` saved at ``out``.

    ``crop`` is passed to :func:`decode`. Unreadable files are skipped and listed in the
    returned data-quality report; if no file is usable, a :class:`~capstone.errors.DataError`
    lists what the folder holds.

    Returns
    -------
    dict
        ``found`` (image files), ``stored``, ``unreadable`` (paths), ``dropped_classes``
        (class -> count, e.g. contempt), ``ignored_files`` (non-image files), ``per_subset``,
        and with ``crop``, ``crop`` (the detector) and ``faces_found`` (images whose face it
        found; the others were cut around the whole image).
    """
    found = scan(raw_dir)
    table = found.table
    images, keep, bad, shapes, digests, found_face = [], [], [], [], [], []
    verb = "detect and crop" if crop != "none" else "decode"
    paths = tqdm(table["path"], desc=f"{verb} {raw_dir.name}", disable=not progress, mininterval=2)
    for i, rel in enumerate(paths):
        decoded = decode(np.fromfile(raw_dir / rel, dtype=np.uint8), size, crop)
        if decoded is None:
            bad.append(rel)
            continue
        img, shape, digest, face = decoded
        images.append(img)
        keep.append(i)
        shapes.append(shape)
        digests.append(digest)
        found_face.append(face)
    if not images:
        raise DataError(_no_usable_image(raw_dir, found, bad))
    table = table.iloc[keep].reset_index(drop=True)
    heights, widths = np.asarray(shapes, dtype=np.int32).reshape(-1, 2).T
    with atomic_path(out) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(
            fh,
            x=np.stack(images) if images else np.zeros((0, size, size), np.uint8),
            y=table["label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy(np.int64),
            subset=table["subset"].to_numpy(str),
            path=table["path"].to_numpy(str),
            height=heights,
            width=widths,
            digest=np.asarray(digests, dtype=str),
            face=np.asarray(found_face, dtype=bool),
        )
    cropped = {"crop": crop, "faces_found": int(sum(found_face))} if crop != "none" else {}
    return {
        "found": len(found.table),
        "stored": len(table),
        "unreadable": bad,
        "dropped_classes": found.dropped,
        "ignored_files": found.ignored,
        "per_subset": {
            str(k): int(v) for k, v in table["subset"].value_counts().sort_index().items()
        },
        **cropped,
    }


def _no_usable_image(raw_dir: Path, found: Any, unreadable: list[str], shown: int = 10) -> str:
    """Why a dataset folder gave no image, with the files it holds."""

    def listing(files: list[str]) -> str:
        more = f", and {len(files) - shown:,} more" if len(files) > shown else ""
        return ", ".join(map(str, files[:shown])) + more

    what = (
        f"{len(unreadable):,} image files, none of which could be decoded: {listing(unreadable)}"
        if unreadable
        else "no image files in the layout <split>/<class>/<image>"
    )
    others = list(found.ignored) + [f"{k} ({v})" for k, v in found.dropped.items()]
    return (
        f"{raw_dir}: no usable image; found {what}"
        + (f"; other files and classes left out: {listing(others)}" if others else "")
        + ". Point the dataset's path in the profile at a zip or folder laid out like "
        "Kaggle's FER2013 (train/happy/0001.png, test/sad/0002.png, ...)."
    )


def load_folder(
    folder: str | Path, size: int = SIZE, crop: str = "none"
) -> tuple[np.ndarray, np.ndarray]:
    """A labelled test set from a folder of class subfolders, as ``(x, y)`` arrays.

    ``crop`` is passed to :func:`decode`. Unreadable images are skipped. Raises
    :class:`~capstone.errors.DataError` if the folder has no ``<class>/<image>`` layout
    (from :func:`~capstone.data.layout.scan`) or no image in it can be read.
    """
    folder = Path(folder)
    found = scan(folder)
    images, labels, bad = [], [], []
    for rel, label in zip(found.table["path"], found.table["label"], strict=True):
        decoded = decode(np.fromfile(folder / rel, dtype=np.uint8), size, crop)
        if decoded is None:
            bad.append(rel)
            continue
        images.append(decoded[0])
        labels.append(CLASSES.index(label))
    if not images:
        raise DataError(_no_usable_image(folder, found, bad))
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def load_store(path: str | Path) -> Store:
    """Read a store written by :func:`build_store`."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in Store.__dataclass_fields__ if name in npz}
    arrays.setdefault("face", np.ones(len(arrays["y"]), bool))  # stores written before crops
    return Store(**arrays)


def build_crowd_store(raw_dir: Path, out: Path) -> dict[str, Any]:
    """The FER+ faces under ``raw_dir`` (:func:`capstone.data.ferplus.load_faces`) as a
    :class:`Store` with every face's 10 votes, saved at ``out``.

    Returns the data-quality report: ``found`` and ``stored`` faces, ``left_out`` (rows of
    the votes file set aside, and why), ``readable`` faces (:func:`~capstone.data.ferplus.readable`;
    the others, counted in ``dropped_classes``, stay out of the splits) and ``per_subset``.
    """
    data = ferplus.load_faces(raw_dir)
    table, votes = data.crowd.table, data.crowd.votes
    folders = table["usage"].map(ferplus.FOLDERS)
    digests = [pixel_digest(face) for face in data.x]
    with atomic_path(out) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(
            fh,
            x=data.x,
            y=ferplus.counts(votes).argmax(axis=1).astype(np.int64),
            subset=table["usage"].to_numpy(str),
            path=(folders + "/" + table["image"]).to_numpy(str),
            height=np.full(len(data.x), SIZE, np.int32),
            width=np.full(len(data.x), SIZE, np.int32),
            digest=np.asarray(digests, dtype=str),
            face=np.ones(len(data.x), bool),
            votes=votes,
        )
    readable = int(ferplus.readable(votes).sum())
    return {
        "found": len(table) + sum(data.crowd.left_out.values()),
        "stored": len(table),
        "unreadable": [],
        "ignored_files": [],
        "dropped_classes": {"contempt, unknown or not a face": len(table) - readable},
        "left_out": data.crowd.left_out,
        "readable": readable,
        "per_subset": {
            str(k): int(v) for k, v in table["usage"].value_counts().sort_index().items()
        },
    }
