"""Annotation jobs: queued by the pages, run by workers, never in a page's script.

A worker (a process of this machine, or a task on a Dask cluster: :mod:`capstone.app.cluster`)
claims the oldest queued job, annotates the call's media through the library
(:func:`capstone.library.annotate.annotate_library`, so the CLI and the app share one code path
and a worker loads the model once), writes the progress as it goes, and stores the results on
the call. Closing the browser stops nothing.

A claim is one statement (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``), so two workers never
take the same job. The worker holds a **lease** on its job, renewed every
:data:`HEARTBEAT_S` while it runs; a job whose lease lapsed (its worker died, on whatever
machine) is queued again by :func:`recover`, and the library's markers let it skip what was
already done. A worker stores its results only while the job is still its own, so a job never
runs twice to completion. A worker asked to stop (TERM) queues its job again before it goes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session

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
SWEEP_EVERY_S = 60.0  # how often an idle worker looks for lapsed leases and stale uploads
HEARTBEAT_S = 10.0  # how often a running job's worker renews its lease
LEASE_S = 60.0  # a running job not renewed for this long is queued again


class Stopped(BaseException):  # not an Exception: no "except Exception" may swallow it
    """The worker was asked to stop (TERM): its job goes back to the queue."""


def worker_name(task: str | None = None) -> str:
    """How a job names its worker: ``host:pid`` of this process, and a Dask task's key."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}:{task}" if task else name


def claim(engine: Engine, worker: str) -> Job | None:
    """Take the oldest queued job for ``worker``, or ``None``: one statement, the row locked
    and others' locked rows skipped on PostgreSQL, so two workers never take the same job."""
    with session(engine) as s:
        oldest = (
            select(Job.id)
            .where(Job.state == "queued")
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        taken = s.execute(
            update(Job)
            .where(Job.id == oldest.scalar_subquery(), Job.state == "queued")
            .values(
                state="running",
                worker=worker,
                progress=0.0,
                started_at=now(),
                heartbeat_at=now(),
                message="starting",
            )
            .returning(Job.id)
        ).first()
        return s.get(Job, taken[0]) if taken else None


def _gone_here(worker: str | None) -> bool:
    """Whether ``worker`` was a process of this machine that no longer runs."""
    host, _, rest = (worker or "").partition(":")
    pid = rest.split(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def recover(engine: Engine, lease_s: float = LEASE_S) -> int:
    """Queue again the running jobs whose lease lapsed ``lease_s`` ago, and at once those of
    a process of this machine that is gone; returns how many."""
    lapsed = now() - dt.timedelta(seconds=lease_s)
    with session(engine) as s:
        running = list(
            s.execute(select(Job.id, Job.worker, Job.heartbeat_at).where(Job.state == "running"))
        )
        stale = [
            (job_id, worker)
            for job_id, worker, beat in running
            if beat is None or beat < lapsed or _gone_here(worker)
        ]
        for job_id, worker in stale:  # unless its worker renewed it meanwhile
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == worker, Job.state == "running")
                .values(
                    state="queued",
                    worker=None,
                    heartbeat_at=None,
                    message="resumed: its worker stopped before it finished",
                )
            )
    return len(stale)


class Lease:
    """While a job runs: its lease renewed every :data:`HEARTBEAT_S` from a thread of its
    own (annotation holds the main thread for minutes); ``lost`` once another has it."""

    def __init__(self, engine: Engine, job_id: int, worker: str) -> None:
        self.engine, self.job_id, self.worker = engine, job_id, worker
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._done.wait(HEARTBEAT_S):
            try:
                self.lost |= not _set(self.engine, self.job_id, self.worker)
            except Exception:  # a database that hiccups: try again at the next beat
                log.warning("could not renew the lease of job %s", self.job_id, exc_info=True)


def call_request(call: Call) -> CallRequest:
    """What the annotation of ``call`` is asked: who is who, the use, the reading options."""
    info = call.people.call_info(call.stage_times.starts, call.informed)
    return CallRequest(info, as_use(call.use), call.options)


