"""Networks averaged, and a logit adjustment for the rare classes: what each does on FER+.

    python benchmarks/ensemble.py --members models/fer_cnn.keras \
        models/archive/residual_cnn/residual_cnn.weights.npz

Each member reads FER+ Valid (PublicTest, faces the crowd could read) and PrivateTest with
flip averaging: the released model as it is (self-contained), a bare network or an archived
``*.weights.npz`` (``residual_cnn`` at width 32) wrapped as the release wraps one, with a
temperature fitted on Valid. Then, on the same faces:

- each member alone;
- the ensemble: the members' log-probabilities averaged, a temperature fitted on Valid;
- the ensemble with per-class logit offsets fitted on Valid to the crowd's shares
  (cross-entropy, so the readings stay shares of people), kept only where they lower Valid's
  cross-entropy.

PrivateTest is scored as issue 48 asks: on the faces with a clear majority, majority accuracy,
macro-F1 and each class read as itself; cross-entropy to the shares there and over every face
with a vote for one of the 7 classes. Kept in ``benchmarks/results/ensemble_ferplus.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from capstone import metrics
from capstone.data import ferplus
from capstone.labels import CLASSES
from capstone.model.calibration import adjust, fit_temperature, log_probs
from capstone.model.released import is_self_contained, predict, self_contained
from capstone.provenance import save_benchmark


def load_member(path: Path) -> Any:
    """A self-contained reader of uint8 crops for the file at ``path``."""
    import keras

    from capstone.model import architectures

    if path.suffix == ".npz":
        weights = np.load(path)
        network = architectures.residual_cnn(32)
        network.set_weights([weights[f"arr_{i}"].astype("float32") for i in range(len(weights))])
    else:
        network = keras.models.load_model(path)
    return network if is_self_contained(network) else self_contained(network, tta_flip=True)


def fit_offsets(probs: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Per-class logit offsets (centred) minimising the cross-entropy to ``shares``."""
    z = log_probs(probs)

    def loss(b: np.ndarray) -> float:
        return float(-(shares * np.log(np.clip(adjust(np.exp(z), 1.0, b), 1e-12, 1))).sum(1).mean())

    offsets = minimize(loss, np.zeros(z.shape[1]), method="L-BFGS-B").x
    return offsets - offsets.mean()


def scores(probs: np.ndarray, shares: np.ndarray, clear: np.ndarray) -> dict[str, Any]:
    """Issue 48's PrivateTest figures of ``probs`` against the crowd's ``shares``."""
    agree = metrics.crowd_agreement(shares[clear], probs[clear], CLASSES)
    majority = shares[clear].argmax(axis=1)
    every = metrics.crowd_agreement(shares, probs, CLASSES)
    return {
        "majority_accuracy": round(agree.majority_accuracy, 4),
        "macro_f1": round(metrics.macro_f1(majority, probs[clear].argmax(1), len(CLASSES)), 4),
        "per_class": {c: round(v, 4) for c, v in agree.per_class.items()},
        "cross_entropy_clear": round(agree.cross_entropy, 4),
        "cross_entropy_all": round(every.cross_entropy, 4),
        "faces_clear": int(clear.sum()),
        "faces_all": len(shares),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ferplus", type=Path, default=Path("../shared/data/ferplus/ferplus.zip"))
    parser.add_argument("--members", type=Path, nargs="+", required=True)
    args = parser.parse_args()

    data = ferplus.load_faces(args.ferplus)
    usage, vote_array = data.crowd.table["usage"].to_numpy(), data.crowd.votes
    val = (usage == "PublicTest") & ferplus.readable(vote_array)
    test = (usage == "PrivateTest") & (ferplus.counts(vote_array).sum(axis=1) > 0)
    shares = ferplus.shares(vote_array)
    clear = ferplus.clear_majority(vote_array)[test]

    rows: dict[str, Any] = {}
    val_logs, test_logs = [], []
    for path in args.members:
        reader = load_member(path)
        val_p, test_p = predict(reader, data.x[val]), predict(reader, data.x[test])
        t = fit_temperature(val_p, shares[val])
        val_p, test_p = adjust(val_p, t), adjust(test_p, t)
        val_logs.append(log_probs(val_p))
        test_logs.append(log_probs(test_p))
        rows[path.name] = {"temperature": round(t, 4), **scores(test_p, shares[test], clear)}
        print(path.name, rows[path.name])
    val_p, test_p = np.exp(np.mean(val_logs, axis=0)), np.exp(np.mean(test_logs, axis=0))
    t = fit_temperature(val_p, shares[val])
    val_p, test_p = adjust(val_p, t), adjust(test_p, t)
    rows["ensemble"] = {"temperature": round(t, 4), **scores(test_p, shares[test], clear)}
    offsets = fit_offsets(val_p, shares[val])
    val_ce = metrics.crowd_agreement(shares[val], val_p, CLASSES).cross_entropy
    adjusted_ce = metrics.crowd_agreement(
        shares[val], adjust(val_p, 1.0, offsets), CLASSES
    ).cross_entropy
    kept = adjusted_ce < val_ce
    rows["ensemble, offsets"] = {
        "offsets": {c: round(float(v), 3) for c, v in zip(CLASSES, offsets, strict=True)},
        "valid_cross_entropy": [round(val_ce, 4), round(adjusted_ce, 4)],
        "kept": bool(kept),
        **scores(adjust(test_p, 1.0, offsets), shares[test], clear),
    }
    for name, row in rows.items():
        print(f"{name}: {row}")
    summary = {
        name: (
            f"{row['majority_accuracy']:.1%} majority, macro-F1 {row['macro_f1']:.3f}, "
            f"sad {row['per_class']['sad']:.0%}, fear {row['per_class']['fear']:.0%}, "
            f"CE {row['cross_entropy_all']:.3f}"
        )
        for name, row in rows.items()
    }
    results = {"members": [str(p) for p in args.members], "rows": rows, "summary": summary}
    print(f"kept in {save_benchmark('ensemble_ferplus', results)}")


if __name__ == "__main__":
    main()
