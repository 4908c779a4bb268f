"""The stage table: what each stage reads decides whether it reruns."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import pytest

from capstone.artefacts import sha256_contents
from capstone.params import load
from capstone.paths import ProjectPaths
from capstone.pipeline.cache import stage_inputs
from capstone.pipeline.stages import BY_NAME, NAMES, TABLE, open_stage


def test_every_notebook_is_one_stage_in_the_order_they_run(repo: Path) -> None:
    notebooks = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    # The Results chapter (00) comes first in the book and runs last: it reads records only.
    assert [stage.notebook for stage in TABLE] == [*notebooks[1:], notebooks[0]]
    assert notebooks[0] == "00_results.ipynb" and NAMES[-1] == "results"


def project(repo: Path, root: Path) -> ProjectPaths:
    """A project folder with the notebooks and a released model of its own."""
    shutil.copytree(repo / "notebooks", root / "notebooks")
    (root / "models").mkdir()
    for suffix in (".keras", ".json"):
        (root / "models" / f"fer_cnn{suffix}").write_bytes(b"model v1" + suffix.encode())
    return ProjectPaths(root)


def keys(paths: ProjectPaths, params) -> dict[str, dict]:
    return {name: stage_inputs(paths, params, name, None) for name in NAMES}


def test_a_new_released_model_reruns_evaluation_demo_and_results_only(repo, tmp_path) -> None:
    paths = project(repo, tmp_path)
    params = load(repo / "params/sample.yaml", repo)
    before = keys(paths, params)
    (tmp_path / "models/fer_cnn.keras").write_bytes(b"model v2")  # capstone release
    after = keys(paths, params)
    changed = [name for name in NAMES if after[name] != before[name]]
    assert changed == ["evaluation", "demo", "results"]


def test_the_demos_media_and_call_and_the_extra_test_sets_are_read(repo, tmp_path) -> None:
    paths = project(repo, tmp_path)
    (tmp_path / "media").mkdir()
    (tmp_path / "media/call.png").write_bytes(b"png")
    (tmp_path / "call.yaml").write_text("rep: P1\n")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra/a.jpg").write_bytes(b"jpg")
    params = load(repo / "params/sample.yaml", repo)
    params = dataclasses.replace(
        params,
        demo=dataclasses.replace(params.demo, media=["media/call.png"], call="call.yaml"),
        evaluation=dataclasses.replace(params.evaluation, extra_test_sets=["extra"]),
    )
    demo = stage_inputs(paths, params, "demo", None)["reads"]
    assert demo["media/call.png"] == sha256_contents(tmp_path / "media/call.png")
    assert (
        "call.yaml" in demo and "extra" in stage_inputs(paths, params, "evaluation", None)["reads"]
    )
    for edit in (
        lambda: (tmp_path / "call.yaml").write_text("rep: P2\n"),
        lambda: (tmp_path / "media/call.png").write_bytes(b"another png"),
    ):
        before = stage_inputs(paths, params, "demo", None)
        edit()
        assert stage_inputs(paths, params, "demo", None) != before
    before = stage_inputs(paths, params, "evaluation", None)
    (tmp_path / "extra/b.jpg").write_bytes(b"one more face")  # a folder: its files count
    assert stage_inputs(paths, params, "evaluation", None) != before
    assert BY_NAME["eda"].reads(params, paths) == []


def test_contents_of_a_missing_path_say_so(tmp_path) -> None:
    assert sha256_contents(tmp_path / "nothing") == "missing"
    (tmp_path / "d").mkdir()
    empty = sha256_contents(tmp_path / "d")
    (tmp_path / "d/f").write_text("x")
    assert sha256_contents(tmp_path / "d") != empty


def test_a_stage_opens_with_its_params_paths_and_folder(repo, tmp_path) -> None:
    (tmp_path / "params").mkdir()
    shutil.copy(repo / "params/sample.yaml", tmp_path / "params/sample.yaml")
    stage = open_stage(tmp_path, "params/sample.yaml", "eda")
    assert stage.out == tmp_path / "build/eda" and stage.out.is_dir()
    assert stage.params.profile == "sample" and stage.paths.root == tmp_path
    assert "sample" in stage.banner
    assert logging.getLogger("tensorflow").level == logging.ERROR  # no retracing notes
    with pytest.raises(ValueError, match="no stage called 'training'"):
        open_stage(tmp_path, "params/sample.yaml", "training")
