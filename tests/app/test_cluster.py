"""The app's jobs on a Dask cluster: handed out by the dispatcher, annotated on the cluster's
workers, their state in the database; an unreachable scheduler is said in words."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import pytest
from matplotlib import cbook

from capstone.app.cluster import Dispatcher
from capstone.app.database import Call, Job, database_url, open_database, session
from capstone.app.services import Upload, save_call
from capstone.app.settings import read_settings
from capstone.calls.metadata import People, Person
from capstone.errors import CapstoneError
from capstone.media import load_image
from capstone.synthetic.layouts import gallery_frame


def test_the_dispatcher_hands_jobs_to_the_cluster_and_they_end_done(
    backend: str, tmp_path: Path
) -> None:
    from dask.distributed import LocalCluster

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    _, png = cv2.imencode(".png", gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    who = People({"P1": Person("staff"), "P2": Person("prospect", "Dana")})
    ids = [
        save_call(
            engine, data, Call(title=f"call {n}", people=who), [Upload("a.png", png.tobytes())]
        )
        for n in range(2)
    ]
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        dispatcher = Dispatcher.start(read_settings(data, scheduler=address))
        try:
            started = time.monotonic()
            while time.monotonic() - started < 120:
                with session(engine) as s:
                    states = [j.state for j in s.query(Job).all()]
                if set(states) == {"done"}:
                    break
                time.sleep(0.5)
        finally:
            dispatcher.stop()
    with session(engine) as s:
        jobs = s.query(Job).all()
        calls = [s.get(Call, i) for i in ids]
    assert [j.state for j in jobs] == ["done", "done"], [j.message for j in jobs]
    assert all(j.worker.startswith(f"dask:{address}:") for j in jobs)  # handed to the cluster
    assert all(c.results.headline.startswith("Dana looked") for c in calls)


def test_a_scheduler_that_does_not_answer_is_said_in_words(tmp_path: Path) -> None:
    settings = read_settings(tmp_path, scheduler="tcp://127.0.0.1:9")
    with pytest.raises(
        CapstoneError, match=r"the Dask scheduler at tcp://127\.0\.0\.1:9 does not answer"
    ):
        Dispatcher.start(settings, timeout_s=2)
