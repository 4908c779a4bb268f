"""The stage graph: run the seven notebooks in order with papermill, skip what is up to date, build the book.

A stage is *up to date* when its completion marker (``build/<stage>/.done.json``) records
the same input key and its outputs still have the recorded hashes. The key covers the
stage's slice of the params, its notebook, the package modules it imports, and the marker
of the stage before it, so a change reruns that stage and every stage after it, and
nothing else.
A stage that fails writes no marker; its partly executed notebook is kept under
``build/notebooks/failed/`` for inspection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capstone.artefacts import (
    sha256_file,
    sha256_json,
    write_json,
)
from capstone.errors import StageError
from capstone.params import Params, load
from capstone.paths import ProjectPaths
from capstone.pipeline.book import build_book, fold_parameter_cells
from capstone.pipeline.cache import MARKER, is_current, outputs_of, read_marker, stage_inputs
from capstone.pipeline.stages import BY_NAME, NAMES

log = logging.getLogger(__name__)


@dataclass
class StageResult:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float


def run(
    params_file: str | Path = "params/sample.yaml",
    root: str | Path = ".",
    *,
    force: bool = False,
    from_stage: str | None = None,
    to_stage: str | None = None,
    only: str | None = None,
    book: bool = True,
) -> list[StageResult]:
    """Run every stage that is not up to date, then build the book.

    Parameters
    ----------
    params_file
        The profile, relative to ``root`` or absolute.
    root
        The project folder: ``notebooks/`` and ``book/`` are read from it, ``data/``,
        ``build/`` and ``book/_build/`` are written to it.
    force
        Rerun every stage.
    from_stage
        Rerun this stage and every stage after it.
    to_stage
        Stop after this stage (the book is not built then).
    only
        Run just this stage on the outputs the stages before it left, without checking
        that those are up to date (for development: e.g. re-evaluating after an evaluation
        change without retraining). The book is not built then.
    book
        Build the Jupyter Book afterwards.
    """
    paths = ProjectPaths(root)
    if not paths.notebooks.is_dir():
        raise StageError(
            f"no notebooks/ folder in {paths.root.resolve()}; run from the project folder "
            "or pass --root"
        )
    params_path = Path(params_file)
    params = load(params_path if params_path.is_absolute() else paths.root / params_path, root)
    for option, stage in (("--from", from_stage), ("--to", to_stage), ("--only", only)):
        if stage is not None and stage not in NAMES:
            raise StageError(f"{option} {stage!r}: no such stage; stages are {', '.join(NAMES)}")
    last = NAMES.index(to_stage) if to_stage else len(NAMES) - 1
    rerun_from = 0 if force else NAMES.index(from_stage) if from_stage else len(NAMES)
    with run_lock(paths):
        if only is not None:
            return [_run_only(paths, params, params_path, only)]
        return _run_stages(paths, params, params_path, rerun_from=rerun_from, last=last, book=book)


@contextlib.contextmanager
def run_lock(paths: ProjectPaths) -> Iterator[None]:
    """Hold ``build/.pipeline.lock`` for one pipeline run, so that a second run on the same
    project folder stops at once instead of racing the first. The operating system drops
    the lock when the run ends, however it ends."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    paths.build.mkdir(parents=True, exist_ok=True)
    with (paths.build / ".pipeline.lock").open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StageError(
                f"another pipeline run is using {paths.build} ({holder}); wait for it to "
                "finish, or stop it, then run this again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        yield


def _run_stages(
    paths: ProjectPaths,
    params: Params,
    params_path: Path,
    *,
    rerun_from: int,
    last: int,
    book: bool,
) -> list[StageResult]:
    results, upstream = [], None
    for index, stage in enumerate(NAMES[: last + 1]):
        inputs = stage_inputs(paths, params, stage, upstream)
        key = sha256_json(inputs)
        marker = read_marker(paths, stage)
        label = f"[{index + 1}/{len(NAMES)}] {stage}"
        if index < rerun_from and is_current(paths, marker, key):
            log.info(f"{label}: up to date, skipped")
            results.append(StageResult(stage, "skipped", 0.0))
        else:
            log.info(f"{label}: running notebooks/{BY_NAME[stage].notebook}")
            marker = _run_stage(paths, params_path, stage, key, inputs)
            log.info(f"{label}: done in {marker['seconds']:.0f} s")
            results.append(StageResult(stage, "ran", marker["seconds"]))
        upstream = marker
    if book and last == len(NAMES) - 1:
        build_book(paths, params)
    return results


def _run_only(paths: ProjectPaths, params: Params, params_path: Path, stage: str) -> StageResult:
    index = NAMES.index(stage)
    upstream = None
    if index > 0:
        upstream = read_marker(paths, NAMES[index - 1])
        if upstream is None:
            raise StageError(
                f"--only {stage}: stage {NAMES[index - 1]!r} has not completed in "
                f"{paths.build}; run the pipeline up to it first"
            )
    log.info(f"[{index + 1}/{len(NAMES)}] {stage}: running alone (earlier stages not checked)")
    inputs = stage_inputs(paths, params, stage, upstream)
    marker = _run_stage(paths, params_path, stage, sha256_json(inputs), inputs)
    log.info(f"[{index + 1}/{len(NAMES)}] {stage}: done in {marker['seconds']:.0f} s")
    return StageResult(stage, "ran", marker["seconds"])


def _run_stage(
    paths: ProjectPaths, params_file: Path, stage: str, key: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir = paths.stage(stage)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)  # from here on, the stage counts as not done
    paths.executed.mkdir(parents=True, exist_ok=True)
    final = paths.executed / BY_NAME[stage].notebook
    partial = paths.executed / f".{stage}.part.ipynb"
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(paths.notebooks / BY_NAME[stage].notebook),
            str(partial),
            parameters={"root": ".", "params_file": params_file.as_posix()},
            cwd=str(paths.root),
            kernel_name="python3",
            progress_bar=True,
            stdout_file=sys.stdout,  # what cells print (e.g. Keras' epoch lines) shows live
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        failed = paths.executed / "failed" / BY_NAME[stage].notebook
        failed.parent.mkdir(exist_ok=True)
        partial.replace(failed)
        raise StageError(
            f"stage {stage!r} failed in notebooks/{BY_NAME[stage].notebook}, cell {err.exec_count}:\n"
            f"  {err.ename}: {err.evalue}\n"
            f"  The executed notebook, with the full traceback, is {failed}"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fold_parameter_cells(partial)
    partial.replace(final)
    outputs = {
        p.relative_to(paths.root).as_posix(): sha256_file(p) for p in outputs_of(paths, stage)
    }
    marker = {
        "stage": stage,
        "key": key,
        "inputs": inputs,
        "outputs": outputs,
        "outputs_hash": sha256_json(outputs),
        "seconds": round(time.perf_counter() - start, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(out_dir / MARKER, marker)
    return marker
