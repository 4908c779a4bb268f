"""Publishing the final model, its model card, and the released model's accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capstone import release
from capstone.artefacts import read_json, sha256_file, write_json
from capstone.errors import CapstoneError
from capstone.evaluation import classification_metrics
from capstone.models import compact_cnn
from capstone.params import CLASSES, load
from capstone.paths import ProjectPaths

REPO = Path(__file__).resolve().parents[1]


def metrics(acc: float) -> dict:
    per_class = {c: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 10} for c in CLASSES}
    return {"n": 70, "accuracy": acc, "macro_f1": 0.5, "per_class": per_class, "confusion": []}


def record() -> dict:
    step = {"accuracy": 0.6, "macro_f1": 0.55, "ece": 0.05}
    return {
        "name": "fer_cnn",
        "source_model": "two_stage",
        "source_stage": "merged",
        "architecture": "compact_cnn",
        "width": 4,
        "parameters": 1234,
        "classes": list(CLASSES),
        "input": "48x48 grayscale",
        "calibration": {
            "tta_flip": True,
            "temperature": 1.234,
            "class_offsets": [0.0] * 7,
            "uncertain_below": 0.55,
            "shown_share": 0.61,
            "validation": {"class_offsets": step, "temperature": step, "trained": step},
        },
        "test": {"fer2013": metrics(0.6789), "affectnet": metrics(0.4321)},
        "annotate": {
            "affectnet": {
                "n": 405,
                "face_found": 0.93,
                "uncertain": 0.05,
                "accuracy": 0.4612,
                "macro_f1": 0.3712,
            }
        },
        "crop": {
            "function": "capstone.faces.crop_face",
            "size": 48,
            "margin": 0.0,
            "align": False,
            "contrast": "none",
            "detector_pad": 0.75,
        },
        "starts_from": {
            "file": "models/archive/fer_cnn_v1.keras",
            "sha256": "dd" * 32,
            "training_seconds": 5319.5,
            "profile": "shared",
        },
        "training_seconds": 600.0,
        "profile": "shared",
        "params_file": "params/shared.yaml",
        "params_sha256": "ab" * 32,
        "data": "fer2013 from local",
        "commit": "abc1234",
    }


@pytest.fixture
def project(tmp_path: Path) -> ProjectPaths:
    """A project folder whose evaluation stage left a (tiny) final model and its record."""
    paths = ProjectPaths(tmp_path)
    (tmp_path / "params").mkdir()
    (tmp_path / "params/full.yaml").write_text((REPO / "params/full.yaml").read_text())
    paths.stage("evaluation").mkdir(parents=True)
    compact_cnn(width=4).save(paths.stage("evaluation") / "final.keras")
    write_json(paths.stage("evaluation") / "final.json", record())
    return paths


def test_publish_writes_model_params_record_and_card(project: ProjectPaths) -> None:
    params = load(project.root / "params/full.yaml", REPO)  # its init_file is in the repo
    model = release.publish(project, params, project.root / "models")
    out = model.parent
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "fer_cnn.json",
        "fer_cnn.keras",
        "fer_cnn.params.yaml",
    ]
    card = (out / "README.md").read_text()
    assert "| fer2013 | 70 | 67.9% | 0.500 |" in card
    assert "temperature 1.234" in card
    assert card.index("| as trained |") < card.index("| + class offsets |")
    assert "whose training run did not record its commit" in card
    assert "| affectnet | 405 | 93.0% | 5.0% | 46.1% | 0.371 |" in card  # through annotate
    assert "continued from `models/archive/fer_cnn_v1.keras`" in card and "88.7 minutes" in card
    assert "enlarged by 0%, not rotated, contrast normalisation none" in card
    assert 'keras.models.load_model("models/fer_cnn.keras").predict(crops)' in card
    saved = read_json(out / "fer_cnn.json")
    assert saved["size_bytes"] == model.stat().st_size
    assert len(saved["model_sha256"]) == 64
    written = out / "fer_cnn.params.yaml"  # the whole profile, loadable as it is
    assert load(written, REPO) == params and saved["params_sha256"] == sha256_file(written)


def test_card_says_which_finishing_steps_were_dropped_and_where_training_ran() -> None:
    rec = record()
    rec |= {"size_bytes": 1000, "model_sha256": "cd" * 32, "training_commit": "f00d123"}
    step = rec["calibration"]["validation"]["trained"]
    rec["calibration"] |= {
        "head_refit": {"kept": True, "c": 1.0, "seconds": 12.0},
        "class_offsets_heldout": {"kept": False, "f1_without": 0.648, "f1_with": 0.637},
        "validation": {**rec["calibration"]["validation"], "head_refit": step},
    }
    card = release.model_card(rec)
    assert "trained at code commit `f00d123`" in card
    assert "learned from FER2013 alone" not in card  # the record's pick is a merged run
    assert "learned from FER2013 alone" in release.model_card(rec | {"source_stage": "baseline"})
    assert "Last layer: refitted on the clean training images" in card
    rec["calibration"]["head_refit"]["kept"] = False
    assert "refit on the training images was tried" in release.model_card(rec)
    assert "no class offsets" in card and "from 0.648 to 0.637" in card
    assert "| + class offsets (not kept) |" in card
    assert card.index("| as trained |") < card.index("| + head refitted on clean training")
    assert "Test-time augmentation: predictions average in the mirror image (" in card
    rec["calibration"] |= {"tta_flip": False, "tta_shift": 2}
    assert "average in copies shifted 2 pixels up, down" in release.model_card(rec)


def test_card_gives_the_intervals_where_the_record_has_them() -> None:
    rec = record() | {"size_bytes": 1000, "model_sha256": "cd" * 32}
    assert "In brackets" not in release.model_card(rec)  # as records released before intervals
    for m in rec["test"].values():
        m |= {"accuracy_95ci": [0.6684, 0.6974], "macro_f1_95ci": [0.6299, 0.6729]}
    card = release.model_card(rec)
    assert "% (66.8-69.7%) | 0." in card and " (0.630-0.673) |" in card
    assert "In brackets: 95% bootstrap intervals" in card


def test_publish_refuses_the_sample_profile(project: ProjectPaths) -> None:
    params = load(REPO / "params/sample.yaml", REPO)
    with pytest.raises(CapstoneError, match="never released"):
        release.publish(project, params, project.root / "models")
    assert not (project.root / "models").exists()


def test_publish_without_a_final_model_says_what_to_run(tmp_path: Path) -> None:
    params = load(REPO / "params/full.yaml", REPO)
    with pytest.raises(CapstoneError, match="through the evaluation stage"):
        release.publish(ProjectPaths(tmp_path), params, tmp_path / "models")


def test_released_model_is_there_with_its_card() -> None:
    model = REPO / "models" / "fer_cnn.keras"
    assert model.is_file(), "models/fer_cnn.keras is missing: run `capstone release`"
    assert model.stat().st_size < 8_000_000
    saved = json.loads((REPO / "models/fer_cnn.json").read_text())
    assert f"{saved['test']['fer2013']['accuracy']:.1%}" in (REPO / "models/README.md").read_text()
    assert (REPO / "models/fer_cnn.params.yaml").is_file()


def test_the_shipped_profile_still_trains_the_released_model() -> None:
    """Rerunning ``params/<profile>.yaml`` must rebuild what ``models/`` holds: same recipe."""
    released = load(REPO / "models/fer_cnn.params.yaml", REPO).to_dict()
    shipped = load(REPO / "params" / f"{released['profile']}.yaml", REPO).to_dict()
    for section in ("download", "baseline", "merged", "evaluation"):
        assert shipped[section] == released[section], (
            f"params/{released['profile']}.yaml [{section}] differs from the released model's "
            "params: retrain and run `capstone release`, or restore the recipe"
        )


def test_released_model_scores_its_model_card_figure_on_privatetest(shared_project) -> None:
    """Recompute the released model's FER2013 PrivateTest accuracy from the raw Kaggle zip."""
    from capstone.data.splits import load_data
    from capstone.inference import load_model

    _, paths = shared_project
    saved = json.loads((REPO / "models/fer_cnn.json").read_text())
    x, y = load_data(paths).xy("fer2013", "test")
    assert len(y) == 3589
    model = load_model(REPO / "models/fer_cnn.keras")
    got = classification_metrics(y, model.predict(x, verbose=0))  # the file alone, no flags
    card = saved["test"]["fer2013"]
    assert got["accuracy"] == pytest.approx(card["accuracy"], abs=0.002)
    assert got["macro_f1"] == pytest.approx(card["macro_f1"], abs=0.003)
