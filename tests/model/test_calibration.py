import json
import time

import keras
import numpy as np
import pytest

from capstone.errors import CapstoneError
from capstone.evaluation.scores import classification_metrics
from capstone.metrics import expected_calibration_error
from capstone.model import calibration
from capstone.model.architectures import compact_cnn
from capstone.model.calibration import adjust, finalize, fit_class_offsets, fit_temperature
from capstone.model.calibration_record import STEPS, CalibrationRecord, steps_table
from capstone.model.released import self_contained


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


def test_temperature_fitted_to_a_crowds_shares_recovers_them() -> None:
    """Soft targets: a model three times too sure of the crowd's own distribution."""
    z = np.random.default_rng(2).normal(0, 1.5, size=(500, 7))
    shares = softmax(z)
    t = fit_temperature(softmax(3 * z), shares)
    assert t == pytest.approx(3, rel=0.01)
    np.testing.assert_allclose(adjust(softmax(3 * z), t), shares, atol=0.01)


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


def test_finalize_folds_temperature_and_offsets_into_the_model():
    model = compact_cnn(width=4)
    x = np.random.default_rng(2).random((16, 48, 48, 1), dtype=np.float32)
    offsets = np.array([0.3, 1.0, -0.2, 0.0, -0.5, 0.1, -0.7])
    final = finalize(model, "compact_cnn", 4, temperature=2.0, offsets=offsets)
    expected = adjust(model.predict(x, verbose=0), 2.0, offsets)
    np.testing.assert_allclose(final.predict(x, verbose=0), expected, atol=1e-5)
    assert getattr(final, "optimizer", None) is None


def test_finalize_refuses_a_model_without_a_linear_head():
    from capstone.model.architectures import seed_cnn

    with pytest.raises(ValueError, match="linear Dense"):
        finalize(seed_cnn(), "seed_cnn", 32, temperature=2.0)


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match="probs must be"):
        fit_temperature(np.ones((3, 7)) / 7, np.array([0, 1]))


def test_confidence_threshold_keeps_shown_readings_accurate(overconfident) -> None:
    from capstone.model.calibration import confidence_threshold

    raw, y = overconfident
    probs = adjust(raw, fit_temperature(raw, y))
    t = confidence_threshold(probs, y, target=0.7)
    assert 0.2 < t < 0.95
    shown = probs.max(1) >= t
    assert (probs.argmax(1)[shown] == y[shown]).mean() >= 0.7
    lower = probs.max(1) >= round(t - 0.05, 2)
    assert (probs.argmax(1)[lower] == y[lower]).mean() < 0.7


def a_record(**changes) -> CalibrationRecord:
    """A calibration record, as ``final.json`` holds it, read back."""
    saved = {
        "temperature": 1.0,
        "class_offsets": [0.0] * 7,
        "uncertain_below": 0.4,
        "shown_share": 0.9,
        "validation": {k: {"accuracy": 0.5} for k in sorted(STEPS)},
        "tta_flip": True,
        "tta_shift": 1,
        "head_refit": {"kept": True, "c": 1.0, "seconds": 1.0},
    }
    return CalibrationRecord.from_json(json.loads(json.dumps(saved | changes)))


def test_steps_table_restores_the_order_a_saved_record_lost() -> None:
    labels = [label for label, _ in steps_table(a_record())]
    assert labels == list(STEPS.values())
    assert labels[0] == "as trained"


