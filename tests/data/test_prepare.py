"""The download stage's three steps, chained: fetch, decode, split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from capstone.data import prepare
from capstone.data.splits import load_data
from capstone.data.store import Store
from capstone.params import load
from capstone.paths import ProjectPaths

TINY = Path(__file__).resolve().parents[1] / "fixtures/tiny.yaml"


def test_own_side_puts_each_datasets_held_out_subsets_on_the_test_side() -> None:
    subsets = np.array(["Training", "PublicTest", "PrivateTest", "train", "val", "test"])
    size = np.full(6, 48)
    store = Store(
        np.zeros((6, 2, 2), np.uint8),
        np.zeros(6, int),
        subsets,
        subsets,
        size,
        size,
        subsets,
        np.ones(6, bool),
    )
    assert prepare.own_side(store).tolist() == ["train", "test", "test", "train", "test", "test"]


def test_run_writes_every_datasets_report_and_splits_that_load(tmp_path: Path) -> None:
    params = load(TINY, tmp_path)
    paths = ProjectPaths(tmp_path)
    quality = prepare.run(params, paths, progress=False)
    assert set(quality) == {"fer2013", "wild", "ferplus"}
    assert quality == json.loads((paths.stage("download") / "quality.json").read_text())
    for report in quality.values():
        assert {"manifest", "counts", "duplicates"} <= set(report)
    data = load_data(paths)
    assert set(data.stores) == {"fer2013", "wild", "ferplus"}
    assert data.stores["ferplus"].votes is not None  # the crowd's 10 votes a face are kept
    again = ProjectPaths(tmp_path / "again")
    prepare.run(load(TINY, again.root), again, progress=False)
    for name in data.stores:  # the same seed draws the same splits
        for split, index in data.index[name].items():
            np.testing.assert_array_equal(load_data(again).index[name][split], index)
