"""Annotating a folder of calls: recursive, resumable, a store, an index, Dask workers."""

from __future__ import annotations

import html
import os
import signal
import threading
import time
from pathlib import Path

import cv2
import pandas as pd
import pytest
from matplotlib import cbook

from capstone.artefacts import read_json
from capstone.calls.metadata import CallInfo
from capstone.calls.request import CallRequest, ReadingOptions
from capstone.library import annotate as runner
from capstone.library.annotate import annotate_library
from capstone.library.finding import find_media

Settings = tuple[CallRequest, Path]  # what every input is read with, and the model
from capstone.media import load_image
from capstone.model.architectures import compact_cnn
from capstone.model.released import reading_meaning
from capstone.synthetic.calls import write_recording
from capstone.synthetic.layouts import HOPPER_FACE, gallery


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    """A folder of calls as a manager keeps them, with the mess real folders hold."""
    root = tmp_path_factory.mktemp("library")
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    folder = root / "calls"
    (folder / "week1").mkdir(parents=True)
    (folder / "week2").mkdir()
    write_recording(hopper, HOPPER_FACE, folder / "week1/monday.mp4", seconds=2, fps=5)
    write_recording(hopper, HOPPER_FACE, folder / "week2/monday.mp4", seconds=2, fps=5)
    cv2.imwrite(str(folder / "week2/monday.png"), gallery(hopper, HOPPER_FACE, 2)[0])
    (folder / "week2/notes.txt").write_text("agenda")
    (folder / "week2/empty.mp4").write_bytes(b"")
    (folder / "week2/loop").symlink_to(folder)  # a link back to the top
    compact_cnn(4).save(root / "model.keras")
    call = CallInfo(rep="P1", prospects={"P2": "Dana"}, informed=True)
    settings = (CallRequest(call, options=ReadingOptions(detector="haar")), root / "model.keras")
    return folder, settings


def test_folders_are_searched_and_their_mess_is_reported(calls) -> None:
    folder, _ = calls
    named, problems, passed = find_media([folder])
    assert [n for _, n in named] == [
        "week1/monday",
        "week2/empty",
        "week2/monday_mp4",
        "week2/monday_png",
    ]
    assert problems == []
    assert any("notes.txt: not an image or a video" in p for p in passed)
    assert any("loop: a link to a folder already searched" in p for p in passed)


def test_a_library_run_writes_reports_an_index_and_a_store_and_resumes(
    calls, tmp_path: Path
) -> None:
    folder, settings = calls
    out, said, warned = tmp_path / "reports", [], []
    outcome = annotate_library([folder], out, *settings, say=said.append, warn=warned.append)
    assert outcome.kinds == {
        "week1/monday": "video",
        "week2/monday_mp4": "video",
        "week2/monday_png": "image",
    }
    assert len(outcome.failed) == 1 and "empty.mp4" in outcome.failed[0]
    assert any("notes.txt: not an image or a video; skipped" in line for line in said)
    index = (out / "index.html").read_text()
    for link in (
        "week1/monday/report.html",
        "week2/monday_mp4/report.html",
        "week2/monday_png_annotated.png",
    ):
        assert f'href="{link}"' in index and (out / link).is_file()
    assert (out / "trends.png").stat().st_size > 0
    # every output says what a reading means (this model has no record: FER2013's wording)
    meaning = reading_meaning(settings[1])
    assert "one annotator's labels" in meaning
    assert read_json(out / "week2/monday_png.json")["reading_means"] == meaning
    assert read_json(out / "week1/monday/summary.json")["reading_means"] == meaning
    assert meaning in (out / "week1/monday/summary.md").read_text()
    assert html.escape(meaning) in (out / "week1/monday/report.html").read_text()
    timelines = pd.read_parquet(out / "store/timelines")
    assert set(timelines["call"]) == {"week1/monday", "week2/monday_mp4"}
    calls_table = pd.read_parquet(out / "store/calls.parquet")
    assert set(calls_table["role"]) <= {"rep", "prospect", "unnamed"}
    import duckdb

    query = f"SELECT count(*) FROM '{out}/store/timelines/*.parquet'"
    rows = duckdb.connect().execute(query).fetchall()[0][0]
    assert rows == len(timelines)
    # a rerun skips what is unchanged; a changed file is annotated again
    again = annotate_library([folder], out, *settings, say=said.append, warn=warned.append)
    assert again.kinds == {} and len(again.skipped) == 3
    cv2.imwrite(str(folder / "week2/monday.png"), cv2.imread(str(folder / "week2/monday.png"))[::2])
    again = annotate_library([folder], out, *settings, say=said.append, warn=warned.append)
    assert again.kinds == {"week2/monday_png": "image"}


