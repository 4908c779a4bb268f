"""Smoke runs of the whole pipeline on a tiny synthetic profile, in a temporary project copy.

The first run executes all seven notebooks and builds the book; the later tests check that
unchanged stages are skipped, that a params change reruns exactly the stages from the one
it touches, and that a failing cell is reported with its notebook and cell.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from conftest import REPO, run_pipeline, statuses

from capstone.evaluation import schema
from capstone.pipeline import cache
from capstone.pipeline.runner import run_lock
from capstone.pipeline.stages import NAMES as STAGES
from capstone.release.card import model_card

pytestmark = pytest.mark.slow


def edit_params(project: Path, edit) -> None:
    path = project / "params/tiny.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


@pytest.fixture
def project(tiny_project) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The tiny profile's finished project, shared by every test of the run: read it only."""
    return tiny_project


def copy_of(project, tmp_path: Path) -> Path:
    """A copy of the module's finished project, for a test that changes it: every test then
    starts from the same up-to-date state, whatever ran before it."""
    root, proc = project
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shutil.copytree(root, tmp_path / "project", symlinks=True)
    return tmp_path / "project"


def test_first_run_executes_every_stage_and_builds_the_book(project) -> None:
    root, proc = project
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert statuses(proc.stdout) == dict.fromkeys(STAGES, "ran")
    html = root / "book/_build/html"
    assert (html / "index.html").is_file()
    for page in sorted((html / "notebooks").glob("0[2-6]_*.html")):
        images = re.findall(r'<img[^>]+src="([^"]+)"', page.read_text())
        assert images, f"{page.name} shows no figure"
        for src in images:
            assert (page.parent / src).stat().st_size > 0
    for page in sorted((html / "notebooks").glob("0[1-6]_*.html")):
        text = page.read_text()
        assert "WARNING:tensorflow" not in text, f"{page.name} shows TensorFlow's notes"
        assert "tag_hide-input" in text, f"{page.name} shows its set-up cell"
        assert 'params/sample.yaml"' not in text, f"{page.name} shows the default params"
    metrics = json.loads((root / "build/evaluation/metrics.json").read_text())
    schema.validate(metrics)
    assert {"majority class", "seed_cnn", "final"} <= set(metrics["models"])
    # tiny.yaml downloads FER+ and trains its merged run on the crowd's shares
    assert "cross_entropy" in metrics["models"]["final"]["test_sets"]["ferplus"]["crowd"]
    # The project has no models/ of its own: the book shows the released model's (the package's)
    card_page = (root / "book/_build/html/model_card.html").read_text()
    released = json.loads((REPO / "models/fer_cnn.json").read_text())
    assert released["model_sha256"] in card_page
    assert not list((root / "notebooks").glob("*.part*"))


def test_the_books_first_chapter_shows_the_released_models_results(project, repo) -> None:
    root, proc = project
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = root / "book/_build/html"
    toc = yaml.safe_load((root / "book/_toc.yml").read_text())
    assert toc["parts"][0]["chapters"][0]["file"] == "notebooks/00_results"
    page = (html / "notebooks/00_results.html").read_text()
    record = json.loads((repo / "models/fer_cnn.json").read_text())
    accuracy = record["test"]["ferplus"]["crowd"]["majority_accuracy"]
    assert f"<strong>{accuracy:.1%}</strong> of {record['test']['ferplus']['n']:,} faces" in page
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert len(images) >= 4  # reliability, confusion, per class, against fer
    # the smoke run's chapters are labelled as what they are
    assert "synthetic cartoon faces: a smoke run" in page


def test_the_evaluation_stages_record_makes_a_model_card(project) -> None:
    """finish()'s real output, with what `capstone release` adds, through the card."""
    root, _ = project
    record = json.loads((root / "build/evaluation/final.json").read_text())
    card = model_card(record | {"model_sha256": "ab" * 32, "size_bytes": 4_800_000})
    for name, scores in record["test"].items():
        assert f"| {name} | {scores['n']:,} | {scores['accuracy']:.1%}" in card
    crowd = record["test"]["ferplus"]["crowd"]
    assert f"most-voted class for {crowd['majority_accuracy']:.1%}" in card
    assert f"temperature {record['calibration']['temperature']:.3f}" in card
    assert "$" not in card  # every placeholder filled


def test_sources_are_never_modified(project) -> None:
    root, _ = project
    repo = Path(__file__).resolve().parents[2]
    for nb in (repo / "notebooks").glob("*.ipynb"):
        assert (root / "notebooks" / nb.name).read_bytes() == nb.read_bytes()


