"""Train / validation / test splits, deterministic for a seed and saved as index files.

Two protocols:

- ``fer2013`` (the literature's): FER2013 trains on *Training*, validates on *PublicTest* and
  tests on *PrivateTest*. The second dataset keeps its own held-out subset as its test split
  if it has one (SFEW's ``val``), otherwise a stratified random part; validation is carved out
  of its training part. With ``wild_group`` set, images of one group (e.g. frames of one
  movie clip) always land in the same split.
- ``seed`` (the seed project's): 10% of each class of the second dataset is the test split;
  the rest of both datasets is pooled and, per class, balanced 50/50 between the two sources
  (as many images from each as the smaller one has), then split 70:20 into train and validation.

Either way, images that repeat one in a later split (exact pixel duplicates) are removed from
train and validation, never from test. FER+ (``ferplus``, FER2013's faces with the crowd's
votes) keeps FER2013's three subsets under both protocols, and only the faces the crowd could
read (:func:`capstone.data.ferplus.readable`); the others get the split ``""``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capstone.artefacts import atomic_path
from capstone.data import ferplus
from capstone.data.clean import leaked
from capstone.data.store import Store, load_store
from capstone.errors import DataError
from capstone.labels import CLASSES
from capstone.params import CROWD, DATASETS, Merged, SplitSpec
from capstone.paths import ProjectPaths

SPLITS = ("train", "val", "test")

#: Faces and their labels (class indices, or target distributions).
XY = tuple[np.ndarray, np.ndarray]


def fer2013_protocol(store: Store) -> np.ndarray:
    """Training -> train, PublicTest -> val, PrivateTest -> test."""
    split = pd.Series(store.subset).map(
        {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
    )
    if split.isna().any():
        raise DataError(
            "FER2013 protocol needs Training_/PublicTest_/PrivateTest_ file names; "
            f"{int(split.isna().sum())} files have none (e.g. {store.path[split.isna().to_numpy()][0]})"
        )
    return split.to_numpy(str)


def groups_of(store: Store, pattern: str | None) -> np.ndarray:
    """The group of each image: the first capture of ``pattern`` on its file stem, or the file."""
    stems = [Path(p).stem for p in store.path]
    if pattern is None:
        return np.asarray(store.path)
    regex = re.compile(pattern)
    return np.asarray([(m.group(1) if (m := regex.match(s)) else s) for s in stems])


def grouped_split(
    y: np.ndarray, groups: np.ndarray, fractions: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Assign whole groups to the splits in ``fractions`` (the rest to ``train``).

    Groups are stratified by their most common class: for each class, its groups are
    shuffled and handed out until each split holds its fraction of that class's images.
    """
    out = np.full(len(y), "train", dtype=object)
    frame = pd.DataFrame({"group": groups, "label": y})
    group_label = frame.groupby("group")["label"].agg(lambda s: s.mode().iloc[0])
    group_size = frame.groupby("group").size()
    members = frame.groupby("group").indices
    for label in np.unique(y):
        names = rng.permutation(group_label.index[group_label == label].to_numpy(copy=True))
        total = group_size[names].sum()
        target = {k: round(f * total) for k, f in fractions.items()}
        filled = dict.fromkeys(fractions, 0)
        for name in names:
            for split in fractions:
                if filled[split] < target[split]:
                    out[members[name]] = split
                    filled[split] += group_size[name]
                    break
    return out.astype(str)


def holdout_protocol(store: Store, spec: SplitSpec, seed: int) -> np.ndarray:
    """Splits for the second dataset under the ``fer2013`` protocol."""
    rng = np.random.default_rng([seed, 1])
    groups = groups_of(store, spec.wild_group)
    own_test = np.isin(store.subset, ["val", "test"])
    if own_test.any() and (store.subset == "train").any():
        out = np.full(len(store.y), "test", dtype=object)
        train = ~own_test
        out[train] = grouped_split(store.y[train], groups[train], {"val": spec.wild_val}, rng)
        return out.astype(str)
    fractions = {"test": spec.wild_test, "val": spec.wild_val}
    return grouped_split(store.y, groups, fractions, rng)


def seed_protocol(fer: Store, other: Store, spec: SplitSpec, seed: int) -> dict[str, np.ndarray]:
    """The seed project's balanced protocol; unused images get the split ``""``."""
    rng = np.random.default_rng([seed, 2])
    train_f, val_f, test_f = spec.seed_fractions
    out = {
        "fer2013": np.full(len(fer.y), "", dtype=object),
        "wild": np.full(len(other.y), "", dtype=object),
    }
    for label in range(len(CLASSES)):
        theirs = rng.permutation(np.flatnonzero(other.y == label))
        n_test = round(test_f * len(theirs))
        out["wild"][theirs[:n_test]] = "test"
        pools = {
            "wild": theirs[n_test:],
            "fer2013": rng.permutation(np.flatnonzero(fer.y == label)),
        }
        k = min(len(p) for p in pools.values())
        n_train = round(k * train_f / (train_f + val_f))
        for name, pool in pools.items():
            out[name][pool[:n_train]] = "train"
            out[name][pool[n_train:k]] = "val"
    return {name: split.astype(str) for name, split in out.items()}


