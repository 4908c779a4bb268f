"""Shared fixtures: small data the tests generate themselves, and the optional shared data."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from capstone.labels import CLASSES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Property-based tests (tests/test_robustness.py): "ci" is what CI affords, "thorough" ten
# times as many cases (HYPOTHESIS_PROFILE=thorough).
settings.register_profile("ci", max_examples=60)
settings.register_profile("thorough", max_examples=600)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


#: Fixtures that read ``../shared/data``: a test that asks for one is marked ``shared``.
SHARED_FIXTURES = {"shared_data", "shared_root", "shared_project"}


#: Importing streamlit (the app's tests) sets MPLBACKEND=Agg for the whole process; the
#: notebooks' kernels that the pipeline tests start would inherit it and show no figure.
_MPLBACKEND = os.environ.get("MPLBACKEND")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Undo what importing streamlit did to the environment (see :data:`_MPLBACKEND`)."""
    if _MPLBACKEND is None:
        os.environ.pop("MPLBACKEND", None)
    else:
        os.environ["MPLBACKEND"] = _MPLBACKEND


#: The test runner's own ``__main__``. Streamlit's AppTest runs a page as ``__main__`` and
#: leaves it there (also from a module-scoped fixture, before any test's own fixtures), and a
#: process started later by ``spawn`` (a Dask worker) would run that page instead.
_MAIN = sys.modules["__main__"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    sys.modules["__main__"] = _MAIN


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    sys.modules["__main__"] = _MAIN


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that need the shared data, and run the slow files first: under
    pytest-xdist (``-n``, ``--dist loadfile``) they then start at once on one worker while the
    other workers take the rest. ``slow(last=True)`` files start after the other slow ones
    (one that waits for another's result then waits less)."""
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker("shared")

    def order(item: pytest.Item) -> tuple[bool, bool]:
        slow = item.get_closest_marker("slow")
        return slow is None, bool(slow and slow.kwargs.get("last"))

    items.sort(key=order)


def _property_cases() -> dict[str, int]:
    robustness = sys.modules.get("test_robustness")
    return dict(robustness.RAN) if robustness else {}


#: Property-based cases counted by the pytest-xdist workers, as they finish.
WORKER_CASES: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: tell the controller
        session.config.workeroutput["property_cases"] = _property_cases()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    for name, n in getattr(node, "workeroutput", {}).get("property_cases", {}).items():
        WORKER_CASES[name] = WORKER_CASES.get(name, 0) + n


def pytest_terminal_summary(terminalreporter) -> None:
    """Print how many generated cases each boundary's property tests ran."""
    ran = _property_cases() or WORKER_CASES
    if ran:
        rows = ", ".join(f"{name} {n:,}" for name, n in sorted(ran.items()))
        terminalreporter.write_line(f"property-based cases: {sum(ran.values()):,} ({rows})")


REPO = Path(__file__).resolve().parents[1]
#: A project folder with ``../shared`` beside it, against which the shared profile's paths
#: resolve: this one, or the checkout named by ``CAPSTONE_SHARED_ROOT``, which
#: ``nox -s tests`` sets when it runs the suite in a copy with nothing beside it. Only the
#: fixtures below read it: every other test sees what a user's clone has.
SHARED_ROOT = Path(os.environ.get("CAPSTONE_SHARED_ROOT") or REPO).resolve()
SHARED_DATA = SHARED_ROOT.parent / "shared" / "data"


@pytest.fixture
def repo() -> Path:
    return REPO


def once_per_run(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]
) -> tuple[Path, Any]:
    """A folder called ``name`` and ``build(folder)``'s result (JSON), made once per test run.

    Under pytest-xdist the workers of one run share the folder: the first to ask builds it
    while the others wait for it, then read the result back.
    """
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder, result = base / name, base / f"{name}.json"
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not result.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed before
            folder.mkdir()
            result.write_text(json.dumps(build(folder)))
    return folder, json.loads(result.read_text())


@pytest.fixture(scope="session")
def shared_project(tmp_path_factory: pytest.TempPathFactory):
    """The download stage of ``params/shared.yaml`` run once into a temporary project folder.

    Returns ``(quality, paths)``: the stage's ``quality.json`` and the folder's ProjectPaths.
    Skips where ``../shared`` is absent.
    """
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the developers' machines have it)")
    from capstone.data import prepare
    from capstone.params import load, with_absolute_data_paths
    from capstone.paths import ProjectPaths

    shared = load(REPO / "params/shared.yaml", SHARED_ROOT)
    params = with_absolute_data_paths(shared, SHARED_ROOT)
    # Keep the in-the-wild frames whole (no face detection): these tests check counts and
    # splits, and finding the faces in all 1,260 frames would add minutes to every test run.
    dl = params.download
    wild = dataclasses.replace(dl.wild, crop="none")
    params = dataclasses.replace(params, download=dataclasses.replace(dl, wild=wild))
    folder, quality = once_per_run(
        tmp_path_factory,
        "shared",
        lambda folder: prepare.run(params, ProjectPaths(folder), progress=False),
    )
    return quality, ProjectPaths(folder)


@pytest.fixture
def browser_page():
    """A headless Chromium page driven by Playwright, or skip with how to get a browser.

    ``CHROMIUM`` names the browser to use (any Chromium or Google Chrome); else ``chromium``
    or ``chromium-browser`` on the PATH, which ``nox -s tests`` installs from Debian's
    packages where it runs as root.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.skip(
            "no Chromium for the browser tests: install it (Debian/Ubuntu: sudo apt-get install "
            "chromium; macOS: brew install --cask chromium) or set CHROMIUM=/path/to/chrome"
        )
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=found, args=["--no-sandbox", "--disable-gpu"])
        yield launched.new_page()
        launched.close()


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``, or skip: a user's clone has no shared folder."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the developers' machines have it)")
    return SHARED_DATA


@pytest.fixture
def shared_root(shared_data: Path) -> Path:
    """The project folder that the shared profile's relative paths start from."""
    return SHARED_ROOT


def run_capstone(
    *args: str, env: dict[str, str] | None = None, timeout: int = 900, cwd: Path | None = None
):
    """Run the ``capstone`` command in a subprocess, as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "capstone.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=timeout,
        cwd=cwd,
    )


def run_pipeline(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``capstone pipeline`` on the tiny profile in the project folder ``project``."""
    return run_capstone("pipeline", "--root", str(project), "--params", "params/tiny.yaml", *args)


def statuses(stdout: str) -> dict[str, str]:
    """Each stage a pipeline run printed, and whether it ``ran`` or was ``skipped``."""
    found = re.findall(r"\] (\w+): (up to date|running)", stdout)
    return {stage: "ran" if what == "running" else "skipped" for stage, what in found}


def new_project(root: Path) -> Path:
    """A project folder at ``root`` with the notebooks, the book and the tiny profile."""
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    (root / "params").mkdir()
    shutil.copy(REPO / "tests/fixtures/tiny.yaml", root / "params/tiny.yaml")
    return root


@pytest.fixture(scope="session")
def tiny_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A project where the whole pipeline ran once on the tiny profile, and that run.

    Made once per test run, for the tests that only read its results; a test that changes
    the project works on a copy of it.
    """

    def build(root: Path) -> dict[str, Any]:
        proc = run_pipeline(new_project(root))
        return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}

    root, run = once_per_run(tmp_path_factory, "tiny", build)
    return root, subprocess.CompletedProcess(["capstone", "pipeline"], **run)


@pytest.fixture
def capstone_cli():
    """The function :func:`run_capstone`."""
    return run_capstone


def _metrics(acc: float) -> dict:
    per_class = {c: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 10} for c in CLASSES}
    return {"n": 70, "accuracy": acc, "macro_f1": 0.5, "per_class": per_class, "confusion": []}


@pytest.fixture
def final_record() -> dict:
    """A ``final.json`` record as the evaluation stage writes it (figures made up)."""
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
        "test": {"fer2013": _metrics(0.6789), "wild": _metrics(0.4321)},
        "annotate": {
            "wild": {
                "n": 405,
                "face_found": 0.93,
                "uncertain": 0.05,
                "accuracy": 0.4612,
                "macro_f1": 0.3712,
            }
        },
        "crop": {
            "function": "capstone.faces.crop.crop_face",
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
