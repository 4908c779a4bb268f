from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capstone.params import Phase, TrainRun
from capstone.training import class_weights, train


def test_class_weights_favour_rare_classes() -> None:
    w = class_weights(np.array([3] * 90 + [1] * 10 + [0, 2, 4, 5, 6]))
    assert w[1] > w[3]


def test_train_writes_model_history_and_card(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(64, 48, 48), dtype=np.uint8)
    y = np.arange(64) % 7
    run = TrainRun(
        name="tiny",
        architecture="compact_cnn",
        width=4,
        batch_size=32,
        phases=[Phase(epochs=1, augment="light"), Phase(epochs=1, augment="heavy")],
    )
    model, history = train(run, (x, y), (x[:16], y[:16]), tmp_path, seed=0, verbose=0)
    assert model.output_shape == (None, 7)
    assert list(history["phase"]) == [1, 2]
    saved = pd.read_csv(tmp_path / "tiny_history.csv")
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(saved.columns)
    assert (tmp_path / "tiny.keras").is_file()
    assert (tmp_path / "tiny.json").is_file()
    assert not list(tmp_path.glob("*.part*"))  # no temporary checkpoint left behind
