"""Two output folders of ``capstone annotate``, file by file: for a change that must not
change what a user gets (a refactor). Prints one line per file and the number that differ.

    capstone annotate call.mp4 shot.png --call call.yaml --out before   # on the old code
    capstone annotate call.mp4 shot.png --call call.yaml --out after    # on the new code
    python benchmarks/compare_outputs.py before after

JSON is compared as data, apart from ``schema_version``; pictures pixel by pixel; videos
frame by frame after decoding; Parquet tables as frames (columns in any order); everything
else byte for byte.
Exits 1 when a file differs, is missing, or is new.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd


def without_version(data: Any) -> Any:
    """``data`` with every ``schema_version`` key left out."""
    if isinstance(data, dict):
        return {k: without_version(v) for k, v in data.items() if k != "schema_version"}
    if isinstance(data, list):
        return [without_version(v) for v in data]
    return data


def frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    decoded = []
    while True:
        ok, frame = capture.read()
        if not ok:
            capture.release()
            return decoded
        decoded.append(frame)


def same(a: Path, b: Path) -> bool:
    if a.suffix == ".json":
        return without_version(json.loads(a.read_text())) == without_version(
            json.loads(b.read_text())
        )
    if a.suffix == ".png":
        return np.array_equal(
            cv2.imread(str(a), cv2.IMREAD_UNCHANGED), cv2.imread(str(b), cv2.IMREAD_UNCHANGED)
        )
    if a.suffix == ".mp4":
        fa, fb = frames(a), frames(b)
        return len(fa) == len(fb) and all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    if a.suffix == ".parquet":  # a table's columns in any order
        ta, tb = pd.read_parquet(a), pd.read_parquet(b)
        return set(ta.columns) == set(tb.columns) and ta.equals(tb[list(ta.columns)])
    return a.read_bytes() == b.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    files = {p.relative_to(args.before) for p in args.before.rglob("*") if p.is_file()}
    others = {p.relative_to(args.after) for p in args.after.rglob("*") if p.is_file()}
    differ = 0
    for name in sorted(files | others):
        if name not in others or name not in files:
            verdict = "missing" if name not in others else "new"
        else:
            verdict = "same" if same(args.before / name, args.after / name) else "DIFFERS"
        differ += verdict != "same"
        print(f"{verdict:8s} {name}")
    print(f"{differ} of {len(files | others)} files differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
