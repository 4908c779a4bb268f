"""A pipeline run interrupted by Ctrl-C, then killed outright, resumes where it stopped.

It reuses the tiny profile's finished project (the suite's one pipeline run): a copy of it
with its first training stage and those after it undone, so that only that stage trains
again; at the end its trained models' figures are compared with the project's.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import run_pipeline, statuses

pytestmark = pytest.mark.slow


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


def test_killed_runs_resume_from_the_last_completed_stage(tmp_path: Path, tiny_project) -> None:
    project, _ = tiny_project
    root = tmp_path / "project"
    shutil.copytree(project, root, symlinks=True)
    for stage in ("baseline", "merged", "evaluation", "demo", "results"):  # to run again
        (root / "build" / stage / ".done.json").unlink(missing_ok=True)
    made = {name: (project / "build/baseline" / name).read_text() for name in TRAINED}

    interrupted = start_and_kill(root, "baseline", signal.SIGINT)  # Ctrl-C during training
    assert interrupted.returncode != 0
    assert "completed stages are kept" in interrupted.stderr
    assert statuses(interrupted.stdout)["eda"] == "skipped"
    assert not (root / "build/baseline/.done.json").exists()

    killed = start_and_kill(root, "baseline", signal.SIGKILL)  # no chance to clean up
    assert killed.returncode == -signal.SIGKILL
    assert statuses(killed.stdout)["eda"] == "skipped"
    assert not (root / "build/baseline/.done.json").exists()

    # Up to the stage that was killed: the stages after it resume the same way, and the
    # tiny project's uninterrupted run already covers them.
    resumed = run_pipeline(root, "--to", "baseline", "--no-book")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert statuses(resumed.stdout) == {
        **dict.fromkeys(["download", "eda"], "skipped"),
        "baseline": "ran",
    }
    assert not list(root.rglob("*.part*"))

    # Determinism: this interrupted, resumed run and the uninterrupted one used the same
    # profile and seed, in different processes: the same trained models.
    for name in TRAINED:
        assert (root / "build/baseline" / name).read_text() == made[name], name


TRAINED = ("test_metrics.json", "seed_cnn_history.csv", "baseline_history.csv")
