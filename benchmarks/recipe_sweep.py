"""Compare training recipes for the project's CNN quickly, on any Keras backend (e.g. a GPU).

The full profile may spend about 28 epochs of 48x48 training on the CNN (90 minutes on 2 CPU
cores in all); a CPU session can try one recipe. This script trains one variant of the
recipe on FER2013 Training and prints its validation (PublicTest) accuracy after every
epoch, so that many variants can be compared on a GPU in minutes, each at about the same
*CPU* cost. Only validation data is read: the test sets stay unseen.

Variants (see ``VARIANTS``): the released recipe, and it with random erasing, mixup, an
exponential moving average of the weights, progressive resizing (32 px, then 48 px), random
40-px crops, or more epochs. One variant per process::

    KERAS_BACKEND=jax python benchmarks/recipe_sweep.py ref --out results.jsonl
    python benchmarks/recipe_sweep.py prog --seed 43 --deadline 480

It appends one JSON line per variant to ``--out``. ``--deadline`` (seconds) stops training
early and reports what was reached (marked ``"cut": true``).
"""

from __future__ import annotations

import argparse
import json
import lzma
import time
from pathlib import Path

import cv2
import keras
import numpy as np

from capstone.augmentation import augmenter
from capstone.models import compact_cnn
from capstone.params import CLASSES

# phases: (epochs, learning rate, image size; "crop40" = random 40-px crops of 48-px images)
VARIANTS: dict[str, dict] = {
    "ref": {"phases": [(28, 1e-3, 48)]},
    "erase": {"phases": [(28, 1e-3, 48)], "erase": True},
    "mixup": {"phases": [(28, 1e-3, 48)], "mixup": 0.2},
    "ema": {"phases": [(28, 1e-3, 48)], "ema": 0.999},
    "prog": {"phases": [(26, 1e-3, 32), (13, 5e-4, 48)]},
    "crop40": {"phases": [(34, 1e-3, "crop40"), (4, 2e-4, 48)]},
    "ref40": {"phases": [(40, 1e-3, 48)]},
    "erase_ema": {"phases": [(28, 1e-3, 48)], "erase": True, "ema": 0.999},
}
BATCH = 64


def load(data: Path) -> tuple[np.ndarray, ...]:
    """Training and validation arrays from ``data``: the pipeline's processed stores, or a
    packed copy (``x.xz`` with ``y_train.npy`` and ``y_val.npy``) small enough to travel."""
    if (data / "x.xz").exists():
        y_train, y_val = np.load(data / "y_train.npy"), np.load(data / "y_val.npy")
        x = np.frombuffer(lzma.decompress((data / "x.xz").read_bytes()), np.uint8)
        x = x.reshape(-1, 48, 48)
        return x[: len(y_train)], y_train, x[len(y_train) :], y_val
    store = np.load(data / "fer2013.npz")
    splits = np.load(data / "splits.npz")
    train, val = splits["fer2013__train"], splits["fer2013__val"]
    return store["x"][train], store["y"][train], store["x"][val], store["y"][val]


def batches(x, y, size, mixup, rng):
    """Endless shuffled batches of float images in [0, 1] and one-hot (optionally mixed) labels."""
    if isinstance(size, int) and size != x.shape[1]:
        x = np.stack([cv2.resize(i, (size, size), interpolation=cv2.INTER_AREA) for i in x])
    onehot = np.eye(len(CLASSES), dtype="float32")[y]
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x) - BATCH + 1, BATCH):
            idx = order[start : start + BATCH]
            xb, yb = x[idx], onehot[idx]
            if size == "crop40":
                r, c = rng.integers(0, 9, 2)
                xb = xb[:, r : r + 40, c : c + 40]
            xb = xb[..., None].astype("float32") / 255.0
            if mixup:
                lam = rng.beta(mixup, mixup)
                perm = rng.permutation(len(xb))
                xb = lam * xb + (1 - lam) * xb[perm]
                yb = lam * yb + (1 - lam) * yb[perm]
            yield xb, yb


class Deadline(keras.callbacks.Callback):
    """Stop training once ``seconds`` have passed since ``start``."""

    def __init__(self, start: float, seconds: float) -> None:
        super().__init__()
        self.start, self.seconds, self.cut = start, seconds, False

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = self.cut = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--out", type=Path, default=Path("recipe_sweep.jsonl"))
    parser.add_argument("--deadline", type=float, default=float("inf"))
    args = parser.parse_args()
    spec = VARIANTS[args.variant]
    start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_val, y_val = load(args.data)
    xv = x_val[..., None].astype("float32") / 255.0
    yv = np.eye(len(CLASSES), dtype="float32")[y_val]

    keras.config.set_dtype_policy("mixed_bfloat16")
    core = compact_cnn(32, input_shape=(None, None, 1))
    keras.config.set_dtype_policy("float32")
    steps = [augmenter("light", args.seed)]
    if spec.get("erase"):
        steps.append(keras.layers.RandomErasing(value_range=(0, 1), seed=args.seed))
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, core(keras.Sequential(steps)(inputs)))

    deadline = Deadline(start, args.deadline)
    val_curve: list[float] = []
    for epochs, lr, size in spec["phases"]:
        steps_per_epoch = len(x_train) // BATCH
        schedule = keras.optimizers.schedules.CosineDecay(lr, epochs * steps_per_epoch)
        ema = spec.get("ema")
        optimizer = keras.optimizers.AdamW(
            schedule, weight_decay=1e-4, use_ema=bool(ema), ema_momentum=ema or 0.99
        )
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
            metrics=["accuracy"],
        )
        callbacks = [deadline] + (
            [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []
        )
        fit = model.fit(
            batches(x_train, y_train, size, spec.get("mixup", 0.0), rng),
            steps_per_epoch=steps_per_epoch,
            epochs=epochs,
            validation_data=(xv, yv),
            validation_batch_size=256,
            callbacks=callbacks,
            verbose=2,
        )
        val_curve += [round(float(v), 4) for v in fit.history["val_accuracy"]]
        if deadline.cut:
            break
    # final weights (EMA ones where used), with and without flip test-time augmentation
    p = model.predict(xv, batch_size=256, verbose=0)
    p_flip = model.predict(xv[:, :, ::-1], batch_size=256, verbose=0)
    result = {
        "variant": args.variant,
        "seed": args.seed,
        "backend": keras.backend.backend(),
        "val_curve": val_curve,
        "best_val": max(val_curve),
        "final_val": float((p.argmax(1) == y_val).mean()),
        "final_val_flip_tta": float(((p * p_flip).argmax(1) == y_val).mean()),
        "seconds": round(time.perf_counter() - start, 1),
        "cut": deadline.cut,
    }
    with args.out.open("a") as f:
        f.write(json.dumps(result) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
