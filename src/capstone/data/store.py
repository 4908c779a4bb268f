"""The processed dataset: every image decoded once into arrays, saved as ``.npz`` with its hash.

Stages after download read these stores, never the raw images, and build ``tf.data``
pipelines from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from capstone.artefacts import atomic_path
from capstone.data.layout import scan
from capstone.params import CLASSES


@dataclass(frozen=True)
class Store:
    """Images of one dataset as arrays.

    ``x`` is ``(n, size, size)`` uint8 grayscale, ``y`` the class index into ``CLASSES``,
    ``split`` one of ``train``/``val``/``test``, ``path`` the raw file it came from.
    """

    x: np.ndarray
    y: np.ndarray
    split: np.ndarray
    path: np.ndarray

    def subset(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Images and labels of one split."""
        keep = self.split == split
        return self.x[keep], self.y[keep]

    def table(self) -> pd.DataFrame:
        """One row per image: ``path``, ``label``, ``split``."""
        labels = np.asarray(CLASSES)[self.y]
        return pd.DataFrame({"path": self.path, "label": labels, "split": self.split})


def read_image(path: str | Path, size: int) -> np.ndarray | None:
    """Decode an image file to ``size`` x ``size`` grayscale uint8, or ``None`` if unreadable."""
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if img is None:
        return None
    if img.shape != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return img


def build_store(
    raw_dir: Path, out: Path, size: int, splits: Any, progress: bool = True
) -> dict[str, Any]:
    """Decode every image under ``raw_dir`` into a :class:`Store` saved at ``out``.

    Parameters
    ----------
    raw_dir
        A dataset tree that :func:`capstone.data.layout.scan` understands.
    out
        Where the ``.npz`` goes (written atomically).
    size
        Side length of the square grayscale images.
    splits
        A function from the scanned table to an array of ``train``/``val``/``test``.

    Returns
    -------
    dict
        A summary: image count, unreadable files, per-split counts.
    """
    table = scan(raw_dir)
    table["split"] = splits(table)
    images, keep, bad = [], [], []
    for i, rel in enumerate(
        tqdm(table["path"], desc=f"decode {raw_dir.name}", disable=not progress)
    ):
        img = read_image(raw_dir / rel, size)
        if img is None:
            bad.append(rel)
            continue
        images.append(img)
        keep.append(i)
    table = table.iloc[keep].reset_index(drop=True)
    labels = table["label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy(np.int64)
    with atomic_path(out) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(
            fh,
            x=np.stack(images),
            y=labels,
            split=table["split"].to_numpy(str),
            path=table["path"].to_numpy(str),
        )
    return {
        "images": len(table),
        "unreadable": bad,
        "per_split": table["split"].value_counts().sort_index().to_dict(),
    }


def load_store(path: str | Path) -> Store:
    """Read a store written by :func:`build_store`."""
    with np.load(path, allow_pickle=False) as npz:
        return Store(x=npz["x"], y=npz["y"], split=npz["split"], path=npz["path"])


def fer2013_splits(table: pd.DataFrame) -> np.ndarray:
    """FER2013's protocol: Training -> train, PublicTest -> val, PrivateTest -> test."""
    mapping = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
    return table["subset"].map(mapping).fillna("train").to_numpy(str)


def holdout_splits(val: float, test: float, seed: int) -> Any:
    """A stratified random split for datasets that ship none (AffectNet-HQ)."""

    def split(table: pd.DataFrame) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.full(len(table), "train", dtype=object)
        for members in table.groupby("label").indices.values():
            idx = rng.permutation(members)
            n_test, n_val = round(len(idx) * test), round(len(idx) * val)
            out[idx[:n_test]] = "test"
            out[idx[n_test : n_test + n_val]] = "val"
        return out.astype(str)

    return split


def to_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0
) -> Any:
    """A batched ``tf.data.Dataset`` of ``(image float32 in [0, 1] with a channel axis, one-hot)``."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x[..., None], y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(
        lambda a, b: (tf.cast(a, tf.float32) / 255.0, tf.one_hot(b, len(CLASSES))),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def combine(stores: list[Store], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of ``split`` from several stores, concatenated in order."""
    parts = [s.subset(split) for s in stores]
    return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])
