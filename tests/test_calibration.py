import numpy as np
import pytest

from capstone import calibration
from capstone.calibration import (
    adjust,
    expected_calibration_error,
    finalize,
    fit_class_offsets,
    fit_temperature,
    reliability,
)
from capstone.evaluation import classification_metrics
from capstone.models import compact_cnn


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def overconfident():
    """Labels drawn from softmax(z); the 'model' reports softmax(3 z): three times too sure."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, size=(4000, 7))
    true = softmax(z)
    y = np.array([rng.choice(7, p=p) for p in true])
    return softmax(3 * z), y


def test_temperature_recovers_overconfidence_and_lowers_ece(overconfident):
    probs, y = overconfident
    t = fit_temperature(probs, y)
    assert 2.5 < t < 3.5
    before = expected_calibration_error(probs, y)
    after = expected_calibration_error(adjust(probs, t), y)
    assert after < before / 2
    # temperature never changes the predicted class
    assert (adjust(probs, t).argmax(1) == probs.argmax(1)).all()


def test_class_offsets_raise_macro_f1_on_a_rare_class():
    rng = np.random.default_rng(1)
    y = rng.choice(7, size=3000, p=[0.14, 0.02, 0.14, 0.25, 0.17, 0.16, 0.12])
    z = rng.normal(0, 1, size=(3000, 7))
    z[np.arange(3000), y] += 1.2
    z[:, 1] -= 1.5  # the model under-predicts the rare class
    probs = softmax(z)
    offsets = fit_class_offsets(probs, y)
    before = classification_metrics(y, probs)
    after = classification_metrics(y, adjust(probs, 1.0, offsets))
    assert after["macro_f1"] > before["macro_f1"] + 0.01
    assert after["per_class"]["disgust"]["recall"] > before["per_class"]["disgust"]["recall"]
    assert offsets[1] == max(offsets)
    assert abs(offsets.sum()) < 1e-9


def test_reliability_bins_cover_every_prediction(overconfident):
    probs, y = overconfident
    table = reliability(probs, y, bins=10)
    assert sum(row["count"] for row in table) == len(y)
    assert all(row["low"] <= row["confidence"] <= row["high"] for row in table)


def test_finalize_folds_temperature_and_offsets_into_the_model():
    model = compact_cnn(width=4)
    x = np.random.default_rng(2).random((16, 48, 48, 1), dtype=np.float32)
    offsets = np.array([0.3, 1.0, -0.2, 0.0, -0.5, 0.1, -0.7])
    final = finalize(model, "compact_cnn", 4, temperature=2.0, offsets=offsets)
    expected = adjust(model.predict(x, verbose=0), 2.0, offsets)
    np.testing.assert_allclose(final.predict(x, verbose=0), expected, atol=1e-5)
    assert getattr(final, "optimizer", None) is None


def test_finalize_refuses_a_model_without_a_linear_head():
    from capstone.models import seed_cnn

    with pytest.raises(ValueError, match="linear Dense"):
        finalize(seed_cnn(), "seed_cnn", 32, temperature=2.0)


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match="probs must be"):
        fit_temperature(np.ones((3, 7)) / 7, np.array([0, 1]))


def test_confidence_threshold_keeps_shown_readings_accurate(overconfident) -> None:
    from capstone.calibration import confidence_threshold

    raw, y = overconfident
    probs = adjust(raw, fit_temperature(raw, y))
    t = confidence_threshold(probs, y, target=0.7)
    assert 0.2 < t < 0.95
    shown = probs.max(1) >= t
    assert (probs.argmax(1)[shown] == y[shown]).mean() >= 0.7
    lower = probs.max(1) >= round(t - 0.05, 2)
    assert (probs.argmax(1)[lower] == y[lower]).mean() < 0.7


def test_steps_table_restores_the_order_a_saved_record_lost() -> None:
    saved = {"validation": {k: {"accuracy": 0.5} for k in sorted(calibration.STEPS)}}
    labels = [label for label, _ in calibration.steps_table(saved)]
    assert labels == list(calibration.STEPS.values())
    assert labels[0] == "as trained"
