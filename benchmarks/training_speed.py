"""Training speed on this machine: images per second for precision, XLA, batch size and threads.

    python benchmarks/training_speed.py --width 32 --images 4096
    python benchmarks/training_speed.py --precisions mixed_bfloat16 --xla off --intra 1 --inter 2
    python benchmarks/training_speed.py --precisions mixed_bfloat16 --xla off --image-sizes 48 32
    python benchmarks/training_speed.py --precisions mixed_bfloat16 --xla off --batch-norm fused keras
    python benchmarks/training_speed.py --architecture residual_cnn --widths 32 48 --xla off \
        --batch-sizes 128 --record      # a bigger network's speed, kept for the book

TensorFlow fixes its thread pools when it starts, so each thread setting is its own run
(``--intra``/``--inter``; 0 lets TensorFlow choose, by default one thread per core).

Each setting trains the project's CNN (or ``--architecture``) on random 48x48 images through the same tf.data
pipeline and light augmentation as real training: one untimed epoch (it compiles), then
``--repeats`` timed ones. Shared machines are noisy (epochs of real training here varied by
up to 1.7x), so the table gives the best and the median epoch. ``--image-sizes`` also times
the low-resolution phases of progressive resizing (images resized in the pipeline, as in
training). Prints one row per setting, fastest first; with ``--record``, keeps them in
``benchmarks/results/training_speed_<architecture>.json`` with the parameter counts and, from
the FER+ training set's size, the minutes an epoch would take.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
import pandas as pd
import tensorflow as tf

from capstone.model.backend import set_seed
from capstone.model.inputs import training_dataset
from capstone.model.training import build_model
from capstone.params import Phase, TrainRun
from capstone.provenance import save_benchmark

FERPLUS_TRAIN = 28_709  # faces in FER2013's (and so FER+'s) training split


def images_per_second(
    run: TrainRun,
    x: np.ndarray,
    y: np.ndarray,
    repeats: int,
    *,
    size: int = 48,
    fused_batch_norm: bool = True,
) -> list[float]:
    """Images per second of each of ``repeats`` timed epochs, after one untimed epoch.

    ``size`` other than 48 resizes the images in the pipeline, as a low-resolution phase does.
    """
    set_seed(0)
    shape = (None, None, 1) if size != 48 else (48, 48, 1)
    model = build_model(run, shape, fused_batch_norm, allow_emulated=True)
    model.compile(optimizer="adamw", loss="categorical_crossentropy", jit_compile=run.jit_compile)
    ds = training_dataset((x, y), run.batch_size, "light", seed=0, image_size=size)
    model.fit(ds, epochs=1, verbose=0)
    speeds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(ds, epochs=1, verbose=0)
        speeds.append(len(x) / (time.perf_counter() - start))
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--architecture", default="compact_cnn", choices=["compact_cnn", "residual_cnn"]
    )
    parser.add_argument("--widths", type=int, nargs="+", default=[32])
    parser.add_argument("--record", action="store_true", help="keep the table as a record")
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument(
        "--precisions",
        nargs="+",
        default=["float32", "mixed_bfloat16"],
        help="float32, mixed_bfloat16",
    )
    parser.add_argument("--xla", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--image-sizes", type=int, nargs="+", default=[48])
    parser.add_argument(
        "--batch-norm",
        nargs="+",
        default=["fused"],
        choices=["fused", "keras"],
        help="TensorFlow's fused kernel (the project's layer) or Keras' own batch norm",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per setting")
    parser.add_argument("--intra", type=int, default=0, help="intra-op threads (0: TF default)")
    parser.add_argument("--inter", type=int, default=0, help="inter-op threads (0: TF default)")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(args.images, 48, 48), dtype=np.uint8)
    y = rng.integers(0, 7, size=args.images)
    rows = []
    settings = itertools.product(
        args.widths, args.precisions, args.xla, args.batch_sizes, args.image_sizes, args.batch_norm
    )
    for width, precision, xla, batch, size, batch_norm in settings:
        jit = xla == "on"
        run = TrainRun(
            name="bench",
            architecture=args.architecture,
            width=width,
            batch_size=batch,
            precision=precision,
            jit_compile=jit,
            phases=[Phase(epochs=1)],
        )
        speeds = images_per_second(
            run, x, y, args.repeats, size=size, fused_batch_norm=batch_norm == "fused"
        )
        parameters = build_model(run, allow_emulated=True).count_params()
        best = max(speeds)
        rows.append(
            {
                "width": width,
                "parameters (M)": round(parameters / 1e6, 2),
                "batch norm": batch_norm,
                "precision": precision,
                "xla": xla,
                "batch": batch,
                "image size": size,
                "threads (intra/inter)": f"{args.intra}/{args.inter}",
                "images/s (best)": round(max(speeds)),
                "images/s (median)": round(float(np.median(speeds))),
                "minutes an epoch of FER+ train": round(FERPLUS_TRAIN / best / 60, 1),
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).sort_values("images/s (best)", ascending=False)
    print(f"\n{args.architecture} on {args.images} images ({os.cpu_count()} CPUs):")
    print(table.to_string(index=False))
    if args.record:
        record = {"architecture": args.architecture, "images": args.images, "rows": rows}
        print(f"kept in {save_benchmark(f'training_speed_{args.architecture}', record)}")


if __name__ == "__main__":
    main()
