"""Annotation jobs: queued by the pages, run by worker processes, never in a page's script.

A worker claims the oldest queued job, annotates the call's media through the library
(:func:`capstone.library.annotate.annotate_library`, so the CLI and the app share one code path
and a worker loads the model once), writes the progress as it goes, and stores the results on
the call. Closing the browser stops nothing. A job whose worker died (the server stopped, the
machine restarted) is queued again by :func:`recover` when the app starts, and the library's
markers let it skip what was already done.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from capstone.app.database import Call, Job, now, open_database, session
from capstone.app.demo import compose
from capstone.app.erasure import sweep_staging
from capstone.app.findings import findings_of
from capstone.app.folders import media_folder, results_folder
from capstone.calls.metadata import as_use
from capstone.calls.request import CallRequest
from capstone.library.annotate import annotate_library
from capstone.paths import released_model

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0  # the shortest time between two progress writes of a job
SWEEP_EVERY_S = 60.0  # how often an idle worker removes the uploads staged but never saved


def claim(engine: Engine, pid: int) -> Job | None:
    """Take the oldest queued job for worker ``pid``, or ``None``: one statement, so two
    workers never take the same job."""
    with session(engine) as s:
        oldest = select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(1)
        taken = s.execute(
            update(Job)
            .where(Job.id == oldest.scalar_subquery(), Job.state == "queued")
            .values(state="running", worker_pid=pid, started_at=now(), message="starting")
            .returning(Job.id)
        ).first()
        return s.get(Job, taken[0]) if taken else None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def recover(engine: Engine) -> int:
    """Queue again the jobs left running by a worker that is gone; returns how many."""
    with session(engine) as s:
        running = s.scalars(select(Job).where(Job.state == "running"))
        stale = [j for j in running if not _alive(j.worker_pid)]
        for job in stale:
            job.state, job.worker_pid = "queued", None
            job.message = "resumed: its worker stopped before it finished"
        return len(stale)


def call_request(call: Call) -> CallRequest:
    """What the annotation of ``call`` is asked: who is who, the use, the reading options."""
    info = call.people.call_info(call.stage_times.starts, call.informed)
    return CallRequest(info, as_use(call.use), call.options)


def run_job(engine: Engine, job_id: int, data: Path, model: Path | None = None) -> None:
    """Annotate the job's call; the job ends ``done`` or ``failed`` with a message in words.
    The results the annotation hands back are stored on the call as they are: no file it
    just wrote is read back."""
    with session(engine) as s:
        job = s.get(Job, job_id)
        call = s.get(Call, job.call_id) if job else None
        if job is None or call is None:
            return
        paths = [media_folder(data, call.id) / name for name in call.media]
        call_id, request = call.id, call_request(call)
    if call.demo and not paths[0].exists():
        _set(engine, job_id, message="composing the demo recording")
        compose(paths[0], call)
    last = [0.0]

    def heard(_name: str, share: float) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S or share >= 1.0:
            last[0] = time.monotonic()
            _set(engine, job_id, progress=share, message=f"annotating: {share:.0%}")

    errors: list[str] = []
    folder = results_folder(data, call_id)
    outcome = annotate_library(
        paths,
        folder,
        request,
        model or released_model(),
        say=lambda _line: None,
        warn=errors.append,
        on_progress=heard,
    )
    if outcome.failed:
        _set(engine, job_id, state="failed", message="; ".join(outcome.failed))
        return
    findings = findings_of(outcome.everything(folder), folder.relative_to(data).as_posix())
    with session(engine) as s:
        stored = s.get(Call, call_id)
        if stored is not None:
            stored.results = findings
    _set(engine, job_id, state="done", progress=1.0, message="done")


def _set(engine: Engine, job_id: int, **values: object) -> None:
    if values.get("state") in ("done", "failed"):
        values["finished_at"] = now()
    with session(engine) as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def run_pending(engine: Engine, data: Path, model: Path | None = None) -> int:
    """Run every queued job here, one after another (the tests, and ``capstone annotate
    --data``); returns how many ran."""
    ran = 0
    while (job := claim(engine, os.getpid())) is not None:
        _guarded(engine, job.id, data, model)
        ran += 1
    return ran


def _guarded(engine: Engine, job_id: int, data: Path, model: Path | None) -> None:
    try:
        run_job(engine, job_id, data, model)
    except Exception as err:
        log.exception("job %s failed", job_id)
        _set(engine, job_id, state="failed", message=f"{type(err).__name__}: {err}")


def work(url: str, data: str, idle_s: float = 0.5, stop: Callable[[], bool] | None = None) -> None:
    """A worker process's loop: claim a job, run it, and again; sleep while there is none."""
    engine = open_database(url)
    swept = 0.0
    while not (stop and stop()):
        job = claim(engine, os.getpid())
        if job is None:
            if time.monotonic() - swept > SWEEP_EVERY_S:  # uploads never saved, past their hour
                sweep_staging(Path(data))
                swept = time.monotonic()
            time.sleep(idle_s)
            continue
        _guarded(engine, job.id, Path(data), None)


def start_workers(url: str, data: Path, n: int) -> list[subprocess.Popen]:
    """Start ``n`` worker processes (``python -m capstone.app.worker``: programs of their own,
    which load the model once each); each stops when the process that started it is gone."""
    # The parent's pid is given, not read in the worker: a parent gone before the worker's
    # imports end would leave it the child of init, waiting for nobody.
    command = [sys.executable, "-m", "capstone.app.worker", url, str(data), str(os.getpid())]
    return [subprocess.Popen(command) for _ in range(n)]


def work_for(url: str, data: str, parent: int, idle_s: float = 0.5) -> None:
    """A worker's life: :func:`work` until the process that started it (``parent``) is gone."""
    work(url, data, idle_s, stop=lambda: os.getppid() != parent)
