"""Is contempt worth an 8th class? A linear probe on a crowd-trained network's features.

    python benchmarks/contempt_class.py --network build/crowd_probe/crowd.keras

FER+'s crowd could also vote *contempt* (a smirk, one corner of the mouth), which FER2013
has no class for. Before adding it to the model, this measures what it would give. The
network's penultimate features (flip-averaged) are read for FER+'s faces, and two
multinomial logistic regressions are fitted on FER+ Training with the crowd's plurality
as the label:

- **7 classes**: the faces whose plurality is one of the model's classes, as now;
- **8 classes**: the same plus the faces whose plurality is contempt, once as they are
  and once with contempt weighted as much as an average class.

Both are scored on FER+ PrivateTest: the 7-class faces with a clear majority (the 3,349 of
``benchmarks/crowd_agreement.py``), and the faces whose clear majority is contempt. A
linear probe on features learnt without contempt underestimates what training the whole
network on 8 classes would give; it shows how many faces there are to learn from and
whether a contempt output costs the other classes. Prints a table and writes
``results.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.preprocessing import StandardScaler

from capstone.data import ferplus
from capstone.labels import network_inputs
from capstone.model.released import is_self_contained, load_model

#: The columns a label can come from: the 7 classes in VOTE_COLUMNS order, then contempt.
EIGHT = ferplus.VOTE_COLUMNS[:8]
CONTEMPT = EIGHT.index("contempt")


def features(network_file: Path, x: np.ndarray) -> np.ndarray:
    """The input of the network's last Dense layer for crops ``x``, averaged with the
    mirrored crops' (as the released model reads)."""
    network = load_model(network_file)
    if is_self_contained(network):
        network = next(layer for layer in network.layers if layer.name.endswith("_logits"))
    last = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)][-1]
    reader = keras.Model(network.inputs, last.input)
    pixels = network_inputs(x)
    views = [reader.predict(v, batch_size=512, verbose=0) for v in (pixels, pixels[:, :, ::-1])]
    return (views[0] + views[1]) / 2


def plurality(votes: np.ndarray) -> np.ndarray:
    """The column (of :data:`EIGHT`) with more votes than every other of the 10, or -1."""
    top = votes.max(axis=1)
    alone = (votes == top[:, None]).sum(axis=1) == 1
    column = votes.argmax(axis=1)
    return np.where(alone & (column < len(EIGHT)), column, -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferplus", type=Path, default=Path("../shared/data/ferplus/ferplus.zip"))
    parser.add_argument("--network", type=Path, default=Path("models/fer_cnn.keras"))
    parser.add_argument("--out", type=Path, default=Path("build/contempt_class"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    data = ferplus.load_faces(args.ferplus)
    usage = data.crowd.table["usage"].to_numpy()
    label = plurality(data.crowd.votes)
    feats = StandardScaler().fit_transform(features(args.network, data.x))
    train = (usage == "Training") & (label >= 0)
    test = (usage == "PrivateTest") & (label >= 0)
    print(
        f"faces with a clear plurality: {train.sum():,} train ({(label[train] == CONTEMPT).sum()}"
        f" contempt), {test.sum():,} test ({(label[test] == CONTEMPT).sum()} contempt)"
    )

    rows, results = [], {"network": str(args.network)}
    # the third probe weighs contempt's few faces as much as an average class's
    average = (train & (label < CONTEMPT)).sum() / CONTEMPT / (train & (label == CONTEMPT)).sum()
    probes = (
        ("7 classes", CONTEMPT, None),
        ("8 classes", CONTEMPT + 1, None),
        ("8 classes, contempt weighted", CONTEMPT + 1, {CONTEMPT: float(average)}),
    )
    for name, classes, weights in probes:
        fit_on = train & (label < classes)
        probe = LogisticRegression(max_iter=2000, C=0.1, class_weight=weights)
        probe.fit(feats[fit_on], label[fit_on])
        predicted = probe.predict(feats[test])
        seven = label[test] < CONTEMPT
        accuracy = float((predicted[seven] == label[test][seven]).mean())
        p, r, f, _ = precision_recall_fscore_support(
            label[test] == CONTEMPT, predicted == CONTEMPT, average="binary", zero_division=0
        )
        row = {
            "probe": name,
            "7-class faces": int(seven.sum()),
            "accuracy on them": round(accuracy, 4),
            "read as contempt": int((predicted[seven] == CONTEMPT).sum()),
            "contempt faces": int((~seven).sum()),
            "contempt recall": round(float(r), 4),
            "contempt precision": round(float(p), 4),
            "contempt F1": round(float(f), 4),
        }
        rows.append(row)
        results[name] = row
    results["seconds"] = round(time.perf_counter() - start, 1)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(pd.DataFrame(rows).set_index("probe").T.to_string())
    print(f"in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
