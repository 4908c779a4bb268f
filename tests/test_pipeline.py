"""Smoke runs of the whole pipeline on a tiny synthetic profile, in a temporary project copy.

The first run executes all six notebooks and builds the book; the later tests check that
unchanged stages are skipped, that a params change reruns exactly the stages from the one
it touches, and that a failing cell is reported with its notebook and cell.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from conftest import run_capstone

from capstone import metrics_schema, pipeline
from capstone.stages import NAMES as STAGES

pytestmark = pytest.mark.slow


def run_pipeline(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_capstone("pipeline", "--root", str(project), "--params", "params/tiny.yaml", *args)


def statuses(stdout: str) -> dict[str, str]:
    found = re.findall(r"\] (\w+): (up to date|running)", stdout)
    return {stage: "ran" if what == "running" else "skipped" for stage, what in found}


def edit_params(project: Path, edit) -> None:
    path = project / "params/tiny.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    repo = Path(__file__).resolve().parents[1]
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(repo / "notebooks", root / "notebooks")
    shutil.copytree(repo / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    (root / "params").mkdir()
    shutil.copy(repo / "tests/fixtures/tiny.yaml", root / "params/tiny.yaml")
    return root, run_pipeline(root)


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
    metrics = json.loads((root / "build/evaluation/metrics.json").read_text())
    metrics_schema.validate(metrics)
    assert {"majority class", "seed_cnn", "final"} <= set(metrics["models"])
    assert (root / "book/_build/html/model_card.html").is_file()
    assert not list((root / "notebooks").glob("*.part*"))


def test_sources_are_never_modified(project) -> None:
    root, _ = project
    repo = Path(__file__).resolve().parents[1]
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
    edit_params(root, lambda d: d["evaluation"].update(batch_size=64))
    proc = run_pipeline(root, "--no-book")
    assert proc.returncode == 0, proc.stderr[-3000:]
    at = STAGES.index("evaluation")
    assert statuses(proc.stdout) == {
        **dict.fromkeys(STAGES[:at], "skipped"),
        **dict.fromkeys(STAGES[at:], "ran"),
    }


def test_from_reruns_from_that_stage(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    proc = run_pipeline(root, "--from", "demo", "--no-book")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout) == {**dict.fromkeys(STAGES[:-1], "skipped"), "demo": "ran"}


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
    with pipeline.run_lock(ProjectPaths(root)):  # as if another run held the folder
        proc = run_pipeline(root)
    assert proc.returncode == 2
    assert f"another pipeline run is using {root / 'build'} (pid {os.getpid()}" in proc.stderr
    assert "Traceback" not in proc.stderr
    after = run_pipeline(root, "--to", "download")  # once it is done, the next run goes ahead
    assert after.returncode == 0, after.stderr[-3000:]


def test_corrupted_artefact_is_detected_and_rebuilt(project, tmp_path) -> None:
    root = copy_of(project, tmp_path)
    metrics = root / "build/evaluation/metrics.json"
    metrics.write_text("{}")
    proc = run_pipeline(root, "--no-book")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert statuses(proc.stdout)["evaluation"] == "ran"
    assert "models" in metrics.read_text()


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
        "import capstone.data.splits\ndef f():\n    from capstone.training import train\n"
    )
    assert pipeline._capstone_imports(source) == {
        "capstone",
        "capstone.params",
        "capstone.plots",
        "capstone.data.splits",
        "capstone.training",
        "capstone.training.train",
    }


def test_code_hash_follows_the_modules_a_notebook_uses(tmp_path) -> None:
    a = notebook(tmp_path / "a.ipynb", "from capstone.params import load", "x = 1")
    b = notebook(tmp_path / "b.ipynb", "from capstone import params\ny = 2")
    c = notebook(tmp_path / "c.ipynb", "from capstone.training import train")
    assert pipeline.code_hash(a) == pipeline.code_hash(b)  # same modules, other code
    assert pipeline.code_hash(a) != pipeline.code_hash(c)  # training pulls in more modules


def test_book_pages_show_their_figures_in_a_browser(project) -> None:
    """Open every built page in headless Chromium: images really load, internal links resolve."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (nox -s tests installs it where it can)")
    root, _ = project
    html = root / "book/_build/html"
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= 10
    images_seen = 0
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
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
        browser.close()
    assert images_seen >= 10


def start_and_kill(root: Path, stage: str, sig: int) -> subprocess.CompletedProcess[str]:
    """Start the pipeline, wait until ``stage`` is running its notebook, then send ``sig``.

    The kill comes when the stage starts training a model, or at the latest 6 seconds after
    the stage started. SIGINT is repeated every 3 seconds until the run stops, as a user
    would press Ctrl-C again.
    """
    command = [sys.executable, "-m", "capstone.cli", "pipeline", "--root", str(root)]
    proc = subprocess.Popen(
        [*command, "--params", "params/tiny.yaml", "--no-book"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    seen, started_at = [], None
    while proc.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            line = ""
        seen.append(line)
        if started_at is None and f"{stage}: running" in line:
            started_at = time.monotonic()
        if started_at and (": phase 1/" in line or time.monotonic() - started_at > 6):
            break
    assert proc.poll() is None, f"the run ended before {stage} could be interrupted"
    for _ in range(5):
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=3)
            break
        except subprocess.TimeoutExpired:
            continue
    _, err = proc.communicate(timeout=120)
    time.sleep(0.5)
    while not lines.empty():
        seen.append(lines.get())
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(seen), err)


def without_speed(metrics: dict) -> dict:
    """``metrics.json`` without the timing figures, which vary from run to run."""
    for entry in metrics["models"].values():
        entry.pop("speed", None)
        (entry.get("calibration", {}).get("head_refit") or {}).pop("seconds", None)
    return metrics


def test_killed_runs_resume_from_the_last_completed_stage(tmp_path: Path, project) -> None:
    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "project"
    shutil.copytree(repo / "notebooks", root / "notebooks")
    shutil.copytree(repo / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    (root / "params").mkdir()
    shutil.copy(repo / "tests/fixtures/tiny.yaml", root / "params/tiny.yaml")

    interrupted = start_and_kill(root, "baseline", signal.SIGINT)  # Ctrl-C during training
    assert interrupted.returncode != 0
    assert "completed stages are kept" in interrupted.stderr
    assert (root / "build/eda/.done.json").is_file()
    assert not (root / "build/baseline/.done.json").exists()

    killed = start_and_kill(root, "merged", signal.SIGKILL)  # no chance to clean up
    assert killed.returncode == -signal.SIGKILL
    assert statuses(killed.stdout)["eda"] == "skipped"
    assert (root / "build/baseline/.done.json").is_file()
    assert not (root / "build/merged/.done.json").exists()

    resumed = run_pipeline(root, "--no-book")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert statuses(resumed.stdout) == {
        **dict.fromkeys(["download", "eda", "baseline"], "skipped"),
        **dict.fromkeys(["merged", "evaluation", "demo"], "ran"),
    }
    assert not list(root.rglob("*.part*"))

    # Determinism: this interrupted, resumed run and the module's uninterrupted one used the
    # same profile and seed, in different processes and folders: identical metrics.
    first = json.loads((project[0] / "build/evaluation/metrics.json").read_text())
    again = json.loads((root / "build/evaluation/metrics.json").read_text())
    assert without_speed(again) == without_speed(first)