def test_second_run_skips_every_stage_and_the_book(project) -> None:
    root, _ = project
    proc = run_pipeline(root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout) == dict.fromkeys(STAGES, "skipped")
    assert "book: up to date" in proc.stdout


def test_one_changed_value_reruns_that_stage_and_the_ones_after(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    edit_params(root, lambda d: d["eda"].update(examples_per_class=2))
    proc = run_pipeline(root, "--to", "baseline")  # the stages after it: as baseline
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout) == {"download": "skipped", "eda": "ran", "baseline": "ran"}


def test_from_reruns_from_that_stage(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    proc = run_pipeline(root, "--from", "results", "--no-book")  # the last, and cheapest
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout) == {**dict.fromkeys(STAGES[:-1], "skipped"), "results": "ran"}


def test_only_runs_just_that_stage(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    proc = run_pipeline(root, "--only", "eda")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "eda: running alone" in proc.stdout
    assert statuses(proc.stdout) == {"eda": "ran"}
    assert "book:" not in proc.stdout


def test_a_second_run_on_the_same_folder_stops_at_once(project, tmp_path) -> None:
    from capstone.paths import ProjectPaths

    root = copy_of(project, tmp_path)
    with run_lock(ProjectPaths(root)):  # as if another run held the folder
        proc = run_pipeline(root)
    assert proc.returncode == 2
    assert f"another pipeline run is using {root / 'build'} (pid {os.getpid()}" in proc.stderr
    assert "Traceback" not in proc.stderr
    after = run_pipeline(root, "--to", "download")  # once it is done, the next run goes ahead
    assert after.returncode == 0, after.stderr[-3000:]


def test_corrupted_artefact_is_detected_and_rebuilt(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    summary = root / "build/eda/summary.json"  # the cheapest stage to rebuild: eda
    summary.write_text("{}")
    proc = run_pipeline(root, "--to", "eda")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout) == {"download": "skipped", "eda": "ran"}
    assert json.loads(summary.read_text())


def test_a_failing_cell_is_reported_and_leaves_no_marker(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    edit_params(root, lambda d: d["demo"].update(model="no_such_model"))
    proc = run_pipeline(root, "--no-book")
    assert proc.returncode == 2
    assert "stage 'demo' failed in notebooks/06_demo.ipynb, cell" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "build/demo/.done.json").exists()
    assert (root / "build/notebooks/failed/06_demo.ipynb").is_file()


def notebook(path, *cells: str):
    cells_json = [{"cell_type": "code", "source": c, "metadata": {}} for c in cells]
    path.write_text(json.dumps({"cells": cells_json}))
    return path


def test_capstone_imports_are_found_in_any_form() -> None:
    source = (
        "%matplotlib inline\nimport numpy\nfrom capstone import params, plots\n"
        "import capstone.data.splits\ndef f():\n    from capstone.model.training import train\n"
    )
    assert cache._capstone_imports(source) == {
        "capstone",
        "capstone.params",
        "capstone.plots",
        "capstone.data.splits",
        "capstone.model.training",
        "capstone.model.training.train",
    }


def test_code_hash_follows_the_modules_a_notebook_uses(tmp_path) -> None:
    a = notebook(tmp_path / "a.ipynb", "from capstone.params import load", "x = 1")
    b = notebook(tmp_path / "b.ipynb", "from capstone import params\ny = 2")
    c = notebook(tmp_path / "c.ipynb", "from capstone.model.training import train")
    assert cache.code_hash(a) == cache.code_hash(b)  # same modules, other code
    assert cache.code_hash(a) != cache.code_hash(c)  # training pulls in more modules


def test_book_pages_show_their_figures_in_a_browser(project, browser_page) -> None:
    """Open every built page in headless Chromium: images really load, internal links resolve."""
    root, _ = project
    html = root / "book/_build/html"
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 10
    images_seen = 0
    page = browser_page
    for path in pages:
        page.goto(path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])"
        )
        broken = [src for src, done, width in images if not done or width == 0]
        assert not broken, f"{path.name}: images not displayed: {broken}"
        images_seen += len(images)
        links = page.evaluate("Array.from(document.links).map(a => a.href)")
        for href in links:
            if href.startswith("file://"):
                target = Path(unquote(urlparse(href).path))
                assert target.exists(), f"{path.name}: broken link {href}"
    assert images_seen >= 10
