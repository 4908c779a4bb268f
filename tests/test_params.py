from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from capstone.errors import ParamsError
from capstone.params import load
from capstone.pipeline.stages import BY_NAME
from capstone.pipeline.stages import NAMES as STAGES


def write_profile(tmp_path: Path, repo: Path, edit) -> Path:
    data = yaml.safe_load((repo / "params" / "sample.yaml").read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", ["sample.yaml", "full.yaml"])
def test_shipped_profiles_load(repo: Path, name: str) -> None:
    params = load(repo / "params" / name, repo)
    assert params.seed == 42
    sections = [BY_NAME[s].params_section for s in STAGES]
    assert {s: params.stage(s)["profile"] for s in sections} == dict.fromkeys(
        sections, params.profile
    )


def test_shared_profile_loads(repo: Path, shared_root: Path) -> None:
    params = load(repo / "params" / "shared.yaml", shared_root)
    assert params.download.fer2013.source == params.download.wild.source == "local"


def test_stage_slice_holds_only_that_stage(repo: Path) -> None:
    params = load(repo / "params" / "sample.yaml", repo)
    assert set(params.stage("eda")) == {"profile", "seed", "eda"}


def test_gpu_profile_loads_and_trains_a_wider_network_from_scratch(repo: Path) -> None:
    params = load(repo / "params" / "gpu.yaml", repo, check_files=False)
    baseline = params.run("baseline")
    assert baseline.init_file is None and baseline.init_from is None
    shared = load(repo / "params" / "shared.yaml", repo, check_files=False)
    assert baseline.width > shared.run("baseline").width
    assert all(run.init_from == "baseline" for run in params.merged.runs)


def test_runs_are_found_by_name_across_the_training_stages(repo: Path) -> None:
    params = load(repo / "params" / "full.yaml", repo)
    assert params.run("crowd_light") in params.merged.runs
    assert params.run("baseline") in params.baseline.runs
    with pytest.raises(
        ParamsError, match=r"no run called 'nope'.*runs: crowd_light, seed_cnn, baseline"
    ):
        params.run("nope")


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path, repo: Path) -> None:
    path = write_profile(tmp_path, repo, lambda d: d["baseline"]["runs"][0].update(epoch=3))
    with pytest.raises(ParamsError, match=r"unknown key 'baseline\.runs\[0\]\.epoch'") as err:
        load(path, repo)
    assert str(path) in str(err.value)


def test_nested_unknown_key(tmp_path: Path, repo: Path) -> None:
    path = write_profile(tmp_path, repo, lambda d: d["eda"].update(exampels_per_class=3))
    with pytest.raises(ParamsError, match="did you mean 'examples_per_class'"):
        load(path, repo)


def test_wrong_type_is_named(tmp_path: Path, repo: Path) -> None:
    path = write_profile(
        tmp_path, repo, lambda d: d["baseline"]["runs"][1]["phases"][0].update(epochs="ten")
    )
    with pytest.raises(
        ParamsError, match=r"baseline\.runs\[1\]\.phases\[0\]\.epochs: expected int"
    ):
        load(path, repo)


def test_bool_is_not_an_int(tmp_path: Path, repo: Path) -> None:
    path = write_profile(tmp_path, repo, lambda d: d.update(seed=True))
    with pytest.raises(ParamsError, match="seed: expected int"):
        load(path, repo)


def test_bad_choice_lists_the_choices(tmp_path: Path, repo: Path) -> None:
    path = write_profile(tmp_path, repo, lambda d: d["download"]["fer2013"].update(source="s3"))
    with pytest.raises(ParamsError, match=r"download\.fer2013\.source: expected one of 'sample'"):
        load(path, repo)


def test_missing_required_key(tmp_path: Path, repo: Path) -> None:
    path = write_profile(tmp_path, repo, lambda d: d.pop("seed"))
    with pytest.raises(ParamsError, match="missing required key 'seed'"):
        load(path, repo)


def test_missing_data_file_is_named(tmp_path: Path, repo: Path) -> None:
    def edit(d: dict) -> None:
        d["download"]["fer2013"] = {"source": "local", "path": "nowhere/fer2013.zip"}

    path = write_profile(tmp_path, repo, edit)
    with pytest.raises(ParamsError, match=r"download\.fer2013\.path: file or folder not found"):
        load(path, repo)
    recipe = load(path, repo, check_files=False)  # comparing recipes needs no data
    assert recipe.download.fer2013.path == "nowhere/fer2013.zip"


