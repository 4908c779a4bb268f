import json
from pathlib import Path

import pytest

from capstone.errors import CapstoneError
from capstone.modelio import load_model, tta_of


def test_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(CapstoneError, match="model not found"):
        load_model(tmp_path / "nothing.keras")


def test_a_file_that_is_not_a_model_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_text("hello")
    with pytest.raises(CapstoneError, match="not a loadable Keras model"):
        load_model(bad)


def test_tta_comes_from_the_models_record(tmp_path: Path) -> None:
    model = tmp_path / "fer_cnn.keras"
    off = {"tta_flip": False, "tta_shift": 0}
    assert tta_of(model) == off
    (tmp_path / "fer_cnn.json").write_text(json.dumps({"calibration": {"tta_flip": True}}))
    assert tta_of(model) == {"tta_flip": True, "tta_shift": 0}  # a record from before shifts
    record = {"calibration": {"tta_flip": True, "tta_shift": 2}}
    (tmp_path / "fer_cnn.json").write_text(json.dumps(record))
    assert tta_of(model) == {"tta_flip": True, "tta_shift": 2}
    assert tta_of(tmp_path / "other.keras") == off
