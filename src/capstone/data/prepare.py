"""The download stage as three steps: fetch the archives, decode them once, split them.

``nox -s pipeline`` runs them from ``notebooks/01_download.ipynb``; :func:`run` chains them
for scripts and benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from capstone.artefacts import write_json
from capstone.data import sources
from capstone.data.clean import duplicate_report
from capstone.data.splits import make_splits, save_splits
from capstone.data.store import Store, build_crowd_store, build_store, load_store
from capstone.params import CROWD, DATASETS, Params
from capstone.paths import ProjectPaths


def fetch_all(params: Params, paths: ProjectPaths) -> dict[str, dict[str, Any]]:
    """Fetch every dataset into ``data/raw/<name>/``; returns the manifests."""
    dl = params.download
    return {
        name: sources.fetch(
            name,
            getattr(dl, name),
            paths.raw,
            root=paths.root,
            sample_dir=paths.sample,
            sample_spec=dl.sample,
            seed=params.seed,
        )
        for name in dl.datasets()
    }


def build_stores(
    params: Params, paths: ProjectPaths, progress: bool = True
) -> dict[str, dict[str, Any]]:
    """Decode every dataset into its array store; returns the data-quality reports."""
    dl = params.download
    reports = {
        name: build_store(
            paths.raw / name, paths.store(name), dl.image_size, progress, getattr(dl, name).crop
        )
        for name in DATASETS
    }
    if dl.ferplus is not None:  # FER2013's faces again, with the crowd's votes
        reports[CROWD] = build_crowd_store(paths.raw / CROWD, paths.store(CROWD))
    return reports


def own_side(store: Store) -> np.ndarray:
    """``train`` or ``test``: which side of the dataset's own split each image is on."""
    held_out = np.isin(store.subset, ["PublicTest", "PrivateTest", "val", "test"])
    return np.where(held_out, "test", "train")


def split_all(params: Params, paths: ProjectPaths) -> dict[str, dict[str, Any]]:
    """Find duplicates, draw the splits and save them as index files; returns the report."""
    stores = {name: load_store(paths.store(name)) for name in params.download.datasets()}
    splits, report = make_splits(stores, params.download.splits, params.seed)
    save_splits(paths.splits, splits)
    for name, store in stores.items():
        report[name]["duplicates"] = duplicate_report(store.digest, store.y, own_side(store))
    return report


def write_quality(
    paths: ProjectPaths,
    manifests: dict[str, Any],
    stores: dict[str, Any],
    splits: dict[str, Any],
) -> dict[str, Any]:
    """Combine the three steps' reports into ``build/download/quality.json`` and return it."""
    quality = {
        name: {"manifest": manifests[name], **stores[name], **splits[name]} for name in manifests
    }
    write_json(paths.stage("download") / "quality.json", quality)
    return quality


def run(params: Params, paths: ProjectPaths, progress: bool = True) -> dict[str, Any]:
    """All three steps; writes and returns ``build/download/quality.json``."""
    manifests = fetch_all(params, paths)
    stores = build_stores(params, paths, progress)
    return write_quality(paths, manifests, stores, split_all(params, paths))
