"""Publishing the final model, its model card, and the released model's accuracy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capstone import cli
from capstone.artefacts import read_json, sha256_file, write_json
from capstone.errors import CapstoneError
from capstone.evaluation.scores import classification_metrics
from capstone.model.architectures import compact_cnn
from capstone.model.onnx_copy import load_onnx_copy
from capstone.model.released import self_contained
from capstone.params import load
from capstone.paths import ProjectPaths
from capstone.release import publish
from capstone.release.card import model_card

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, final_record: dict) -> ProjectPaths:
    """A project folder whose evaluation stage left a (tiny) final model and its record."""
    paths = ProjectPaths(tmp_path)
    (tmp_path / "params").mkdir()
    (tmp_path / "params/full.yaml").write_text((REPO / "params/full.yaml").read_text())
    paths.stage("evaluation").mkdir(parents=True)
    final = self_contained(compact_cnn(width=4, fused_batch_norm=False), tta_flip=True)
    final.save(paths.stage("evaluation") / "final.keras")
    write_json(paths.stage("evaluation") / "final.json", final_record)
    return paths


def test_publish_writes_model_params_record_and_card(project: ProjectPaths) -> None:
    params = load(project.root / "params/full.yaml", REPO)  # its init_file is in the repo
    model = publish.publish(project, params, project.root / "models")
    out = model.parent
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "fer_cnn.json",
        "fer_cnn.keras",
        "fer_cnn.onnx",
        "fer_cnn.params.yaml",
    ]
    assert load_onnx_copy(model) is not None  # made from this very file
    card = (out / "README.md").read_text()
    assert "| fer2013 | 70 | 67.9% | 0.500 |" in card
    assert "temperature 1.234" in card
    assert card.index("| as trained |") < card.index("| + class offsets |")
    assert "whose training run did not record its commit" in card
    assert "| wild | 405 | 93.0% | 5.0% | 46.1% | 0.371 |" in card  # through annotate
    assert "continued from `models/archive/fer_cnn_v1.keras`" in card and "88.7 minutes" in card
    assert "enlarged by 0%, not rotated, contrast normalisation none" in card
    assert 'keras.models.load_model("models/fer_cnn.keras").predict(crops, verbose=0)' in card
    saved = read_json(out / "fer_cnn.json")
    assert saved["size_bytes"] == model.stat().st_size
    assert len(saved["model_sha256"]) == 64
    written = out / "fer_cnn.params.yaml"  # the whole profile, loadable as it is
    assert load(written, REPO) == params and saved["params_sha256"] == sha256_file(written)


def test_publish_refuses_the_sample_profile(project: ProjectPaths) -> None:
    params = load(REPO / "params/sample.yaml", REPO)
    with pytest.raises(CapstoneError, match="never released"):
        publish.publish(project, params, project.root / "models")
    assert not (project.root / "models").exists()


def test_publish_without_a_final_model_says_what_to_run(tmp_path: Path) -> None:
    params = load(REPO / "params/full.yaml", REPO)
    with pytest.raises(CapstoneError, match="through the evaluation stage"):
        publish.publish(ProjectPaths(tmp_path), params, tmp_path / "models")


def test_released_model_is_there_with_its_card() -> None:
    model = REPO / "models" / "fer_cnn.keras"
    assert model.is_file(), "models/fer_cnn.keras is missing: run `capstone release`"
    assert model.stat().st_size < 8_000_000
    saved = json.loads((REPO / "models/fer_cnn.json").read_text())
    assert f"{saved['test']['fer2013']['accuracy']:.1%}" in (REPO / "models/README.md").read_text()
    assert (REPO / "models/fer_cnn.params.yaml").is_file()


def test_the_shipped_card_is_what_its_record_writes() -> None:
    """models/README.md is never edited by hand: `capstone release --card-only` writes it."""
    record = json.loads((REPO / "models/fer_cnn.json").read_text())
    assert (REPO / "models/README.md").read_text() == model_card(record), (
        "models/README.md is stale: run `capstone release --card-only`"
    )


def test_card_only_writes_the_card_again_and_nothing_else(tmp_path: Path) -> None:
    shutil.copytree(REPO / "models", tmp_path / "models")
    (tmp_path / "models/README.md").write_text("stale")
    before = {p.name: p.read_bytes() for p in (tmp_path / "models").glob("fer_cnn.*")}
    assert cli.main(["release", "--card-only", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "models/README.md").read_text().startswith("# Model card: `fer_cnn`")
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "models").glob("fer_cnn.*")}
    with pytest.raises(CapstoneError, match="no model record"):
        publish.write_card(tmp_path / "nothing")


def test_release_without_a_profile_says_what_to_give(capsys) -> None:
    assert cli.main(["release"]) == 2
    assert "needs --params PROFILE (or --card-only)" in capsys.readouterr().err


def test_the_shipped_profile_still_trains_the_released_model() -> None:
    """Rerunning ``params/<profile>.yaml`` must rebuild what ``models/`` holds: same recipe."""
    released = load(REPO / "models/fer_cnn.params.yaml", REPO, check_files=False).to_dict()
    shipped_file = REPO / "params" / f"{released['profile']}.yaml"
    shipped = load(shipped_file, REPO, check_files=False).to_dict()
    for section in ("download", "baseline", "merged", "evaluation"):
        assert shipped[section] == released[section], (
            f"params/{released['profile']}.yaml [{section}] differs from the released model's "
            "params: retrain and run `capstone release`, or restore the recipe"
        )


@pytest.mark.slow  # the real data's store, and every test face read
def test_released_model_scores_its_model_card_figure_on_privatetest(shared_project) -> None:
    """Recompute the released model's FER2013 PrivateTest accuracy from the raw Kaggle zip."""
    from capstone.data.splits import load_data
    from capstone.model.released import load_model

    _, paths = shared_project
    saved = json.loads((REPO / "models/fer_cnn.json").read_text())
    x, y = load_data(paths).xy("fer2013", "test")
    assert len(y) == 3589
    model = load_model(REPO / "models/fer_cnn.keras")
    got = classification_metrics(y, model.predict(x, verbose=0))  # the file alone, no flags
    card = saved["test"]["fer2013"]
    assert got["accuracy"] == pytest.approx(card["accuracy"], abs=0.002)
    assert got["macro_f1"] == pytest.approx(card["macro_f1"], abs=0.003)


@pytest.mark.slow
def test_released_model_scores_its_crowd_figures_on_ferplus_privatetest(shared_data) -> None:
    """Recompute the released model's agreement with FER+'s crowd from the raw FER+ zip."""
    from capstone.data import ferplus
    from capstone.labels import CLASSES
    from capstone.metrics import crowd_agreement
    from capstone.model.released import load_model

    saved = json.loads((REPO / "models/fer_cnn.json").read_text())
    card = saved["test"]["ferplus"]["crowd"]
    faces = ferplus.load_faces(shared_data / "ferplus/ferplus.zip")
    test = (faces.crowd.table["usage"] == "PrivateTest").to_numpy()
    clear = test & ferplus.clear_majority(faces.crowd.votes)
    assert clear.sum() == card["n"] == 3349
    probs = load_model(REPO / "models/fer_cnn.keras").predict(faces.x[clear], verbose=0)
    got = crowd_agreement(ferplus.shares(faces.crowd.votes[clear]), probs, CLASSES)
    assert got.majority_accuracy == pytest.approx(card["majority_accuracy"], abs=0.002)
    assert got.cross_entropy == pytest.approx(card["cross_entropy"], abs=0.005)
