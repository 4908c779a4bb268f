"""Annotation jobs: queued by the pages, run by worker processes, never in a page's script.

A worker claims the oldest queued job, annotates the call's media through the library
(:func:`capstone.library.runner.annotate_library`, so the CLI and the app share one code path
and a worker loads the model once), writes the progress as it goes, and stores the results on
the call. Closing the browser stops nothing. A job whose worker died (the server stopped, the
machine restarted) is queued again by :func:`recover` when the app starts, and the library's
markers let it skip what was already done.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from capstone.app.database import Call, Job, now, open_database, session
from capstone.app.demo import compose
from capstone.calls.metadata import CallInfo
from capstone.calls.result import CallResult, ScreenshotResult
from capstone.calls.summary import headline, picture_headline, picture_shares
from capstone.library.runner import Settings, annotate_library
from capstone.model.released import reading_options
from capstone.paths import released_model

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0  # the shortest time between two progress writes of a job


def media_folder(data: Path, call_id: int) -> Path:
    """Where a call's uploaded media are kept."""
    return data / "media" / str(call_id)


def results_folder(data: Path, call_id: int) -> Path:
    """Where a call's annotated outputs go (a library folder of its own)."""
    return data / "results" / str(call_id)


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


def call_info(call: Call) -> CallInfo:
    """The call metadata the annotation reads, from the call's people and stage times."""
    people = call.people or {}
    rep = next((pid for pid, p in people.items() if p.get("role") == "rep"), None)
    return CallInfo(
        rep=rep,
        staff=tuple(pid for pid, p in people.items() if p.get("role") == "staff"),
        prospects={
            pid: p.get("name") or pid for pid, p in people.items() if p.get("role") == "prospect"
        },
        stages={
            k: float(v) for k, v in sorted((call.stage_times or {}).items(), key=lambda i: i[1])
        },
        informed=call.informed,
    )


def run_job(engine: Engine, job_id: int, data: Path, model: Path | None = None) -> None:
    """Annotate the job's call; the job ends ``done`` or ``failed`` with a message in words."""
    with session(engine) as s:
        job = s.get(Job, job_id)
        call = s.get(Call, job.call_id) if job else None
        if job is None or call is None:
            return
        paths = [media_folder(data, call.id) / name for name in call.media]
        info, use, demo = call_info(call), call.use, call.demo
    if demo and not paths[0].exists():
        _set(engine, job_id, message="composing the demo recording")
        compose(paths[0], seed=call.id)
    model = model or released_model()
    settings = Settings(
        model=model, call=info, use=use, options=reading_options(model), fps=2.0, detect_every=4
    )
    last = [0.0]

    def heard(_name: str, share: float) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S or share >= 1.0:
            last[0] = time.monotonic()
            _set(engine, job_id, progress=share, message=f"annotating: {share:.0%}")

    errors: list[str] = []
    outcome = annotate_library(
        paths,
        results_folder(data, call.id),
        settings,
        say=lambda _line: None,
        warn=errors.append,
        on_progress=heard,
    )
    if outcome.failed:
        _set(engine, job_id, state="failed", message="; ".join(outcome.failed))
        return
    _store_results(engine, call.id, data)
    _set(engine, job_id, state="done", progress=1.0, message="done")


def _set(engine: Engine, job_id: int, **values: Any) -> None:
    if values.get("state") in ("done", "failed"):
        values["finished_at"] = now()
    with session(engine) as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def _store_results(engine: Engine, call_id: int, data: Path) -> None:
    """What the Calls page lists of a finished call: its headline, the prospects' overall
    reading, the rep's share of the talk, and its output files."""
    folder = results_folder(data, call_id)
    summaries = sorted(folder.glob("*/summary.json"))
    pictures = sorted(folder.glob("*_annotated.png"))
    result = CallResult.from_json(json.loads(summaries[0].read_text())) if summaries else None
    with session(engine) as s:
        call = s.get(Call, call_id)
        if call is None:
            return
        call.results = {
            "reports": [str(p.relative_to(data)) for p in sorted(folder.glob("*/report.html"))],
            "videos": [str(p.relative_to(data)) for p in sorted(folder.glob("*/annotated.mp4"))],
            "pictures": [str(p.relative_to(data)) for p in pictures],
            "summaries": [str(p.relative_to(data)) for p in summaries],
            "records": [str(p.relative_to(data)) for p in sorted(folder.glob("*.json"))],
        }
        pictures_read = [
            ScreenshotResult.from_json(json.loads(f.read_text()))
            for f in sorted(folder.glob("*.json"))
        ]
        if result is None and pictures_read:
            by_prospect = picture_shares(pictures_read)
            shares = _pooled(list(by_prospect.values()))
            call.results = {**call.results, "prospect_shares": shares}
            call.headline = picture_headline(pictures_read)
            call.prospects_reading = prospects_reading(shares)
        if result is not None:
            shares = prospect_shares(result)
            call.results = {**call.results, "prospect_shares": shares}
            call.headline = headline(result)
            call.prospects_reading = prospects_reading(shares)
            call.talk_ratio = result.talk.talk_listen_ratio


def prospect_shares(result: CallResult) -> dict[str, float]:
    """The prospects' perceived expressions over the call: each one's share of all the
    prospects' readings."""
    counts: dict[str, float] = {}
    for p in result.prospects:
        for label, share in p.shares.items():
            counts[label] = counts.get(label, 0.0) + share * p.classified
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in counts.items()} if total else {}


def _pooled(shares: list[dict[str, float]]) -> dict[str, float]:
    """The mean of several prospects' shares."""
    pooled: dict[str, float] = {}
    for one in shares:
        for label, share in one.items():
            pooled[label] = pooled.get(label, 0.0) + share / len(shares)
    return pooled


def prospects_reading(shares: dict[str, float]) -> str:
    """The most frequent of :func:`prospect_shares`, in words."""
    if not shares:
        return "not read"
    top = max(shares, key=lambda k: shares[k])
    return f"{top} ({shares[top]:.0%})"


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
    while not (stop and stop()):
        job = claim(engine, os.getpid())
        if job is None:
            time.sleep(idle_s)
            continue
        _guarded(engine, job.id, Path(data), None)


def start_workers(url: str, data: Path, n: int) -> list[subprocess.Popen]:
    """Start ``n`` worker processes (``python -m capstone.app.worker``: programs of their own,
    which load the model once each); each stops when the process that started it is gone."""
    command = [sys.executable, "-m", "capstone.app.worker", url, str(data)]
    return [subprocess.Popen(command) for _ in range(n)]


def work_for(url: str, data: str, parent: int, idle_s: float = 0.5) -> None:
    """A worker's life: :func:`work` until the process that started it (``parent``) is gone."""
    work(url, data, idle_s, stop=lambda: os.getppid() != parent)
