"""In-the-wild faces through ``capstone annotate`` itself, and face recall on call layouts.

    python benchmarks/wild_annotate.py --wild ../shared/data/wild/sfew.zip --split val

1. Every image of one split of SFEW 2.0 (``val``: the in-the-wild test split, 405 colour film
   stills) is written to a temporary folder and annotated by the command a user runs,
   ``capstone annotate <images> --out <folder> --use research`` (film stills: nobody is at
   work; detect, crop, classify, with the released model unless ``--model``). Each image
   is scored on the largest face found: a missed face, a face too small to read or an
   "uncertain" reading counts as wrong. Macro-F1 counts such an
   image as a prediction of no class. The ``fer`` package's network (the peer) is scored on
   the same crops, where the ``fer`` package is installed.
2. The composed call layouts of :mod:`capstone.synthetic.layouts` (gallery 2x2 to 7x7, speaker view,
   screen share): faces found, missed and invented by the detector annotation uses.

Run on all of ``val`` with the released model, it keeps its figures in
``benchmarks/results/wild_annotate.json`` (machine, commit, the model's sha256).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from capstone import cli, metrics
from capstone.artefacts import sha256_file
from capstone.errors import CapstoneError
from capstone.evaluation import peers
from capstone.faces.crop import crop_face
from capstone.labels import CLASSES
from capstone.media import load_image
from capstone.model.released import uncertain_below_of
from capstone.paths import released_model
from capstone.provenance import save_benchmark
from capstone.synthetic.layouts import call_layouts, hopper, score_detectors


def extract(archive: Path, split: str, folder: Path) -> dict[Path, int]:
    """The split's images, written under ``folder``: path -> true class index."""
    truth = {}
    with zipfile.ZipFile(archive) as zf:
        for name in sorted(zf.namelist()):
            parts = name.split("/")
            if len(parts) == 3 and parts[0] == split and parts[1] in CLASSES:
                path = folder / f"{parts[1]}__{parts[2]}"
                path.write_bytes(zf.read(name))
                truth[path] = CLASSES.index(parts[1])
    return truth


def read_answers(out: Path, truth: dict[Path, int]) -> pd.DataFrame:
    """One row per image: the largest face's status, label and box."""
    rows = []
    for path, label in truth.items():
        record = json.loads((out / f"{path.stem}.json").read_text())
        found = sorted(record["faces"], key=lambda f: -f["box"][2] * f["box"][3])
        face = found[0] if found else {"status": "missed", "label": None, "box": None}
        probs = face.get("probs") or {}
        rows.append(
            {
                "image": path.name,
                "truth": label,
                "status": face["status"],
                "label": face["label"],
                "top": max(probs, key=probs.get) if probs else None,
                "confidence": max(probs.values()) if probs else 0.0,
                "box": face["box"],
                "faces": len(found),
            }
        )
    return pd.DataFrame(rows)


def threshold_curve(table: pd.DataFrame, released: float) -> pd.DataFrame:
    """The same answers at other "uncertain" thresholds: what showing more readings gives."""
    rows = []
    for t in sorted({0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, released}):
        shown = table["confidence"] >= t
        at = table.assign(
            label=table["top"].where(shown),
            status=np.where(table["top"].isna(), "missed", np.where(shown, "ok", "uncertain")),
        )
        right = (at["label"] == [CLASSES[i] for i in at["truth"]])[shown]
        row = {"uncertain_below": t, **scores(at)}
        row["right when shown"] = round(float(right.mean()), 4) if shown.any() else None
        row["released"] = t == released
        rows.append(row)
    return pd.DataFrame(rows)


def scores(table: pd.DataFrame) -> dict[str, float]:
    pred = np.array([CLASSES.index(v) if v in CLASSES else -1 for v in table["label"]])
    y = table["truth"].to_numpy()
    return {
        "images": len(y),
        "face found": round(float(np.mean(table["status"] != "missed")), 4),
        "uncertain": round(float(np.mean(table["status"] == "uncertain")), 4),
        "accuracy": round(float(np.mean(pred == y)), 4),
        "macro_f1": round(metrics.macro_f1(y, np.where(pred < 0, 7, pred), 8) * 8 / 7, 4),
    }


def peer_row(truth: dict[Path, int], table: pd.DataFrame) -> dict[str, float] | None:
    """The ``fer`` network on the same faces, cut out the same way (no uncertain threshold)."""
    try:
        fer = peers.load_fer()
    except CapstoneError as err:
        print(f"fer peer skipped: {err}")
        return None
    crops, keep = [], []
    for i, (path, box) in enumerate(zip(truth, table["box"], strict=True)):
        if box is not None:
            crops.append(crop_face(load_image(path), tuple(box)))
            keep.append(i)
    labels = [None] * len(table)
    for i, p in zip(keep, peers.fer_predict(fer, np.stack(crops)), strict=True):
        labels[i] = CLASSES[int(p.argmax())]
    peer = table.assign(label=labels, status=np.where(table["box"].isna(), "missed", "ok"))
    return scores(peer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wild", type=Path, default=Path("../shared/data/wild/sfew.zip"))
    parser.add_argument("--split", default="val")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--every", type=int, default=1, help="annotate every n-th image only")
    parser.add_argument(
        "--no-save",
        action="store_true",
        help="print only (default: the released model's "
        "figures on all of val are kept in benchmarks/results/wild_annotate.json)",
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        images, out = Path(tmp) / "images", Path(tmp) / "annotated"
        images.mkdir()
        truth = extract(args.wild, args.split, images)
        truth = {
            path: label for i, (path, label) in enumerate(truth.items()) if i % args.every == 0
        }
        command = ["annotate", *map(str, truth), "--out", str(out), "--use", "research"]
        command += ["--model", str(args.model)] if args.model else []
        start = time.perf_counter()
        status = cli.main(command)
        seconds = time.perf_counter() - start
        table = read_answers(out, truth)
        results["capstone annotate"] = scores(table) | {
            "seconds": round(seconds, 1),
            "exit": status,
        }
        curve = threshold_curve(table, uncertain_below_of(args.model or released_model()))
        results["thresholds"] = curve.to_dict(orient="records")
        peer = peer_row(truth, table)
        if peer:
            results["fer network, same crops"] = peer
    portrait = hopper()
    found = pd.DataFrame(score_detectors(call_layouts(portrait), ["mtcnn"]))
    totals = found[["true_positives", "false_positives", "missed"]].sum().to_dict()
    results["call layouts (mtcnn)"] = {k: int(v) for k, v in totals.items()}
    results["wild"] = {
        "file": args.wild.name,
        "sha256": sha256_file(args.wild),
        "split": args.split,
    }
    if not (args.no_save or args.model or args.every != 1 or args.split != "val"):
        print(f"kept in {save_benchmark('wild_annotate', results, model=released_model())}")
    print(f"\nSFEW 2.0 {args.split} through `capstone annotate` (largest face per image)")
    read = {k: results[k] for k in ("capstone annotate", "fer network, same crops") if k in results}
    print(pd.DataFrame(read).T.to_string())
    print("\nThe same answers at other uncertain thresholds (released: the model's own)")
    print(curve.to_string(index=False))
    print("\nComposed call layouts, MTCNN as annotation runs it")
    print(
        found[["layout", "faces", "true_positives", "false_positives", "missed"]].to_string(
            index=False
        )
    )


if __name__ == "__main__":
    main()
