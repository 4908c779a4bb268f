"""Annotation jobs: claimed once, resumed after a worker stops, failing in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstone.app.database import Call, Job, database_url, enqueue, open_database, session
from capstone.app.jobs import call_request, claim, recover, run_pending
from capstone.calls.metadata import People, Person, StageTimes
from capstone.calls.request import ReadingOptions


def _call(engine, **details) -> int:
    with session(engine) as s:
        call = Call(title="a call", **details)
        s.add(call)
        s.flush()
        return call.id


def test_a_job_is_claimed_once_and_a_dead_workers_job_is_queued_again(tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    job_id = enqueue(engine, _call(engine))
    taken = claim(engine, pid=999_999_999)  # a worker that no longer exists
    assert taken is not None and taken.id == job_id and claim(engine, pid=1) is None
    assert recover(engine) == 1
    with session(engine) as s:
        job = s.get(Job, job_id)
        assert job.state == "queued" and "resumed" in job.message


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
