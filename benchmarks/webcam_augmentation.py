"""Each webcam degradation, measured: fine-tune with it, read the in-the-wild validation faces.

    python benchmarks/webcam_augmentation.py --params params/shared.yaml --epochs 3

Needs the download stage of the profile (``capstone pipeline --params ... --to download``).
For each variant (none, every kind of :class:`capstone.model.augmentation.WebcamDegradation` alone,
and all together) the profile's baseline network (its ``init_file``) is fine-tuned for
``--epochs`` on ``--fer-images`` FER2013 training faces, the same faces and seed for every
variant, with the light augmentation plus that degradation. No in-the-wild face is trained
on here, so all of SFEW's train split (the in-the-wild validation faces, cut out by
:func:`capstone.faces.crop.crop_face`) measures how well each variant carries over to faces
from outside FER2013; FER2013's validation split (PublicTest) says what it costs there.
Prints a table and writes it to ``--out`` (CSV); the seconds are training time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from capstone import metrics
from capstone.data.splits import load_data
from capstone.labels import CLASSES
from capstone.model.augmentation import WEBCAM_KINDS
from capstone.model.backend import effective_precision
from capstone.model.released import predict
from capstone.model.training import start_weights, train
from capstone.params import Phase, TrainRun, load
from capstone.paths import ProjectPaths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params/shared.yaml"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fer-images", type=int, default=8000)
    parser.add_argument("--out", type=Path, default=Path("build/bench/webcam_augmentation.csv"))
    args = parser.parse_args()
    params, paths = load(args.params), ProjectPaths(".")
    data = load_data(paths)
    baseline = next(r for r in params.baseline.runs if r.init_file)
    rng = np.random.default_rng(params.seed)
    x, y = data.xy("fer2013", "train")
    pick = rng.choice(len(y), size=min(args.fer_images, len(y)), replace=False)
    train_xy = (x[pick], y[pick])
    fer_val = data.xy("fer2013", "val")
    wild = data.stores["wild"]
    wild_val = (wild.x[wild.subset == "train"], wild.y[wild.subset == "train"])
    variants = {"none": [], **{k: [k] for k in WEBCAM_KINDS}, "all": list(WEBCAM_KINDS)}
    rows = []
    for name, degrade in variants.items():
        run = TrainRun(
            name=f"degrade_{name}",
            architecture=baseline.architecture,
            width=baseline.width,
            batch_size=64,
            label_smoothing=0.1,
            class_weight=False,
            weight_decay=0.05,
            patience=args.epochs,
            init_file=baseline.init_file,
            phases=[Phase(args.epochs, 3e-4, "light", degrade=degrade)],
        )
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            model, _ = train(
                run,
                train_xy,
                fer_val,
                tmp,
                params.seed,
                verbose=0,
                init_weights=start_weights(baseline, paths),
            )
            seconds = time.perf_counter() - start
        row = {"degradation": name, "seconds": round(seconds)}
        for label, (vx, vy) in (("wild val", wild_val), ("fer2013 val", fer_val)):
            pred = predict(model, vx).argmax(axis=1)
            row[f"{label} accuracy"] = round(float(np.mean(pred == vy)), 4)
            row[f"{label} macro-F1"] = round(metrics.macro_f1(vy, pred, len(CLASSES)), 4)
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(
        f"\n{args.epochs} epochs on {len(pick):,} FER2013 faces from {baseline.init_file}, "
        f"precision {effective_precision(baseline.precision)}; wild val: {len(wild_val[1])} "
        f"SFEW train faces, fer2013 val: {len(fer_val[1]):,} PublicTest faces"
    )
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
