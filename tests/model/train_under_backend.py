"""Train, calibrate and save a tiny model under the Keras backend this process was started
with, with TensorFlow made unimportable (the GPU machine has none).

    KERAS_BACKEND=jax python tests/model/train_under_backend.py OUT_DIR

Writes ``OUT_DIR/final.keras`` (self-contained), ``crops.npy``, ``probs.npy`` (its
predictions here) and ``record.json`` (the calibration record). Used by
``tests/model/test_training_backends.py``.
"""

from __future__ import annotations

import importlib.abc
import json
import sys
from pathlib import Path


class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError(f"{name} is not available here: the code must not need it")


def main(out: Path) -> None:
    sys.meta_path.insert(0, NoTensorFlow())
    import keras
    import numpy as np

    from capstone.model.calibration import calibrate
    from capstone.model.released import predict, self_contained
    from capstone.model.training import train
    from capstone.params import Phase, TrainRun

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (84, 48, 48), dtype=np.uint8)
    y = np.arange(84) % 7
    run = TrainRun(
        name="tiny",
        architecture="compact_cnn",
        width=4,
        batch_size=42,  # whole batches only: JAX compiles each new batch shape anew
        precision="float32",
        phases=[Phase(epochs=1, augment="light", degrade=["jpeg", "noise"])],
    )
    model, history = train(run, (x, y), (x[:42], y[:42]), out, seed=0, verbose=0)
    final, record = calibrate(
        model,
        "compact_cnn",
        4,
        (x[42:], y[42:]),
        batch_size=42,
        try_flip=True,
        try_shift=1,
        train_xy=(x, y),
    )
    released = self_contained(final, record.tta_flip, record.tta_shift)
    released.save(out / "final.keras")
    np.save(out / "crops.npy", x[:10])
    np.save(out / "probs.npy", predict(released, x[:10]))
    saved = record.to_json() | {"backend": keras.backend.backend(), "epochs_trained": len(history)}
    (out / "record.json").write_text(json.dumps(saved, default=float))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
