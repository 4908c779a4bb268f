"""Train on the crowd: FER+'s vote shares as soft targets, and what the readings then mean.

    python benchmarks/crowd_training.py --epochs 6 --out build/crowd_probe
    python benchmarks/crowd_training.py --architecture residual_cnn --init none --lr 1e-3 \
        --epochs 60 --batch 128 --resumable --out build/residual   # the same again goes on

A network (by default the 26 November one, ``models/archive/fer_cnn_v1.keras``) is trained
with :func:`capstone.model.training.train` on the FER+ Training faces the crowd could read
(:func:`capstone.data.ferplus.readable`), their targets the crowd's shares over the 7
classes; FER+ Valid (PublicTest) keeps the best epoch. Then, read with flip averaging:

- a temperature is fitted to the crowd's shares on FER+ Valid
  (:func:`capstone.model.calibration.fit_temperature`), so that "angry 40%" means that about 4 in
  10 people would see the face as angry;
- FER+ PrivateTest's faces with a clear majority are scored as
  ``benchmarks/crowd_agreement.py`` scores the released model: majority accuracy,
  cross-entropy and total variation against the shares.

``--scheme`` picks how the votes become targets, three of Barsoum et al.'s (ICMI 2016):

- ``cross-entropy`` (the default, and the pipeline's): the shares themselves;
- ``probability``: each epoch, one label drawn per face from its shares (here the epochs'
  draws are made up front, ``--epochs`` copies of the faces trained as one epoch, so that
  the schedule and the number of steps match ``cross-entropy``'s);
- ``majority``: the crowd's most-voted class, one label per face.

Validation and test always use the shares. Every epoch's figures, the fitted temperature
and the test figures go to ``--out`` (``history.csv``, ``results.json``), with the seconds
each part took.

``--resumable`` backs the run up after every epoch (weights, optimiser, epoch: Keras'
``BackupAndRestore`` in ``--out``), for a network trained from scratch over several sessions:
the same command after a stop goes on from the last epoch done. ``--architecture
residual_cnn`` trains the bigger network (``--init none``: from scratch).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from capstone import metrics
from capstone.data import ferplus
from capstone.labels import CLASSES
from capstone.model.backend import effective_precision
from capstone.model.calibration import adjust, fit_temperature
from capstone.model.released import is_self_contained, predict, self_contained
from capstone.model.training import train
from capstone.params import Phase, TrainRun


def split(data: ferplus.CrowdFaces, usage: str, keep) -> tuple[np.ndarray, np.ndarray]:
    """One FER+ split's faces that ``keep`` selects by their votes, with their shares."""
    mine = (data.crowd.table["usage"] == usage).to_numpy()
    votes = data.crowd.votes[mine]
    chosen = keep(votes)
    return data.x[mine][chosen], ferplus.shares(votes)[chosen]


def targets(shares: np.ndarray, scheme: str, draws: int, seed: int) -> np.ndarray:
    """Training targets from the crowd's ``shares`` by ``scheme`` (one row per face, or for
    ``probability`` ``draws`` rows per face: the faces repeated, a label drawn for each)."""
    if scheme == "cross-entropy":
        return shares
    if scheme == "majority":
        return np.eye(shares.shape[1], dtype=np.float32)[shares.argmax(axis=1)]
    rng = np.random.default_rng(seed)
    tiled = np.tile(shares, (draws, 1))
    drawn = (tiled.cumsum(axis=1) > rng.random((len(tiled), 1))).argmax(axis=1)
    return np.eye(shares.shape[1], dtype=np.float32)[drawn]


def trainable(init: Path, out: Path) -> Path:
    """``init`` itself, or for a released reader the network its views share, saved in ``out``."""
    model = keras.models.load_model(init)
    if not is_self_contained(model):
        return init
    inner = next(layer for layer in model.layers if layer.name.endswith("_logits"))
    path = out / f"{init.stem}_network.keras"
    inner.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferplus", type=Path, default=Path("../shared/data/ferplus/ferplus.zip"))
    parser.add_argument("--init", type=Path, default=Path("models/archive/fer_cnn_v1.keras"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--augment", default="light", choices=["flip", "light", "erase", "heavy"])
    parser.add_argument(
        "--scheme", default="cross-entropy", choices=["cross-entropy", "probability", "majority"]
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument(
        "--architecture", default="compact_cnn", choices=["compact_cnn", "residual_cnn"]
    )
    parser.add_argument("--resumable", action="store_true", help="go on after a stop")
    parser.add_argument("--out", type=Path, default=Path("build/crowd_probe"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=int, help="train on this many faces only (a smoke test)")
    parser.add_argument(
        "--score-only", type=Path, help="no training: score this network (e.g. a checkpoint)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    data = ferplus.load_faces(args.ferplus)
    train_xy = split(data, "Training", ferplus.readable)
    if args.limit:
        train_xy = (train_xy[0][: args.limit], train_xy[1][: args.limit])
    draws = args.epochs if args.scheme == "probability" else 1
    y = targets(train_xy[1], args.scheme, draws, args.seed)
    train_xy = (np.tile(train_xy[0], (draws, 1, 1)), y)
    val_xy = split(data, "PublicTest", ferplus.readable)
    test_x, test_shares = split(data, "PrivateTest", ferplus.clear_majority)
    print(
        f"FER+ faces: {len(train_xy[1]):,} train, {len(val_xy[1]):,} validation (readable), "
        f"{len(test_shares):,} test (clear majority)"
    )
    run = TrainRun(
        name="crowd",
        architecture=args.architecture,
        width=args.width,
        batch_size=args.batch,
        weight_decay=args.weight_decay,
        class_weight=False,
        patience=args.epochs,  # every epoch runs; the best on validation is kept
        phases=[Phase(epochs=args.epochs // draws, learning_rate=args.lr, augment=args.augment)],
    )
    start = time.perf_counter()
    init = trainable(args.init, args.out) if args.init and args.init.name != "none" else None
    if args.score_only:
        network, history = keras.models.load_model(args.score_only), pd.DataFrame()
    else:
        backup = keras.callbacks.BackupAndRestore(args.out / "crowd_backup")
        network, history = train(
            run,
            train_xy,
            val_xy,
            args.out,
            seed=args.seed,
            verbose=2,
            init_weights=init,
            callbacks=[backup] if args.resumable else None,
        )
    seconds = time.perf_counter() - start
    history.to_csv(args.out / "history.csv", index=False)

    reader = self_contained(network, tta_flip=True)
    val_probs, test_probs = predict(reader, val_xy[0]), predict(reader, test_x)
    temperature = fit_temperature(val_probs, val_xy[1])
    results = {
        "recipe": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "precision": effective_precision(run.precision),
        "train_seconds": round(seconds, 1),
        "epochs_run": len(history),
        "temperature": round(temperature, 4),
        "test_flip": metrics.crowd_agreement(test_shares, test_probs, CLASSES).to_dict(),
        "test_flip_temperature": metrics.crowd_agreement(
            test_shares, adjust(test_probs, temperature), CLASSES
        ).to_dict(),
        "val_flip_temperature": metrics.crowd_agreement(
            val_xy[1], adjust(val_probs, temperature), CLASSES
        ).to_dict(),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(history.to_string(index=False))
    print(f"trained in {seconds:.0f} s ({results['precision']}); temperature {temperature:.3f}")
    rows = {k: results[k] for k in ("test_flip", "test_flip_temperature", "val_flip_temperature")}
    table = pd.DataFrame(rows).T[["n", "majority_accuracy", "cross_entropy", "total_variation"]]
    print(table.to_string())


if __name__ == "__main__":
    main()
