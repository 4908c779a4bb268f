from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from capstone.model.architectures import compact_cnn
from capstone.model.onnx_copy import (
    TOLERANCE,
    OnnxModel,
    load_for_reading,
    load_onnx_copy,
    onnx_path,
    probe_crops,
    write_onnx_copy,
)
from capstone.model.released import predict, self_contained
from capstone.paths import released_model

pytest.importorskip("tf2onnx", reason="exporting needs tf2onnx")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    keras.utils.set_random_seed(5)
    path = tmp_path_factory.mktemp("onnx") / "fer_cnn.keras"
    self_contained(compact_cnn(width=4, fused_batch_norm=False), tta_flip=True).save(path)
    write_onnx_copy(path)
    return path


def test_the_copy_reads_faces_as_the_keras_model_does(model_file: Path) -> None:
    copy = load_for_reading(model_file)
    assert isinstance(copy, OnnxModel)
    crops = np.random.default_rng(1).integers(0, 256, (300, 48, 48), dtype=np.uint8)
    keras_model = keras.models.load_model(model_file)
    expected = predict(keras_model, crops)
    np.testing.assert_allclose(predict(copy, crops), expected, atol=TOLERANCE)  # one batch
    np.testing.assert_allclose(copy.predict(crops, batch_size=64), expected, atol=TOLERANCE)
    assert predict(copy, crops[:0]).shape == (0, 7)


def test_a_copy_of_another_version_of_the_model_is_not_used(model_file: Path, tmp_path) -> None:
    other = tmp_path / "fer_cnn.keras"
    keras.utils.set_random_seed(6)
    self_contained(compact_cnn(width=4, fused_batch_norm=False)).save(other)
    shutil.copy(onnx_path(model_file), onnx_path(other))  # stale: made from another file
    assert load_onnx_copy(other) is None
    assert not isinstance(load_for_reading(other), OnnxModel)  # the Keras model, read as is
    onnx_path(other).unlink()
    assert load_onnx_copy(other) is None


def test_a_broken_copy_says_which_file(model_file: Path, tmp_path) -> None:
    from capstone.errors import ModelError

    path = tmp_path / "fer_cnn.keras"
    shutil.copy(model_file, path)
    onnx_path(path).write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"fer_cnn\.onnx: not a readable ONNX model"):
        load_onnx_copy(path)


def test_the_released_model_has_a_current_copy_read_without_tensorflow(tmp_path) -> None:
    path = released_model(Path(__file__).parents[2])
    np.save(tmp_path / "crops.npy", probe_crops())
    code = (
        "import sys, numpy as np; from capstone.model.onnx_copy import load_for_reading; "
        f"m = load_for_reading({str(path)!r}); "
        f"np.save(sys.argv[1], m.predict_on_batch(np.load({str(tmp_path / 'crops.npy')!r}))); "
        "print(type(m).__name__, 'tensorflow' in sys.modules)"
    )
    out = tmp_path / "probs.npy"
    run = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True
    )
    assert run.stdout.split() == ["OnnxModel", "False"]
    expected = predict(keras.models.load_model(path), probe_crops())
    np.testing.assert_allclose(np.load(out), expected, atol=TOLERANCE)
