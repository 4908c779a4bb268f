"""Annotation jobs: claimed once (on SQLite and PostgreSQL), leased, queued again after a worker
stops or vanishes on any machine, never stored twice, failing in words."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from capstone.app.database import Call, Job, database_url, enqueue, now, open_database, session
from capstone.app.jobs import LEASE_S, call_request, claim, recover, run_job, run_pending
from capstone.calls.metadata import People, Person, StageTimes
from capstone.calls.request import ReadingOptions


def _call(engine, **details) -> int:
    with session(engine) as s:
        call = Call(title="a call", **details)
        s.add(call)
        s.flush()
        return call.id


def test_a_job_is_claimed_once_and_a_dead_local_workers_job_is_queued_again_at_once(
    backend: str, tmp_path: Path
) -> None:
    engine = open_database(database_url(tmp_path))
    job_id = enqueue(engine, _call(engine))
    gone = f"{socket.gethostname()}:999999999"  # a process of this machine that no longer runs
    taken = claim(engine, gone)
    assert taken is not None and taken.id == job_id and claim(engine, "another") is None
    assert recover(engine) == 1
    with session(engine) as s:
        job = s.get(Job, job_id)
        assert job.state == "queued" and job.worker is None and "resumed" in job.message


def test_a_job_whose_lease_lapsed_is_queued_again_wherever_its_worker_ran(
    backend: str, tmp_path: Path
) -> None:
    engine = open_database(database_url(tmp_path))
    job_id = enqueue(engine, _call(engine))
    assert claim(engine, "host-b:4242") is not None  # a worker on another machine
    assert recover(engine) == 0  # its lease is fresh: nobody here can tell it is gone
    with session(engine) as s:
        s.get(Job, job_id).heartbeat_at = now() - dt.timedelta(seconds=LEASE_S + 1)
    assert recover(engine) == 1
    assert claim(engine, "host-c:7") is not None


def test_workers_claiming_at_once_never_share_a_job(backend: str, tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    jobs = {enqueue(engine, _call(engine)) for _ in range(24)}
    taken: dict[str, list[int]] = {f"host:{n}": [] for n in range(4)}

    def worker(name: str) -> None:
        while (job := claim(engine, name)) is not None:
            taken[name].append(job.id)

    threads = [threading.Thread(target=worker, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [job for ids in taken.values() for job in ids]
    assert sorted(claimed) == sorted(jobs)  # each job once, none left


def test_a_worker_whose_job_was_queued_again_stores_nothing(backend: str, tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    job_id = enqueue(engine, _call(engine, media=["01.png"], kind="screenshots"))
    claim(engine, "host-a:1")
    with session(engine) as s:  # its lease lapses; another worker takes the job
        s.get(Job, job_id).heartbeat_at = now() - dt.timedelta(seconds=LEASE_S + 1)
    recover(engine)
    claim(engine, "host-b:2")
    run_job(engine, job_id, tmp_path, worker="host-a:1")  # the first one comes back
    with session(engine) as s:
        job = s.get(Job, job_id)
        assert (job.state, job.worker, job.message) == ("running", "host-b:2", "starting")


def test_a_job_that_cannot_annotate_fails_with_a_message(tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    call_id = _call(engine, media=["01.mp4"], kind="recording")
    folder = tmp_path / "media" / str(call_id)
    folder.mkdir(parents=True)
    (folder / "01.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    job_id = enqueue(engine, call_id)
    assert run_pending(engine, tmp_path) == 1
    with session(engine) as s:
        job = s.get(Job, job_id)
        assert job.state == "failed" and "01.mp4" in job.message


def test_the_call_metadata_comes_from_who_is_who() -> None:
    call = Call(
        title="x",
        people=People(
            {
                "P1": Person("rep", "Ana"),
                "P2": Person("prospect", "Dana"),
                "P3": Person("staff"),
                "P4": Person(),
            }
        ),
        stage_times=StageTimes({"demo": 60, "intro": 0}),
        informed=True,
        use="customers",
        options=ReadingOptions(fps=1.0),
    )
    request = call_request(call)
    info = request.info
    assert (info.rep, info.staff, info.prospects) == ("P1", ("P3",), {"P2": "Dana"})
    assert list(info.stages) == ["intro", "demo"] and info.informed is True
    assert request.use == "customers" and request.options.fps == 1.0


def test_two_uploads_at_once_are_two_calls_and_a_silent_recording_is_annotated(
    tmp_path: Path,
) -> None:
    import threading

    from matplotlib import cbook

    from capstone.app.services import Upload, save_call
    from capstone.media import load_image
    from capstone.synthetic.calls import write_recording
    from capstone.synthetic.layouts import HOPPER_FACE

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    video = write_recording(hopper, HOPPER_FACE, tmp_path / "silent.mp4", seconds=2, fps=5)
    engine = open_database(database_url(tmp_path / "app"))
    people = People({"P1": Person("prospect", "Dana")})
    saved: list[int] = []

    def upload(title: str) -> None:  # two managers pressing "Save" at the same moment
        call = Call(title=title, people=people, kind="recording")
        saved.append(
            save_call(engine, tmp_path / "app", call, [Upload("a.mp4", video.read_bytes())])
        )

    threads = [threading.Thread(target=upload, args=(f"call {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(saved)) == 2
    assert run_pending(engine, tmp_path / "app") == 2  # no audio track: speaking from the picture
    with session(engine) as s:
        jobs = s.query(Job).all()
        calls = [s.get(Call, i) for i in saved]
    assert {j.state for j in jobs} == {"done"}
    assert all(c.results.recordings and c.results.headline.startswith("Dana looked") for c in calls)


def test_the_worker_stores_the_results_it_is_handed_and_reads_back_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2
    from matplotlib import cbook

    from capstone.app import jobs
    from capstone.app.services import Upload, save_call
    from capstone.media import load_image
    from capstone.synthetic.layouts import gallery_frame

    real = jobs.annotate_library

    def then_unreadable(inputs, out, *args, **kwargs):
        outcome = real(inputs, out, *args, **kwargs)
        for record in out.rglob("*.json"):  # every result JSON it just wrote
            record.write_text("{ not JSON")
        return outcome

    monkeypatch.setattr(jobs, "annotate_library", then_unreadable)
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    _, png = cv2.imencode(".png", gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    who = People({"P1": Person("staff"), "P2": Person("prospect", "Dana")})
    call_id = save_call(engine, data, Call(title="x", people=who), [Upload("a.png", png.tobytes())])
    assert run_pending(engine, data) == 1
    with session(engine) as s:
        job, call = s.query(Job).one(), s.get(Call, call_id)
    assert job.state == "done", job.message
    assert call is not None and call.results.headline.startswith("Dana looked")
    assert call.results.prospect_shares and len(call.results.screenshots) == 1
    assert (data / str(call.results.screenshots[0].picture)).is_file()


def _job(engine, job_id: int) -> Job:
    with session(engine) as s:
        return s.get(Job, job_id)


def _worker(data: Path) -> subprocess.Popen:
    """A worker process of the app on ``data``, as the app starts it."""
    command = [sys.executable, "-m", "capstone.app.worker", str(data), str(os.getpid())]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until(what, seconds: float = 120) -> None:
    started = time.monotonic()
    while not what():
        assert time.monotonic() - started < seconds, "waited too long"
        time.sleep(0.2)


def test_a_stopped_worker_queues_its_job_again_and_a_killed_ones_is_recovered(
    tmp_path: Path,
) -> None:
    """TERM mid-job: the job goes back to the queue and the worker ends at once. KILL mid-job:
    the job stays running until :func:`recover` finds its process gone; then the next claim
    takes it."""
    from matplotlib import cbook

    from capstone.app.services import Upload, save_call
    from capstone.media import load_image
    from capstone.synthetic.calls import write_recording
    from capstone.synthetic.layouts import HOPPER_FACE

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    video = write_recording(hopper, HOPPER_FACE, tmp_path / "long.mp4", seconds=60, fps=5)
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    call = Call(title="long", people=People({"P1": Person("prospect", "Dana")}), kind="recording")
    save_call(engine, data, call, [Upload("a.mp4", video.read_bytes())])
    with session(engine) as s:
        job_id = s.query(Job).one().id

    for stop in (signal.SIGTERM, signal.SIGKILL):
        worker = _worker(data)
        try:
            _until(lambda: (j := _job(engine, job_id)).state == "running" and j.progress > 0)
            worker.send_signal(stop)
            assert worker.wait(timeout=30) in (0, -signal.SIGKILL)
        finally:
            worker.kill()
        job = _job(engine, job_id)
        if stop == signal.SIGTERM:
            assert (job.state, job.worker) == ("queued", None), job.message
            assert "its worker was stopped" in job.message
        else:
            assert job.state == "running"  # nobody said anything: the process just vanished
            assert recover(engine) == 1 and _job(engine, job_id).state == "queued"
    assert claim(engine, "the next worker") is not None
