from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from capstone.data import sample
from capstone.data.splits import (
    fer2013_protocol,
    grouped_split,
    holdout_protocol,
    load_data,
    make_splits,
    save_splits,
    seed_protocol,
)
from capstone.data.store import Store, build_store, load_store
from capstone.errors import DataError
from capstone.params import SplitSpec
from capstone.paths import ProjectPaths


def make_store(y, subset, path=None, digest=None) -> Store:
    n = len(y)
    return Store(
        x=np.zeros((n, 48, 48), np.uint8),
        y=np.asarray(y),
        subset=np.asarray(subset),
        path=np.asarray(path if path is not None else [f"f{i}.png" for i in range(n)]),
        height=np.full(n, 48),
        width=np.full(n, 48),
        digest=np.asarray(digest if digest is not None else [str(i) for i in range(n)]),
        face=np.ones(n, bool),
    )


def test_fer2013_protocol() -> None:
    store = make_store([0, 1, 2], ["Training", "PublicTest", "PrivateTest"])
    assert fer2013_protocol(store).tolist() == ["train", "val", "test"]
    with pytest.raises(DataError, match="needs Training_/PublicTest_/PrivateTest_"):
        fer2013_protocol(make_store([0], [""]))


def test_groups_stay_in_one_split() -> None:
    rng = np.random.default_rng(0)
    y = np.zeros(60, int)
    groups = np.repeat([f"clip{i}" for i in range(12)], 5)
    split = grouped_split(y, groups, {"test": 0.2, "val": 0.2}, rng)
    for g in np.unique(groups):
        assert len(set(split[groups == g])) == 1
    assert (split == "test").sum() == 15 or (split == "test").sum() == 10


def test_own_held_out_subset_becomes_the_test_split() -> None:
    subset = ["train"] * 40 + ["val"] * 10
    paths = [f"M{i // 4}_{i // 2:03d}_{i % 2:02d}.png" for i in range(50)]
    store = make_store(np.arange(50) % 2, subset, paths)
    spec = SplitSpec(wild_val=0.25, wild_group=r"^(.+)_\d+$")
    split = holdout_protocol(store, spec, seed=1)
    assert (split[40:] == "test").all()
    assert set(split[:40]) == {"train", "val"}
    clips = np.asarray([p.rsplit("_", 1)[0] for p in paths])
    for clip in np.unique(clips[:40]):
        assert len(set(split[:40][clips[:40] == clip])) == 1


def test_seed_protocol_tests_on_the_second_dataset_and_balances_sources() -> None:
    fer = make_store(np.repeat(np.arange(7), 50), ["Training"] * 350)
    other = make_store(np.repeat(np.arange(7), 20), [""] * 140)
    spec = SplitSpec(protocol="seed")
    out = seed_protocol(fer, other, spec, seed=3)
    assert "test" not in set(out["fer2013"])
    assert (out["wild"] == "test").sum() == 7 * 2
    for label in range(7):
        used = [
            ((out[n] != "") & (s.y == label)).sum() for n, s in (("fer2013", fer), ("wild", other))
        ]
        assert used[0] == used[1] - 2  # 18 from each, plus the 2 test images of the second
    again = seed_protocol(fer, other, spec, seed=3)
    assert all((again[n] == out[n]).all() for n in out)


def test_make_splits_removes_leakage_and_saves_index_files(tmp_path: Path) -> None:
    fer = make_store(
        [0, 1, 2, 3],
        ["Training", "Training", "PublicTest", "PrivateTest"],
        digest=["a", "b", "c", "a"],
    )
    other = make_store([0, 1], ["", ""])
    splits, report = make_splits(
        {"fer2013": fer, "wild": other},
        SplitSpec(wild_val=0.0, wild_test=0.5),
        seed=0,
    )
    assert splits["fer2013"].tolist() == ["", "train", "val", "test"]
    assert report["fer2013"]["leakage_removed"] == {"train": 1, "val": 0}


