"""The same training, calibration and saved model under another Keras backend than TensorFlow."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from capstone.model.released import is_self_contained, load_model, predict

SCRIPT = Path(__file__).with_name("train_under_backend.py")

pytestmark = pytest.mark.slow  # half a minute: JAX compiles the training step


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_a_model_trained_under_jax_predicts_the_same_under_tensorflow(tmp_path: Path) -> None:
    # XLA's CPU compiler at its lowest optimisation: the tiny run compiles about 40 programs
    # (0.6 s each at the default level, most of the run) and each runs for milliseconds
    fast_compile = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
    env = os.environ | {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "XLA_FLAGS": fast_compile}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["backend"] == "jax" and record["epochs_trained"] == 1
    model = load_model(tmp_path / "final.keras")  # here: TensorFlow, on the CPU
    assert is_self_contained(model)
    np.testing.assert_allclose(
        predict(model, np.load(tmp_path / "crops.npy")), np.load(tmp_path / "probs.npy"), atol=1e-5
    )