def test_a_run_killed_mid_way_resumes_where_it_stopped(calls, tmp_path: Path, monkeypatch) -> None:
    folder, settings = calls
    real, seen = runner.annotate_video, []

    def killed_on_the_second(path, *args, **kwargs):
        seen.append(path)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(runner, "annotate_video", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        annotate_library([folder / "week1", folder / "week2"], tmp_path, *settings, say=print)
    monkeypatch.setattr(runner, "annotate_video", real)
    outcome = annotate_library([folder / "week1", folder / "week2"], tmp_path, *settings, say=print)
    assert list(outcome.skipped) == ["monday"] and "monday_mp4" in outcome.written


def test_two_dask_workers_annotate_like_one(calls, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    folder, settings = calls
    inputs = [folder / "week1/monday.mp4", folder / "week2/monday.mp4"]
    outcome = annotate_library(inputs, tmp_path, *settings, workers=2, say=print)
    assert sorted(outcome.written) == ["week1_monday_mp4", "week2_monday_mp4"]
    one = pd.read_csv(tmp_path / "week1_monday_mp4/timeline.csv")
    assert len(one) == 4 * len(one["participant"].unique())  # 2 s at 2 samples/s, per face


def test_a_file_that_vanished_is_reported_and_the_rest_go_on(calls, tmp_path: Path) -> None:
    folder, settings = calls
    inputs = [tmp_path / "gone.mp4", folder / "week2/monday.png"]
    outcome = annotate_library(inputs, tmp_path / "out", *settings, say=print, warn=print)
    assert outcome.kinds == {"monday": "image"}
    assert outcome.failed == [f"{tmp_path / 'gone.mp4'}: no such file"]


def test_a_worker_that_dies_mid_recording_leaves_the_earlier_outputs_whole(
    calls, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    import dask

    _, settings = calls
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    video = write_recording(hopper, HOPPER_FACE, tmp_path / "call.mp4", seconds=10, fps=5)
    out = tmp_path / "reports"
    (out / "call").mkdir(parents=True)
    (out / "call/summary.json").write_text('{"earlier": true}')  # an earlier run's outputs
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),  # report, not retry
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())

        def kill_once_it_writes() -> None:  # mid-recording: its annotated video begun
            started = out / runner.PARTIAL / "call/.annotated.part.mp4"
            for _ in range(6000):
                if started.exists():
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_once_it_writes)
        killer.start()
        outcome = annotate_library(
            [video], out, *settings, scheduler=cluster.scheduler_address, say=print, warn=print
        )
        killer.join()
    assert outcome.kinds == {}
    assert len(outcome.failed) == 1 and "its worker stopped" in outcome.failed[0]
    assert sorted(p.name for p in (out / "call").iterdir()) == ["summary.json"]
    assert (out / "call/summary.json").read_text() == '{"earlier": true}'
    assert not (out / runner.PARTIAL / "call").exists() and not (out / ".done").exists()
    # the next run annotates it whole, in place of the earlier outputs
    outcome = annotate_library([video], out, *settings, say=print, warn=print)
    assert outcome.kinds == {"call": "video"} and (out / "call/report.html").is_file()
    assert "earlier" not in (out / "call/summary.json").read_text()