def run_job(
    engine: Engine, job_id: int, data: Path, model: Path | None = None, worker: str | None = None
) -> None:
    """Annotate the job's call as ``worker`` (which claimed it); the job ends ``done`` or
    ``failed`` with a message in words. The results the annotation hands back are stored on
    the call as they are (no file it just wrote is read back), and only while the job is still
    this worker's."""
    worker = worker or worker_name()
    with session(engine) as s:
        job = s.get(Job, job_id)
        call = s.get(Call, job.call_id) if job else None
        if job is None or call is None:
            return
        paths = [media_folder(data, call.id) / name for name in call.media]
        call_id, request = call.id, call_request(call)
    if not _set(engine, job_id, worker, message="starting"):
        return  # queued again meanwhile (a task run twice, a lease lapsed): someone else's
    with Lease(engine, job_id, worker) as lease:
        if call.demo and not paths[0].exists():
            _set(engine, job_id, worker, message="composing the demo recording")
            compose(paths[0], call)
        last = [0.0]

        def heard(_name: str, share: float) -> None:
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S or share >= 1.0:
                last[0] = time.monotonic()
                _set(engine, job_id, worker, progress=share, message=f"annotating: {share:.0%}")

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
        _set(engine, job_id, worker, state="failed", message="; ".join(outcome.failed))
        return
    findings = findings_of(outcome.everything(folder), folder.relative_to(data).as_posix())
    with session(engine) as s:  # the job done and its results stored: both, or neither
        if not _set(engine, job_id, worker, state="done", progress=1.0, message="done", s=s):
            log.warning(
                "job %s was queued again (lease lost%s); its results are not stored",
                job_id,
                " here" if lease.lost else "",
            )
            return
        stored = s.get(Call, call_id)
        if stored is not None:
            stored.results = findings


def _set(
    engine: Engine, job_id: int, owner: str, s: Session | None = None, **values: object
) -> bool:
    """Write ``values`` on the job while it is running and ``owner``'s (the worker that
    claimed it), renewing its lease; returns whether it still was."""
    if values.get("state") in ("done", "failed"):
        values["finished_at"] = now()
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.worker == owner, Job.state == "running")
        .values(heartbeat_at=now(), **values)
    )
    if s is not None:
        return cast("CursorResult[Any]", s.execute(statement)).rowcount == 1
    with session(engine) as own:
        return cast("CursorResult[Any]", own.execute(statement)).rowcount == 1


def run_pending(engine: Engine, data: Path, model: Path | None = None) -> int:
    """Run every queued job here, one after another (the tests, and ``capstone annotate
    --data``); returns how many ran."""
    ran, worker = 0, worker_name()
    while (job := claim(engine, worker)) is not None:
        run_guarded(engine, job.id, data, model, worker)
        ran += 1
    return ran


def run_guarded(engine: Engine, job_id: int, data: Path, model: Path | None, worker: str) -> None:
    """:func:`run_job`, a failure kept on the job in words; asked to stop, the job is queued
    again (:class:`Stopped` then goes on)."""
    try:
        run_job(engine, job_id, data, model, worker)
    except Stopped:
        _set(
            engine,
            job_id,
            worker,
            state="queued",
            worker=None,
            message="queued again: its worker was stopped",
        )
        raise
    except Exception as err:
        log.exception("job %s failed", job_id)
        _set(engine, job_id, worker, state="failed", message=f"{type(err).__name__}: {err}")


def work(url: str, data: str, idle_s: float = 0.5, stop: Callable[[], bool] | None = None) -> None:
    """A worker process's loop: claim a job, run it, and again; while there is none, sleep,
    and now and then queue again the jobs whose lease lapsed and remove stale uploads. A TERM
    queues its job again and ends the loop."""
    engine = open_database(url)
    worker, swept = worker_name(), 0.0

    def stopped(*_: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, stopped)
    try:
        while not (stop and stop()):
            job = claim(engine, worker)
            if job is None:
                if time.monotonic() - swept > SWEEP_EVERY_S:
                    recover(engine)
                    sweep_staging(Path(data))
                    swept = time.monotonic()
                time.sleep(idle_s)
                continue
            run_guarded(engine, job.id, Path(data), None, worker)
    except Stopped:
        return
    finally:
        engine.dispose()


def start_workers(url: str, data: Path, n: int) -> list[subprocess.Popen]:
    """Start ``n`` worker processes (``python -m capstone.app.worker``: programs of their own,
    which load the model once each); each stops when the process that started it is gone, or
    at a TERM (:func:`stop_workers`). The database URL goes in their environment, not on
    their command line, which every user of the machine can read."""
    # The parent's pid is given, not read in the worker: a parent gone before the worker's
    # imports end would leave it the child of init, waiting for nobody.
    command = [sys.executable, "-m", "capstone.app.worker", str(data), str(os.getpid())]
    env = {**os.environ, "CAPSTONE_DATABASE_URL": url}
    return [subprocess.Popen(command, env=env) for _ in range(n)]


def stop_workers(workers: list[subprocess.Popen], wait_s: float = 20.0) -> None:
    """TERM each worker (its job goes back to the queue) and wait for them to end."""
    for process in workers:
        process.terminate()
    deadline = time.monotonic() + wait_s
    for process in workers:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def work_for(url: str, data: str, parent: int, idle_s: float = 0.5) -> None:
    """A worker's life: :func:`work` until the process that started it (``parent``) is gone."""
    work(url, data, idle_s, stop=lambda: os.getppid() != parent)
