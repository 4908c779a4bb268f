"""Shared fixtures: small data the tests generate themselves, and the optional shared data."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from capstone.params import CLASSES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Property-based tests (tests/test_robustness.py): "ci" is what CI affords, "thorough" ten
# times as many cases (HYPOTHESIS_PROFILE=thorough).
settings.register_profile("ci", max_examples=60)
settings.register_profile("thorough", max_examples=600)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter) -> None:
    """Print how many generated cases each boundary's property tests ran."""
    robustness = sys.modules.get("test_robustness")
    if robustness and robustness.RAN:
        ran = robustness.RAN
        rows = ", ".join(f"{name} {n:,}" for name, n in sorted(ran.items()))
        terminalreporter.write_line(f"property-based cases: {sum(ran.values()):,} ({rows})")


REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def repo() -> Path:
    return REPO


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

    params = with_absolute_data_paths(load(REPO / "params/shared.yaml", REPO), REPO)
    # Cut the in-the-wild faces out with the fast Haar detector: these tests check counts
    # and splits, and MTCNN on all 1,260 images would add minutes to every test run.
    dl = params.download
    wild = dataclasses.replace(dl.wild, crop="haar")
    params = dataclasses.replace(params, download=dataclasses.replace(dl, wild=wild))
    paths = ProjectPaths(tmp_path_factory.mktemp("shared"))
    return prepare.run(params, paths, progress=False), paths


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``, or skip: a user's clone has no shared folder."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the developers' machines have it)")
    return SHARED_DATA


def run_capstone(*args: str, env: dict[str, str] | None = None, timeout: int = 900):
    """Run the ``capstone`` command in a subprocess, as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "capstone.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=timeout,
    )


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
