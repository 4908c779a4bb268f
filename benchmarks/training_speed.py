"""Training speed on this machine: images per second for precision, XLA and batch size.

    python benchmarks/training_speed.py --width 32 --images 4096

Each setting trains the project's CNN for two epochs on random 48x48 images through the same
tf.data pipeline and light augmentation as real training; the second epoch is timed (the
first one compiles). Prints one row per setting, fastest first.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from capstone.params import Phase, TrainRun
from capstone.training import build_model, set_seed, training_dataset


def images_per_second(run: TrainRun, x: np.ndarray, y: np.ndarray) -> float:
    set_seed(0)
    model = build_model(run)
    model.compile(optimizer="adamw", loss="categorical_crossentropy", jit_compile=run.jit_compile)
    ds = training_dataset((x, y), run.batch_size, "light", seed=0)
    model.fit(ds, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(ds, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(args.images, 48, 48), dtype=np.uint8)
    y = rng.integers(0, 7, size=args.images)
    rows = []
    for precision, jit, batch in itertools.product(
        ["float32", "mixed_bfloat16"], [False, True], args.batch_sizes
    ):
        run = TrainRun(
            name="bench",
            architecture="compact_cnn",
            width=args.width,
            batch_size=batch,
            precision=precision,
            jit_compile=jit,
            phases=[Phase(epochs=1)],
        )
        speed = images_per_second(run, x, y)
        rows.append({"precision": precision, "xla": jit, "batch": batch, "images/s": round(speed)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows).sort_values("images/s", ascending=False)
    print(f"\ncompact_cnn(width={args.width}) on {args.images} images, 2 CPU threads as available:")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