def striped_faces(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """uint8 faces whose class sets the brightness of one horizontal band: easy to separate."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 7
    x = rng.integers(0, 60, size=(n, 48, 48)).astype(np.uint8)
    for k in range(7):
        x[y == k, 6 * k : 6 * k + 6, :] += 180
    return x, y


def amplified_cnn() -> keras.Model:
    """An untrained compact_cnn (seeded) whose random features are scaled up to about 1-5."""
    keras.utils.set_random_seed(0)
    model = compact_cnn(width=4)
    hidden = model.layers[-4]  # the ReLU Dense layer the head reads
    kernel, bias = hidden.get_weights()
    hidden.set_weights([kernel * 100, bias])
    return model


def test_refit_head_folds_into_the_model_and_fits_the_training_faces() -> None:
    from capstone.model.calibration import head_features, refit_head

    model = amplified_cnn()
    x, y = striped_faces(280)
    kernel, bias = refit_head(model, (x, y), batch_size=64)
    assert kernel.shape == (32, 7) and bias.shape == (7,)
    refitted = finalize(model, "compact_cnn", 4, head=(kernel, bias))
    probs = refitted.predict(x[..., None] / 255.0, verbose=0)
    np.testing.assert_allclose(probs, softmax(head_features(model, x) @ kernel + bias), atol=1e-4)
    before = (model.predict(x[..., None] / 255.0, verbose=0).argmax(1) == y).mean()
    assert (probs.argmax(1) == y).mean() > max(0.9, before + 0.3)


def crowd_shares(y: np.ndarray, agree: float = 0.7) -> np.ndarray:
    """A crowd that sees each face as its class ``agree`` of the time, else as the next."""
    shares = np.eye(7)[y] * agree + np.eye(7)[(y + 1) % 7] * (1 - agree)
    return shares.astype(np.float32)


def test_refit_head_on_a_crowds_shares_fits_the_shares_better_than_their_majority() -> None:
    from capstone.model.calibration import refit_head

    model = amplified_cnn()
    x, y = striped_faces(280)
    shares = crowd_shares(y)
    cross_entropy = {}
    for name, targets in {"shares": shares, "majority": y}.items():
        # c=100: 280 faces weigh against the penalty as the real training set's 28,000 do
        head = refit_head(model, (x, targets), batch_size=64, c=100.0)
        probs = finalize(model, "compact_cnn", 4, head=head).predict(
            x[..., None] / 255.0, verbose=0
        )
        assert (probs.argmax(1) == y).mean() > 0.9
        cross_entropy[name] = -(shares * np.log(probs + 1e-12)).sum(axis=1).mean()
    assert cross_entropy["shares"] < 0.8
    assert cross_entropy["majority"] > 1.2


def test_calibrate_on_a_crowds_shares_keeps_no_class_offsets() -> None:
    x, y = striped_faces(140, seed=4)
    _, record = calibration.calibrate(
        amplified_cnn(), "compact_cnn", 4, (x, crowd_shares(y)), batch_size=64
    )
    assert record.class_offsets == [0.0] * 7
    assert record.class_offsets_heldout.kept is False


def test_refit_head_needs_every_class() -> None:
    from capstone.model.calibration import refit_head

    x, y = striped_faces(70)
    with pytest.raises(ValueError, match="all 7 classes"):
        refit_head(compact_cnn(width=4), (x[y < 6], y[y < 6]))


def test_offsets_heldout_keeps_offsets_that_generalise_and_not_noise() -> None:
    from capstone.model.calibration import offsets_heldout

    rng = np.random.default_rng(1)
    y = rng.choice(7, size=3000, p=[0.13, 0.04, 0.13, 0.25, 0.17, 0.16, 0.12])
    z = rng.normal(0, 1, size=(3000, 7))
    z[np.arange(3000), y] += 2.0
    biased = z.copy()
    biased[:, 1] -= 3.0  # never predicts the rare class: offsets fix this on any half
    real = offsets_heldout(softmax(biased), y, repeats=2)
    assert real["f1_with"] > real["f1_without"] + 0.01
    y = np.arange(700) % 7  # balanced classes and an unbiased model: nothing to fix,
    z = rng.normal(0, 1, size=(700, 7))  # so fitted offsets only fit noise
    z[np.arange(700), y] += 1.0
    noise = offsets_heldout(softmax(z), y, repeats=2)
    assert noise["f1_with"] < noise["f1_without"]


def test_calibrate_records_the_head_refit_and_the_offsets_decision() -> None:
    model = amplified_cnn()
    x, y = striped_faces(210)
    x_val, y_val = striped_faces(140, seed=4)
    start = time.perf_counter()
    final, record = calibration.calibrate(
        model, "compact_cnn", 4, (x_val, y_val), batch_size=64, train_xy=(x, y)
    )
    assert 0 < record.head_refit.seconds <= time.perf_counter() - start
    assert record.head_refit.kept is True
    assert record.validation["head_refit"]["accuracy"] > 0.9
    assert {"f1_with", "f1_without", "kept"} <= set(record.to_json()["class_offsets_heldout"])
    offsets_kept = record.class_offsets_heldout.kept
    assert (record.class_offsets != [0.0] * 7) == offsets_kept
    assert CalibrationRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    labels = [label for label, _ in steps_table(record)]
    assert labels[:2] == ["as trained", "+ head refitted on clean training images"]
    # the folded model, read as the record says, scores what the record says
    reader = self_contained(final, record.tta_flip, record.tta_shift)
    probs = reader.predict(x_val, verbose=0)
    last = record.validation["class_offsets" if offsets_kept else "temperature"]
    assert (probs.argmax(axis=1) == y_val).mean() == pytest.approx(last["accuracy"])


def test_steps_table_marks_steps_that_were_not_kept() -> None:
    record = a_record(
        head_refit={"kept": False, "c": 1.0, "seconds": 2.0},
        class_offsets_heldout={"kept": False, "f1_without": 0.6, "f1_with": 0.5},
    )
    labels = dict(zip(STEPS, [lab for lab, _ in steps_table(record)], strict=True))
    assert labels["head_refit"].endswith("(not kept)")
    assert labels["class_offsets"].endswith("(not kept)")
    assert labels["flip_tta"] == "+ flip test-time augmentation"


@pytest.mark.parametrize(("shift_right", "kept"), [(60, 2), (45, 0)])
def test_calibrate_keeps_shift_tta_only_if_it_beats_the_flip(monkeypatch, shift_right, kept):
    """Fake predictions: plain 30, flip 50 and flip + shift ``shift_right`` of 70 faces right."""
    x, y = striped_faces(70)
    right = {(False, 0): 30, (True, 0): 50, (True, 2): shift_right}

    def fake_wrap(model, tta_flip=False, tta_shift=0):
        return ("views", tta_flip, tta_shift)

    def fake_predict(model, faces, batch_size=256):
        views = model[1:] if isinstance(model, tuple) else (False, 0)
        pred = np.where(np.arange(len(y)) < right[views], y, (y + 1) % 7)
        return np.eye(7)[pred] * 0.6 + 0.4 / 7

    monkeypatch.setattr(calibration, "self_contained", fake_wrap)
    monkeypatch.setattr(calibration, "predict", fake_predict)
    _, record = calibration.calibrate(amplified_cnn(), "compact_cnn", 4, (x, y), try_shift=2)
    assert record.tta_flip is True
    assert record.tta_shift == kept
    assert record.validation["shift_tta"]["accuracy"] == pytest.approx(shift_right / 70)
    expected = round((shift_right if kept else 50) / 70, 6)
    assert round(record.validation["temperature"]["accuracy"], 6) == expected
    labels = [label for label, _ in steps_table(record)]
    shifted = "+ shifted copies (test-time augmentation)"
    assert (shifted in labels) == bool(kept) and (f"{shifted} (not kept)" in labels) != bool(kept)


def test_a_record_is_versioned_and_older_ones_still_read(repo) -> None:
    archived = json.loads((repo / "models/archive/fer_cnn_v1.json").read_text())["calibration"]
    old = CalibrationRecord.from_json(archived)  # before version 1: no tta_shift
    assert (old.version, old.tta_shift, old.validation_faces) == (1, 0, None)
    assert a_record().to_json()["version"] == 1
    with pytest.raises(CapstoneError, match=r"missing keys \['temperature'\]"):
        CalibrationRecord.from_json({k: v for k, v in archived.items() if k != "temperature"})
    with pytest.raises(CapstoneError, match="version 2 is newer than this code reads"):
        CalibrationRecord.from_json(archived | {"version": 2})
    with pytest.raises(CapstoneError, match="unknown keys \\['pixel_scale'\\]"):
        CalibrationRecord.from_json(archived | {"pixel_scale": 255})


def test_calibrate_fits_the_temperature_to_a_crowds_shares(monkeypatch) -> None:
    """Soft validation targets: the temperature fits the shares; the rest reads their majority."""
    x, y = striped_faces(140, seed=5)
    shares = np.full((140, 7), 0.05)
    shares[np.arange(140), y] = 0.7
    logits = np.random.default_rng(3).normal(0, 1, size=(140, 7))
    logits[np.arange(140), y] += 3
    plain = softmax(2 * logits)  # mostly right, and far surer than the crowd's 70%
    monkeypatch.setattr(calibration, "predict", lambda model, faces, batch_size=256: plain)
    _, record = calibration.calibrate(
        amplified_cnn(), "compact_cnn", 4, (x, shares), try_flip=False
    )
    assert record.temperature == pytest.approx(round(fit_temperature(plain, shares), 4))
    assert record.temperature != pytest.approx(round(fit_temperature(plain, y), 4), abs=1e-3)
    assert record.validation["trained"]["accuracy"] == pytest.approx(np.mean(plain.argmax(1) == y))
