from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from capstone.calls.request import ReadingOptions
from capstone.model import released as inference
from capstone.model.architectures import compact_cnn
from capstone.model.calibration_record import CalibrationRecord
from capstone.model.released import ModelError, load_model, predict, self_contained
from capstone.paths import released_model


@pytest.fixture(scope="module")
def network() -> keras.Model:
    keras.utils.set_random_seed(3)
    return compact_cnn(width=4, fused_batch_norm=False)


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)


def shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``x`` (n, h, w) moved ``dy`` down and ``dx`` right, the border pixels repeated."""
    pad = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    h, w = x.shape[1:]
    return padded[:, pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def test_shift_and_flip_matrices_move_pixels_and_repeat_the_border() -> None:
    x = np.arange(6, dtype=np.float32)
    assert (x @ inference.shift_matrix(6, 2)).tolist() == [0, 0, 0, 1, 2, 3]
    assert (x @ inference.shift_matrix(6, -1)).tolist() == [1, 2, 3, 4, 5, 5]
    assert (x @ inference.flip_matrix(6)).tolist() == [5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize(("flip", "shift", "n_views"), [(False, 0, 1), (True, 0, 2), (True, 2, 10)])
def test_the_graph_averages_the_logits_of_every_view(network, crops, flip, shift, n_views) -> None:
    views = inference.views(flip, shift)
    assert len(views) == n_views
    images = []
    for dy, dx, mirrored in views:
        v = shifted(crops, dy, dx)
        images.append(v[:, :, ::-1] if mirrored else v)
    logits = np.mean(
        [np.log(network.predict(v[..., None] / 255.0, verbose=0)) for v in images], axis=0
    )
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = predict(self_contained(network, flip, shift), crops)
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_a_bare_network_gets_unit_pixels_and_a_channel(network, crops) -> None:
    expected = network.predict(crops[..., None] / 255.0, verbose=0)
    np.testing.assert_allclose(predict(network, crops), expected, atol=1e-6)
    assert predict(network, crops[:0]).shape == (0, 7)
    with pytest.raises(ValueError, match="face crops must have shape"):
        predict(network, crops[..., None])


def test_the_saved_model_loads_and_predicts_with_plain_keras(tmp_path, network, crops) -> None:
    model = self_contained(network, tta_flip=True, tta_shift=2)
    path = tmp_path / "fer_cnn.keras"
    model.save(path)
    np.save(tmp_path / "crops.npy", crops)
    code = (
        "import keras, numpy as np, sys; "
        f"m = keras.models.load_model({str(path)!r}); "
        f"p = m.predict(np.load({str(tmp_path / 'crops.npy')!r}), verbose=0); "
        "assert 'capstone' not in sys.modules; np.save(sys.argv[1], p)"
    )
    out = tmp_path / "probs.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, capture_output=True)
    np.testing.assert_allclose(np.load(out), predict(model, crops), atol=1e-6)


def test_a_missing_file_a_folder_and_a_corrupt_file_say_what_is_wrong(tmp_path) -> None:
    with pytest.raises(ModelError, match="model not found"):
        load_model(tmp_path / "nothing.keras")
    with pytest.raises(ModelError, match="is a folder"):
        load_model(tmp_path)
    bad = tmp_path / "bad.keras"
    bad.write_text("hello")
    with pytest.raises(ModelError, match="not a loadable Keras model"):
        load_model(bad)


def test_models_that_break_the_contract_are_refused(tmp_path) -> None:
    inputs = keras.Input((32, 32, 1))
    wrong_input = keras.Model(
        inputs, keras.layers.Dense(7, activation="softmax")(keras.layers.Flatten()(inputs))
    )
    inputs = keras.Input((48, 48, 1))
    flat = keras.layers.Flatten()(inputs)
    wrong_classes = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(flat))
    logits = keras.Model(inputs, keras.layers.Dense(7)(flat))
    for model, message in (
        (wrong_input, "not 48x48 face crops"),
        (wrong_classes, "not the 7 expression classes"),
        (logits, "not probabilities"),
    ):
        path = tmp_path / f"{message[:8].replace(' ', '_')}.keras"
        model.save(path)
        with pytest.raises(ModelError, match=message):
            load_model(path)


def test_the_record_beside_the_model_gives_threshold_and_crop(tmp_path) -> None:
    model = tmp_path / "fer_cnn.keras"
    assert inference.uncertain_below_of(model) == 0.4
    assert inference.crop_settings_of(model) == {}
    calibration = CalibrationRecord(
        1.0, [0.0] * 7, uncertain_below=0.35, shown_share=0.9, validation={}
    )
    record = {"calibration": calibration.to_json(), "crop": {"margin": 0.3, "size": 48}}
    (tmp_path / "fer_cnn.json").write_text(json.dumps(record))
    assert inference.uncertain_below_of(model) == 0.35
    assert inference.crop_settings_of(model) == {"margin": 0.3}
    options = ReadingOptions(detector="haar", min_face=30).for_model(model)
    assert options == ReadingOptions(
        detector="haar", min_face=30, uncertain_below=0.35, crop={"margin": 0.3}
    )
    assert ReadingOptions(uncertain_below=0.0).for_model(model).uncertain_below == 0.0


def test_the_released_model_is_self_contained() -> None:
    path = released_model(Path(__file__).parents[2])
    model = load_model(path)
    assert inference.is_self_contained(model)


def test_a_reading_is_explained_by_what_the_model_was_calibrated_to(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    (tmp_path / "m.json").write_text('{"faces": "ferplus"}')
    assert "about 4 in 10 people would likely see" in inference.reading_meaning(model)
    (tmp_path / "m.json").write_text('{"faces": "fer2013"}')
    assert "one annotator's labels" in inference.reading_meaning(model)
    released = released_model(Path(__file__).parents[2])
    assert "likely appears to people" in inference.reading_meaning(released)  # trained on FER+
