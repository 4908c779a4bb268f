from __future__ import annotations

import numpy as np
import pytest

from capstone.evaluation import classification_metrics, majority_probs, per_class_table


def test_perfect_and_wrong_predictions() -> None:
    y = np.array([0, 1, 2, 3, 4, 5, 6, 3])
    perfect = classification_metrics(y, np.eye(7)[y])
    assert perfect["accuracy"] == 1.0
    assert perfect["macro_f1"] == 1.0
    shifted = classification_metrics(y, np.eye(7)[(y + 1) % 7])
    assert shifted["accuracy"] == 0.0
    rows = np.asarray(shifted["confusion"]).sum(axis=1)
    assert np.allclose(rows, 1.0)


def test_majority_baseline_always_answers_the_most_common_class() -> None:
    probs = majority_probs(np.array([3, 3, 3, 1]), 5)
    assert (probs.argmax(axis=1) == 3).all()
    m = classification_metrics(np.array([3, 3, 1, 0, 3]), probs)
    assert m["accuracy"] == pytest.approx(0.6)
    assert per_class_table(m).loc["happy", "recall"] == 1.0


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="probs must have shape"):
        classification_metrics(np.array([0, 1]), np.ones((2, 3)))
