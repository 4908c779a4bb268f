from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from capstone import sample
from capstone.data.store import build_store, combine, fer2013_splits, holdout_splits, load_store


def test_store_keeps_fer2013_protocol_and_skips_unreadable(tmp_path: Path) -> None:
    archive = sample.write_fer2013_zip(tmp_path / "fer.zip", 140, 28, seed=0)
    zipfile.ZipFile(archive).extractall(tmp_path / "raw")
    (tmp_path / "raw/train/sad/Training_bad.jpg").write_bytes(b"\xff\xd8 truncated")
    summary = build_store(
        tmp_path / "raw", tmp_path / "fer.npz", 48, fer2013_splits, progress=False
    )
    assert summary["unreadable"] == ["train/sad/Training_bad.jpg"]
    store = load_store(tmp_path / "fer.npz")
    assert store.x.shape[1:] == (48, 48)
    assert store.x.dtype == np.uint8
    counts = dict(zip(*np.unique(store.split, return_counts=True), strict=True))
    assert counts["val"] == counts["test"] == len(store.y) - counts["train"] - counts["val"]


def test_holdout_split_is_stratified_and_deterministic(tmp_path: Path) -> None:
    archive = sample.write_affectnet_zip(tmp_path / "an.zip", 140, 48, seed=0)
    zipfile.ZipFile(archive).extractall(tmp_path / "raw")
    build_store(
        tmp_path / "raw", tmp_path / "a.npz", 48, holdout_splits(0.2, 0.2, 5), progress=False
    )
    build_store(
        tmp_path / "raw", tmp_path / "b.npz", 48, holdout_splits(0.2, 0.2, 5), progress=False
    )
    a, b = load_store(tmp_path / "a.npz"), load_store(tmp_path / "b.npz")
    assert (a.split == b.split).all()
    test_labels = set(a.y[a.split == "test"].tolist())
    assert test_labels == set(range(7))  # every class in the test split
    _, y = combine([a, b], "train")
    assert len(y) == 2 * (a.split == "train").sum()
