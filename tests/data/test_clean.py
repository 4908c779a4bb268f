from __future__ import annotations

import numpy as np

from capstone.data.clean import duplicate_report, leaked


def test_duplicate_report_counts_groups_sides_and_conflicts() -> None:
    digest = np.array(["a", "a", "a", "b", "b", "c", "c", "d"])
    label = np.array([3, 3, 4, 1, 1, 2, 2, 0])
    side = np.array(["train", "train", "test", "train", "train", "test", "test", "train"])
    r = duplicate_report(digest, label, side)
    assert r["groups"] == 3
    assert r["redundant_copies"] == 4
    assert (r["groups_only_train"], r["groups_only_test"], r["groups_across"]) == (1, 1, 1)
    assert r["test_images_in_train"] == 1
    assert (r["conflicting_groups"], r["conflicting_across"]) == (1, 1)
    assert r["largest"]["size"] == 3
    assert r["largest"]["labels"] == ["happy", "neutral"]


def test_no_duplicates() -> None:
    r = duplicate_report(np.array(["a", "b"]), np.array([0, 1]), np.array(["train", "test"]))
    assert r["groups"] == 0
    assert r["largest"] is None


def test_leakage_is_removed_from_train_and_val_never_from_test() -> None:
    digest = np.array(["t", "t", "t", "v", "v", "x"])
    split = np.array(["train", "val", "test", "train", "val", "train"])
    assert leaked(digest, split).tolist() == [True, True, False, True, False, False]
