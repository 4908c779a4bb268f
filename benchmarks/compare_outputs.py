"""Two output folders of ``capstone annotate``, file by file: for a change that must not
change what a user gets (a refactor). Prints one line per file and the number that differ.

    capstone annotate call.mp4 shot.png --call call.yaml --out before   # on the old code
    capstone annotate call.mp4 shot.png --call call.yaml --out after    # on the new code
    python benchmarks/compare_outputs.py before after

JSON is compared as data, apart from ``schema_version``; pictures pixel by pixel; videos
frame by frame after decoding; Parquet tables as frames (columns in any order); everything
else byte for byte. Where a ``timeline.csv`` differs, a line says how much: the rows whose
readings are all the same, the largest and mean change of a probability, the labels and
boxes that changed.
Exits 1 when a file differs, is missing, or is new.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterator
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


def frames(path: Path) -> Iterator[np.ndarray]:
    """The decoded frames of a video, one at a time."""
    capture = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


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
        pairs = itertools.zip_longest(frames(a), frames(b))
        return all(x is not None and y is not None and np.array_equal(x, y) for x, y in pairs)
    if a.suffix == ".parquet":  # a table's columns in any order
        ta, tb = pd.read_parquet(a), pd.read_parquet(b)
        return set(ta.columns) == set(tb.columns) and ta.equals(tb[list(ta.columns)])
    return a.read_bytes() == b.read_bytes()


def timeline_difference(a: Path, b: Path) -> dict[str, float]:
    """How two timelines of the same recording differ: rows matched by time and participant,
    the share whose readings are all the same, the largest and mean change of a probability,
    and the shares of labels changed and boxes moved."""
    ta, tb = pd.read_csv(a), pd.read_csv(b)
    both = ta.merge(tb, on=["time", "participant"], suffixes=("_a", "_b"))
    probs = [c for c in ta.columns if c.startswith("p_")]
    before = both[[f"{c}_a" for c in probs]].to_numpy(float)
    change = np.nan_to_num(np.abs(before - both[[f"{c}_b" for c in probs]].to_numpy(float)))
    box = [f"{c}_a" for c in "xywh"], [f"{c}_b" for c in "xywh"]
    moved = (both[box[0]].to_numpy() != both[box[1]].to_numpy()).any(axis=1)
    relabelled = both["label_a"].fillna("") != both["label_b"].fillna("")
    return {
        "rows": len(ta),
        "matched": len(both),
        "same_readings": round(float((change.max(axis=1) == 0).mean()), 4) if len(both) else 0.0,
        "largest_change": round(float(change.max()), 4) if change.size else 0.0,
        "mean_change": round(float(change.mean()), 4) if change.size else 0.0,
        "labels_changed": round(float(relabelled.mean()), 4) if len(both) else 0.0,
        "boxes_moved": round(float(moved.mean()), 4) if len(both) else 0.0,
    }


def in_words(d: dict[str, float]) -> str:
    """:func:`timeline_difference` in one line."""
    return (
        f"{d['matched']} of {d['rows']} rows matched; {d['same_readings']:.0%} with the same "
        f"readings; a probability changed by at most {d['largest_change']:.4f} (mean "
        f"{d['mean_change']:.4f}); labels changed {d['labels_changed']:.1%}; boxes moved "
        f"{d['boxes_moved']:.1%}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--record", help="keep the result as benchmarks/results/<RECORD>.json")
    args = parser.parse_args()
    verdicts: dict[str, str] = {}
    timelines: dict[str, dict[str, float]] = {}
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
        verdicts[str(name)] = verdict
        if verdict == "DIFFERS" and name.name == "timeline.csv":
            timelines[str(name)] = timeline_difference(args.before / name, args.after / name)
            print(f"         {in_words(timelines[str(name)])}")
    print(f"{differ} of {len(files | others)} files differ")
    if args.record:
        from capstone.provenance import save_benchmark

        summary = {name: in_words(d) for name, d in timelines.items()}
        summary["files that differ"] = ", ".join(n for n, v in verdicts.items() if v != "same")
        results = {"files": verdicts, "timelines": timelines, "summary": summary}
        print(f"kept in {save_benchmark(args.record, results)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