def make_splits(
    stores: dict[str, Store], spec: SplitSpec, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The split of every image of every dataset, and a report of what was removed.

    Returns ``{dataset: array of "train"/"val"/"test"/""}`` (``""``: not used) and
    ``{dataset: {"leakage_removed": {...}, "counts": {split: {class: n}}}}``.
    """
    if spec.protocol == "seed":
        splits = seed_protocol(stores["fer2013"], stores["wild"], spec, seed)
    else:
        splits = {
            "fer2013": fer2013_protocol(stores["fer2013"]),
            "wild": holdout_protocol(stores["wild"], spec, seed),
        }
    if CROWD in stores:
        crowd = stores[CROWD]
        if crowd.votes is None:
            raise DataError(f"the {CROWD} store holds no votes; delete data/processed and rerun")
        splits[CROWD] = np.where(ferplus.readable(crowd.votes), fer2013_protocol(crowd), "")
    report = {}
    for name in splits:
        removed = {}
        if spec.remove_leakage:
            mask = leaked(stores[name].digest, splits[name])
            removed = {s: int((mask & (splits[name] == s)).sum()) for s in ("train", "val")}
            splits[name] = np.where(mask, "", splits[name])
        counts = pd.crosstab(splits[name], np.asarray(CLASSES)[stores[name].y])
        report[name] = {
            "leakage_removed": removed,
            "counts": {s: counts.loc[s].to_dict() for s in SPLITS if s in counts.index},
        }
    return splits, report


def save_splits(path: Path, splits: dict[str, np.ndarray]) -> None:
    """Save the splits as index files: one integer array per dataset and split."""
    arrays = {
        f"{name}__{s}": np.flatnonzero(split == s) for name, split in splits.items() for s in SPLITS
    }
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy's stub takes them for options


@dataclass(frozen=True)
class SplitData:
    """The processed stores with their saved splits: what every training stage reads."""

    stores: dict[str, Store]
    index: dict[str, dict[str, np.ndarray]]

    def xy(self, dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Images and labels of one dataset's split."""
        idx = self.index[dataset][split]
        return self.stores[dataset].x[idx], self.stores[dataset].y[idx]

    def soft_xy(self, dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Images and target distributions ``(n, classes)`` of one dataset's split: the
        crowd's vote shares where the dataset has votes (FER+), else one-hot labels."""
        x, y = self.xy(dataset, split)
        votes = self.stores[dataset].votes
        if votes is None:
            return x, np.eye(len(CLASSES), dtype=np.float32)[y]
        return x, ferplus.shares(votes[self.index[dataset][split]]).astype(np.float32)

    def files(self, dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The raw files (paths relative to the dataset's raw folder) and labels of a split."""
        idx = self.index[dataset][split]
        return self.stores[dataset].path[idx], self.stores[dataset].y[idx]

    def merged(
        self,
        split: str,
        repeat: dict[str, int] | None = None,
        *,
        datasets: tuple[str, ...] = DATASETS,
        soft: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One split of ``datasets``, concatenated; ``repeat`` maps a dataset to how many
        times each of its images appears (default once). With ``soft``, the labels are
        target distributions (:meth:`soft_xy`), so a crowd-labelled dataset can join."""
        repeat = repeat or {}
        pick = self.soft_xy if soft else self.xy
        parts = [pick(name, split) for name in datasets]
        counts = [repeat.get(name, 1) for name in datasets]
        return (
            np.concatenate(
                [np.repeat(x, k, axis=0) for (x, _), k in zip(parts, counts, strict=True)]
            ),
            np.concatenate(
                [np.repeat(y, k, axis=0) for (_, y), k in zip(parts, counts, strict=True)]
            ),
        )

    def repeats_for_share(
        self, split: str, name: str, share: float, datasets: tuple[str, ...] = DATASETS
    ) -> dict[str, int]:
        """The ``repeat`` of :meth:`merged` that gives dataset ``name`` about ``share`` of
        ``split`` of ``datasets`` (at least once; 0 gives it its own share)."""
        own = len(self.xy(name, split)[1])
        others = sum(len(self.xy(n, split)[1]) for n in datasets if n != name)
        if share <= 0 or own == 0:
            return {name: 1}
        return {name: max(1, round(share / (1 - share) * others / own))}

    def for_merged(self, merged: Merged) -> tuple[XY, XY]:
        """The merged stage's training and validation sets: ``merged.faces`` (FER2013's or
        FER+'s copy of the faces, the latter with the crowd's shares as targets) and the
        in-the-wild faces, repeated as ``merged`` says."""
        datasets, soft = (merged.faces, "wild"), merged.faces == CROWD
        val_repeat = self.repeats_for_share("val", "wild", merged.wild_weight, datasets)
        return (
            self.merged("train", {"wild": merged.wild_repeat}, datasets=datasets, soft=soft),
            self.merged("val", val_repeat, datasets=datasets, soft=soft),
        )

    def table(self) -> pd.DataFrame:
        """One row per used image: ``source``, ``split``, ``label`` and its statistics."""
        frames = []
        for name, store in self.stores.items():
            table = store.table()
            for split, idx in self.index[name].items():
                frames.append(table.iloc[idx].assign(source=name, split=split))
        return pd.concat(frames, ignore_index=True)


def load_data(paths: ProjectPaths) -> SplitData:
    """Load the stores and the split index files written by the download stage (every
    dataset it split: FER2013, the in-the-wild faces and, where the profile has it, FER+)."""
    with np.load(paths.splits, allow_pickle=False) as npz:
        names = list(dict.fromkeys(k.split("__")[0] for k in npz.files))
        index = {name: {s: npz[f"{name}__{s}"] for s in SPLITS} for name in names}
    stores = {name: load_store(paths.store(name)) for name in names}
    return SplitData(stores, index)
