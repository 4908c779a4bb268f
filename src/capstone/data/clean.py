"""Data quality: exact-pixel duplicates, and the leakage they cause between splits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from capstone.labels import CLASSES


def duplicate_report(digest: np.ndarray, y: np.ndarray, side: np.ndarray) -> dict[str, Any]:
    """Count exact-pixel duplicates, and how they fall across ``train`` and ``test``.

    Parameters
    ----------
    digest
        A hash of each image's pixels (equal hashes mean identical images).
    y
        Class indices.
    side
        ``"train"`` or ``"test"`` for each image: the dataset's own training and test files.

    Returns
    -------
    dict
        ``groups`` (sets of two or more identical images), ``redundant_copies`` (images beyond
        the first of each group), ``groups_only_train``, ``groups_only_test``,
        ``groups_across``, ``test_images_in_train``, ``conflicting_groups``,
        ``conflicting_across``, and ``largest`` (size and labels of the biggest group).
    """
    frame = pd.DataFrame({"digest": digest, "label": y, "side": side})
    sizes = frame.groupby("digest")["label"].transform("size")
    dup = frame[sizes > 1]
    if dup.empty:
        return dict.fromkeys(
            [
                "groups",
                "redundant_copies",
                "groups_only_train",
                "groups_only_test",
                "groups_across",
                "test_images_in_train",
                "conflicting_groups",
                "conflicting_across",
            ],
            0,
        ) | {"largest": None}
    groups = dup.groupby("digest").agg(
        size=("label", "size"),
        labels=("label", "nunique"),
        has_train=("side", lambda s: (s == "train").any()),
        has_test=("side", lambda s: (s == "test").any()),
    )
    across = groups["has_train"] & groups["has_test"]
    conflicting = groups["labels"] > 1
    train_digests = set(frame.loc[frame["side"] == "train", "digest"])
    largest = groups["size"].idxmax()
    members = frame[frame["digest"] == largest]
    return {
        "groups": len(groups),
        "redundant_copies": int((groups["size"] - 1).sum()),
        "groups_only_train": int((groups["has_train"] & ~groups["has_test"]).sum()),
        "groups_only_test": int((~groups["has_train"] & groups["has_test"]).sum()),
        "groups_across": int(across.sum()),
        "test_images_in_train": int(
            ((frame["side"] == "test") & frame["digest"].isin(train_digests)).sum()
        ),
        "conflicting_groups": int(conflicting.sum()),
        "conflicting_across": int((conflicting & across).sum()),
        "largest": {
            "size": int(groups.loc[largest, "size"]),
            "labels": sorted({CLASSES[i] for i in members["label"]}),
            "per_side": members["side"].value_counts().to_dict(),
        },
    }


def leaked(digest: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Which images repeat one in a later split: train images also in val or test, val in test.

    Removing them keeps test images out of training and model selection, while the test
    split itself stays untouched (so results remain comparable with the literature).
    """
    test = set(digest[split == "test"])
    held_out = test | set(digest[split == "val"])
    in_train = (split == "train") & np.isin(digest, list(held_out))
    in_val = (split == "val") & np.isin(digest, list(test))
    return in_train | in_val