def test_missing_params_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="params file not found"):
        load(tmp_path / "nope.yaml")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("seed: [1, 2\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load(path)


def test_cli_reports_bad_params_without_traceback(tmp_path: Path, repo: Path, capstone_cli) -> None:
    path = write_profile(tmp_path, repo, lambda d: d["eda"].update(colour="red"))
    proc = capstone_cli("pipeline", "--params", str(path), "--root", str(repo), timeout=60)
    assert proc.returncode == 2
    assert "unknown key 'eda.colour'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cross_field_checks_name_the_section(tmp_path: Path, repo: Path) -> None:
    path = write_profile(
        tmp_path, repo, lambda d: d["download"]["splits"].update(seed_fractions=[0.5, 0.2, 0.1])
    )
    with pytest.raises(
        ParamsError, match=r"download\.splits: seed_fractions must be three numbers"
    ):
        load(path, repo)


@pytest.mark.parametrize("pixels", [-1, 9])
def test_shift_tta_out_of_range_is_refused(tmp_path: Path, repo: Path, pixels: int) -> None:
    path = write_profile(tmp_path, repo, lambda d: d["evaluation"].update(tta_shift=pixels))
    with pytest.raises(
        ParamsError, match=rf"evaluation: tta_shift must be 0 \(off\) to 8 pixels, got {pixels}"
    ):
        load(path, repo)


def test_full_and_shared_profiles_train_the_same_recipe(repo: Path) -> None:
    """The shared profile is the full one with local data: only the download section differs."""
    full, shared = (
        load(repo / "params" / n, repo, check_files=False) for n in ("full.yaml", "shared.yaml")
    )
    for section in ("eda", "baseline", "merged", "evaluation", "demo"):
        assert getattr(full, section) == getattr(shared, section), section
    assert full.download != shared.download and shared.seed == full.seed
    overlay = yaml.safe_load((repo / "params/shared.yaml").read_text())
    assert set(overlay) == {"extends", "profile", "description", "download"}  # the data alone


def test_a_profile_extends_another_section_by_section(tmp_path: Path, repo: Path) -> None:
    base = write_profile(tmp_path, repo, lambda d: None)
    (tmp_path / "mine.yaml").write_text(
        f"extends: {base.name}\nprofile: mine\neda: {{examples_per_class: 5}}\n"
    )
    mine, recipe = load(tmp_path / "mine.yaml", repo), load(base, repo)
    assert (mine.profile, mine.eda.examples_per_class) == ("mine", 5)
    assert mine.baseline == recipe.baseline and mine.download == recipe.download
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n")
    with pytest.raises(ParamsError, match=r"loop\.yaml: extends loop\.yaml, which extends it back"):
        load(loop, repo)
    (tmp_path / "orphan.yaml").write_text("extends: gone.yaml\n")
    with pytest.raises(ParamsError, match=r"params file not found: .*gone\.yaml"):
        load(tmp_path / "orphan.yaml", repo)


def test_a_run_needs_phases_or_a_file_to_adopt(tmp_path: Path, repo: Path) -> None:
    def adopt_nothing(d):
        d["baseline"]["runs"][0]["phases"] = []

    with pytest.raises(ParamsError, match="needs phases to train, or an init_file"):
        load(write_profile(tmp_path, repo, adopt_nothing), repo)

    def missing_file(d):
        d["baseline"]["runs"][0] |= {"phases": [], "init_file": "models/nothing.keras"}

    with pytest.raises(ParamsError, match="init_file: file or folder not found"):
        load(write_profile(tmp_path, repo, missing_file), repo)


def test_unknown_webcam_degradations_and_bad_wild_weights_are_refused(tmp_path, repo) -> None:
    def bad_kind(d):
        d["merged"]["runs"][0]["phases"][0]["degrade"] = ["blur", "fog"]

    with pytest.raises(ParamsError, match=r"degrade\[1\]: expected one of 'blur'"):
        load(write_profile(tmp_path, repo, bad_kind), repo)
    with pytest.raises(ParamsError, match="0 <= wild_weight < 1"):
        load(write_profile(tmp_path, repo, lambda d: d["merged"].update(wild_weight=1.0)), repo)


def test_the_real_profiles_adopt_the_archived_network_and_crop_the_wild_faces(repo: Path) -> None:
    params = load(repo / "params" / "full.yaml", repo)
    baseline = params.run("baseline")
    assert baseline.init_file == "models/archive/fer_cnn_v1.keras" and not baseline.phases
    assert params.download.wild.crop == "mtcnn" and params.download.fer2013.crop == "none"
    assert params.merged.wild_weight > 0


def test_profiles_that_call_the_wild_dataset_affectnet_still_load(tmp_path, repo) -> None:
    def old_names(d):
        dl = d["download"]
        dl["affectnet"] = dl.pop("wild")
        dl["sample"]["affectnet_size"] = dl["sample"].pop("wild_size")
        dl["splits"] = {"affectnet_val": 0.2}

    old = load(write_profile(tmp_path, repo, old_names), repo)
    new = load(repo / "params/sample.yaml", repo)
    assert old.download.wild == new.download.wild and old.download.splits.wild_val == 0.2
    assert old.download.sample == new.download.sample

    def both_names(d):
        d["download"]["affectnet"] = d["download"]["wild"]

    with pytest.raises(ParamsError, match=r"download\.affectnet and download\.wild are the same"):
        load(write_profile(tmp_path, repo, both_names), repo)


def test_the_released_models_profile_still_loads(repo: Path) -> None:
    released = load(repo / "models/fer_cnn.params.yaml", repo, check_files=False)
    shipped = load(repo / "params/shared.yaml", repo, check_files=False)
    assert released.download == shipped.download


def test_the_stored_crop_size_is_the_models_and_says_so(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    profile = yaml.safe_load((repo / "params/sample.yaml").read_text())
    profile["download"]["image_size"] = 64
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(profile))
    with pytest.raises(ParamsError, match=r"download: image_size must be 48.*capstone.labels.SIZE"):
        load(tmp_path / "big.yaml", repo)
