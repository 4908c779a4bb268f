"""The seed's first CNN, trained with the seed notebook's own recipe, against its 56%.

    python benchmarks/seed_cnn.py --fer2013 ../shared/data/fer2013/fer2013.zip --out build/seed_cnn

The network is :func:`capstone.model.architectures.seed_cnn`, layer for layer. The recipe is the seed
notebook's: ``Adam(learning_rate=1e-4, decay=1e-6)`` (schedule ``inverse_time``), augmentation
``rotation_range=30, shear_range=0.3, zoom_range=0.3, horizontal_flip=True`` (level
``heavy``), up to 250 epochs, the best epoch kept by validation accuracy. One change: the seed
kept its best epoch by accuracy on Kaggle's whole ``test/`` folder and reported that figure;
here PublicTest keeps the epoch and PrivateTest, never looked at while training, is the score,
so the figure is not picked on the faces it is reported on.

Writes to ``--out``, as it goes: ``history.csv`` (a row per epoch, with the PrivateTest
accuracy and the seconds so far) and ``seed_cnn.keras`` (the best network yet by validation
accuracy); at the end, or with ``--report`` alone, ``curve.png`` (validation and test accuracy
per epoch against the seed's 56%) and ``results.json``. A run stopped at any point can go on
with ``--resume``: it starts from the best network saved there and appends to its history
(the optimiser starts afresh; with a decay of 1e-6 a step, its learning rate has moved less
than 5% in 100 epochs; ``--patience`` counts from the resume).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import keras
import matplotlib as mpl
import numpy as np
import pandas as pd

mpl.use("Agg")
import matplotlib.pyplot as plt

from capstone.data.store import build_store, load_store
from capstone.model.backend import effective_precision
from capstone.model.released import predict
from capstone.model.training import train
from capstone.params import Phase, TrainRun

SEED_REPORTED = 0.56


class EpochLog(keras.callbacks.Callback):
    """After each epoch: PrivateTest accuracy (for the curve only, never for choosing), a
    row appended to ``history.csv``, and the network copied to ``seed_cnn.keras`` when its
    validation accuracy is the best of every epoch so far (this run's and earlier ones')."""

    def __init__(self, x: np.ndarray, y: np.ndarray, out: Path, leg: Path) -> None:
        super().__init__()
        self.x, self.y, self.out, self.leg = x, y, out, leg
        self.history = out / "history.csv"
        earlier = pd.read_csv(self.history) if self.history.exists() else pd.DataFrame()
        self.epoch = len(earlier)
        self.seconds = float(earlier["seconds"].max()) if len(earlier) else 0.0
        self.best = float(earlier["val_accuracy"].max()) if len(earlier) else -np.inf
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.seconds += time.perf_counter() - self.start
        self.epoch += 1
        test = float((predict(self.model, self.x).argmax(axis=1) == self.y).mean())
        row = {"epoch": self.epoch, **{k: logs[k] for k in sorted(logs)}}
        row |= {"test_accuracy": test, "seconds": round(self.seconds, 1)}
        pd.DataFrame([row]).to_csv(
            self.history, mode="a", header=not self.history.exists(), index=False
        )
        if logs["val_accuracy"] > self.best:  # the run's checkpoint has just saved it
            self.best = logs["val_accuracy"]
            shutil.copyfile(self.leg / "seed_cnn.keras", self.out / "seed_cnn.keras")


def fer2013(archive: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Kaggle's FER2013 decoded as the pipeline decodes it: subset -> (faces, labels)."""
    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(archive).extractall(tmp)
        build_store(Path(tmp), Path(tmp) / "store.npz", 48, progress=False)
        store = load_store(Path(tmp) / "store.npz")
    return {s: (store.x[store.subset == s], store.y[store.subset == s]) for s in set(store.subset)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fer2013", type=Path, default=Path("../shared/data/fer2013/fer2013.zip"))
    parser.add_argument("--epochs", type=int, default=250)
    parser.add_argument("--patience", type=int, default=25, help="epochs without a better one")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("build/seed_cnn"))
    parser.add_argument("--resume", action="store_true", help="go on from --out's best network")
    parser.add_argument("--report", action="store_true", help="no training: write the report")
    parser.add_argument("--limit", type=int, help="train on this many faces only (a smoke test)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    data = fer2013(args.fer2013)
    train_xy, val_xy, test_xy = data["Training"], data["PublicTest"], data["PrivateTest"]
    if args.limit:
        train_xy = (train_xy[0][: args.limit], train_xy[1][: args.limit])
    history = args.out / "history.csv"
    done = len(pd.read_csv(history)) if args.resume and history.exists() else 0
    run = TrainRun(
        name="seed_cnn",
        architecture="seed_cnn",
        optimizer="adam",
        schedule="inverse_time",
        decay=1e-6,
        class_weight=False,
        batch_size=args.batch,
        patience=args.patience,
        precision="auto",
        phases=[Phase(epochs=max(1, args.epochs - done), learning_rate=1e-4, augment="heavy")],
    )
    if not args.report:
        init = args.out / "seed_cnn.keras" if args.resume else None
        if not args.resume:
            history.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as leg:
            log = EpochLog(*test_xy, args.out, Path(leg))
            train(
                run,
                train_xy,
                val_xy,
                Path(leg),
                seed=42 + done,  # a resumed run draws other augmentations
                verbose=2,
                init_weights=init,
                callbacks=[log],
            )
    report(args.out, test_xy, effective_precision(run.precision))


def report(out: Path, test_xy: tuple[np.ndarray, np.ndarray], precision: str) -> None:
    """``results.json`` and ``curve.png`` from ``history.csv`` and the best network."""
    history = pd.read_csv(out / "history.csv")
    best = int(history["val_accuracy"].idxmax())
    network = keras.models.load_model(out / "seed_cnn.keras")
    test_accuracy = float((predict(network, test_xy[0]).argmax(axis=1) == test_xy[1]).mean())
    results = {
        "epochs": len(history),
        "best_epoch": int(history["epoch"].iloc[best]),
        "val_accuracy": float(history["val_accuracy"].iloc[best]),
        "privatetest_accuracy": test_accuracy,
        "seed_reported": SEED_REPORTED,
        "train_seconds": float(history["seconds"].max()),
        "precision": precision,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["epoch"], history["accuracy"], label="training (augmented)")
    ax.plot(history["epoch"], history["val_accuracy"], label="validation (PublicTest)")
    ax.plot(history["epoch"], history["test_accuracy"], label="test (PrivateTest)")
    ax.axhline(SEED_REPORTED, color="grey", linestyle="--", label="the seed's reported 56%")
    ax.set(xlabel="epoch", ylabel="accuracy", title="The seed's CNN with the seed's recipe")
    ax.legend()
    fig.savefig(out / "curve.png", dpi=120, bbox_inches="tight")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
