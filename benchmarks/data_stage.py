"""Time the whole data stage (fetch, decode, split) from scratch on a profile's data.

    python benchmarks/data_stage.py params/shared.yaml

Runs in a temporary project folder, so nothing in data/ is touched, and prints the seconds
taken by each step, the images per second, and the resulting counts and duplicate figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from capstone.data import prepare
from capstone.params import load, with_absolute_data_paths
from capstone.paths import ProjectPaths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", nargs="?", default="params/sample.yaml")
    args = parser.parse_args()
    # relative data paths are resolved against the current folder, then made absolute,
    # since the project folder of the run is temporary
    params = with_absolute_data_paths(load(args.params), Path.cwd())
    with tempfile.TemporaryDirectory() as tmp:
        paths = ProjectPaths(tmp)
        timings = {}
        start = time.perf_counter()
        manifests = prepare.fetch_all(params, paths)
        timings["fetch (verify + extract)"] = time.perf_counter() - start
        start = time.perf_counter()
        stores = prepare.build_stores(params, paths, progress=False)
        timings["decode into stores"] = time.perf_counter() - start
        start = time.perf_counter()
        splits = prepare.split_all(params, paths)
        timings["duplicates + splits"] = time.perf_counter() - start
        quality = prepare.write_quality(paths, manifests, stores, splits)
    images = sum(q["found"] for q in quality.values())
    total = sum(timings.values())
    for step, seconds in timings.items():
        print(f"{step:<26} {seconds:7.1f} s")
    print(f"{'total':<26} {total:7.1f} s   ({images:,} images, {images / total:,.0f} images/s)")
    for name, q in quality.items():
        print(f"\n{name}: {q['found']:,} image files, per subset {q['per_subset']}")
        print("  split counts:", {s: sum(c.values()) for s, c in q["counts"].items()})
        print("  leakage removed:", q["leakage_removed"])
        print("  duplicates:", json.dumps(q["duplicates"]))


if __name__ == "__main__":
    main()