def test_saved_splits_are_what_later_stages_load(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    for name, writer in (
        ("fer2013", sample.write_fer2013_zip),
        ("wild", sample.write_affectnet_zip),
    ):
        archive = writer(tmp_path / f"{name}.zip", 70, 14 if name == "fer2013" else 48, seed=0)
        zipfile.ZipFile(archive).extractall(tmp_path / name)
        build_store(tmp_path / name, paths.store(name), 48, progress=False)
    stores = {n: load_store(paths.store(n)) for n in ("fer2013", "wild")}
    splits, _ = make_splits(stores, SplitSpec(), seed=0)
    save_splits(paths.splits, splits)
    data = load_data(paths)
    _, y = data.xy("fer2013", "val")
    assert len(y) == (splits["fer2013"] == "val").sum()
    _, my = data.merged("train")
    assert len(my) == sum((s == "train").sum() for s in splits.values())
    assert set(data.table()["split"]) == {"train", "val", "test"}


def test_merged_repeats_a_small_set_to_a_share() -> None:
    from capstone.data.splits import SplitData

    def store(n: int) -> Store:
        return make_store(np.arange(n) % 7, ["train"] * n)

    data = SplitData(
        {"fer2013": store(90), "wild": store(10)},
        {name: {"val": np.arange(n)} for name, n in (("fer2013", 90), ("wild", 10))},
    )
    repeat = data.repeats_for_share("val", "wild", 0.5)
    assert repeat == {"wild": 9}
    _, y = data.merged("val", repeat)
    assert len(y) == 90 + 90
    assert data.repeats_for_share("val", "wild", 0.0) == {"wild": 1}
    files, labels = data.files("wild", "val")
    assert files[3] == "f3.png" and labels[3] == 3


def test_a_profile_with_ferplus_keeps_the_crowds_votes_through_to_training(
    tmp_path: Path, repo: Path
) -> None:
    """The download stage on the sample with FER+: votes stored, readable faces split by
    FER2013's subsets, and soft targets for training beside the other datasets' one-hot."""
    import dataclasses

    from capstone.data import prepare
    from capstone.params import DatasetSource, SampleSpec, load

    params = load(repo / "tests/fixtures/tiny.yaml", repo)
    dl = dataclasses.replace(
        params.download,
        ferplus=DatasetSource("sample"),
        sample=SampleSpec(fer_train=140, fer_test=28, wild=56, wild_size=48),
        wild=dataclasses.replace(params.download.wild, crop="none"),
    )
    paths = ProjectPaths(tmp_path)
    quality = prepare.run(dataclasses.replace(params, download=dl), paths, progress=False)
    assert quality["ferplus"]["left_out"]["no image (dropped by FER+)"] == 3
    data = load_data(paths)
    assert set(data.stores) == {"fer2013", "wild", "ferplus"}
    crowd = data.stores["ferplus"]
    assert crowd.votes.shape == (len(crowd.y), 10)
    x, shares = data.soft_xy("ferplus", "train")
    assert shares.shape == (len(x), 7) and np.allclose(shares.sum(axis=1), 1)
    assert (shares.argmax(axis=1) == data.xy("ferplus", "train")[1]).mean() > 0.9
    assert set(crowd.subset[data.index["ferplus"]["test"]]) == {"PrivateTest"}
    # training on the crowd beside the in-the-wild faces; FER2013's labels stay out
    _, merged = data.merged("train", datasets=("ferplus", "wild"), soft=True)
    assert len(merged) == len(shares) + len(data.xy("wild", "train")[1])
    assert len(data.merged("train")[1]) == sum(
        len(data.xy(n, "train")[1]) for n in ("fer2013", "wild")
    )
    on_crowd = dataclasses.replace(params.merged, faces="ferplus", wild_weight=0.5)
    (_, y_train), (_, y_val) = data.for_merged(on_crowd)
    assert y_train.shape == (len(shares) + len(data.xy("wild", "train")[1]), 7)
    crowd_val, wild_val = len(data.xy("ferplus", "val")[1]), len(data.xy("wild", "val")[1])
    assert len(y_val) == crowd_val + wild_val * max(1, round(crowd_val / wild_val))
    on_labels = dataclasses.replace(params.merged, faces="fer2013")
    assert data.for_merged(on_labels)[0][1].ndim == 1  # FER2013's labels: class indices
