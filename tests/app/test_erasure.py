"""Deleting for good: a deleted call, an erased person and calls past the retention leave no
file, row or store entry behind, and no copy of a name in the database's files (each on SQLite
and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from matplotlib import cbook
from sqlalchemy import func, select

from capstone.app.accounts import add_user
from capstone.app.audit import log_table, record
from capstone.app.database import Call, Job, database_url, open_database, session
from capstone.app.erasure import (
    apply_retention,
    delete_call,
    erase_person,
    retention_days,
    set_retention_days,
)
from capstone.app.jobs import run_pending
from capstone.app.services import save_call, start_self_review
from capstone.app.uploads import Upload
from capstone.calls.metadata import People, Person
from capstone.cli import main
from capstone.media import load_image
from capstone.synthetic.calls import write_recording
from capstone.synthetic.layouts import HOPPER_FACE

pytestmark = pytest.mark.slow
NAME = "Zelda Quux"  # a prospect's name no file holds unless the app wrote it


def _mentions(folder: Path, text: str) -> list[Path]:
    """Every file under ``folder`` whose bytes hold ``text`` (plain or as UTF-16)."""
    wanted = (text.encode(), text.encode("utf-16-le"))
    return [
        p for p in folder.rglob("*") if p.is_file() and any(w in p.read_bytes() for w in wanted)
    ]


def _rows_mentioning(engine, text: str) -> list[str]:
    """Every row of every table of the app's database that holds ``text``, as text."""
    from capstone.app.database import Base

    with engine.connect() as c:
        rows = [
            str(tuple(r)) for table in Base.metadata.sorted_tables for r in c.execute(select(table))
        ]
    return [r for r in rows if text in r]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    folder = tmp_path_factory.mktemp("recording")
    return write_recording(hopper, HOPPER_FACE, folder / "call.mp4", seconds=2, fps=5).read_bytes()


def test_a_deleted_call_and_its_self_review_leave_nothing_on_disk(
    backend: str, tmp_path: Path, recording: bytes
) -> None:
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    rep = add_user(engine, "Ana", "rep", "correct horse battery", "east")
    people = People({"P1": Person("rep", NAME)})
    call = Call(title=f"call with {NAME}", people=people, owner_id=rep.id, sales_team="east")
    call_id = save_call(engine, data, call, [Upload("call.mp4", recording)])
    review = start_self_review(engine, data, rep, call_id)
    kept = save_call(engine, data, Call(title="another call", owner_id=rep.id), [])
    assert run_pending(engine, data) == 3
    assert list((data / "results" / str(call_id)).rglob("*.parquet"))  # the store has rows
    assert _rows_mentioning(engine, NAME)  # the checks below can see a name where one is left
    assert backend != "sqlite" or _mentions(data, NAME)  # in SQLite's file too
    record(engine, "Ana", "deleted", call_id)

    delete_call(engine, data, call_id)

    for gone in (call_id, review):
        assert not (data / "media" / str(gone)).exists()
        assert not (data / "results" / str(gone)).exists()
    with session(engine) as s:
        assert s.scalar(select(func.count(Call.id))) == 1  # the other call stays
        assert s.scalar(select(func.count(Job.id)).where(Job.call_id != kept)) == 0
    assert _mentions(data, NAME) == []  # no file, row, log page or store entry names them
    assert _rows_mentioning(engine, NAME) == []
    assert set(log_table(engine)["did"]) == {"deleted"}  # the audit keeps the number only


def test_erasing_a_person_deletes_every_call_that_records_them(
    backend: str, tmp_path: Path
) -> None:
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    with session(engine) as s:
        s.add(Call(title="one", people=People({"P2": Person("prospect", NAME)})))
        s.add(Call(title="two", people=People({"P3": Person("prospect", NAME.upper())})))
        s.add(Call(title="three", rep=NAME))
        s.add(Call(title="other", people=People({"P2": Person("prospect", "Dana")})))
    for call_id in (1, 2, 3, 4):
        (data / "media" / str(call_id)).mkdir(parents=True)
        (data / "media" / str(call_id) / "01.png").write_bytes(b"face")
    assert erase_person(engine, data, f" {NAME.lower()} ") == [1, 2, 3]
    with session(engine) as s:
        assert [c.title for c in s.scalars(select(Call))] == ["other"]
    assert sorted(p.name for p in (data / "media").iterdir()) == ["4"]
    assert _mentions(data, NAME) == [] and _mentions(data, NAME.upper()) == []


def test_retention_deletes_the_calls_older_than_its_days_from_a_command(
    backend: str, tmp_path: Path
) -> None:
    data = tmp_path / "app"
    engine = open_database(database_url(data))
    today = dt.date.today()
    with session(engine) as s:
        s.add(Call(title="old", call_date=today - dt.timedelta(days=40)))
        s.add(Call(title="recent", call_date=today - dt.timedelta(days=5)))
        s.add(Call(title="undated, added today"))
    assert retention_days(engine) == 365 and apply_retention(engine, data) == []
    set_retention_days(engine, 90)
    assert main(["retention", "--data", str(data), "--days", "30"]) == 0  # e.g. from cron
    with session(engine) as s:
        assert {c.title for c in s.scalars(select(Call))} == {"recent", "undated, added today"}
    assert retention_days(engine) == 30
    assert main(["retention", "--data", str(data), "--days", "0"]) == 2


def test_uploads_never_saved_go_with_their_user_or_after_an_hour(
    backend: str, tmp_path: Path
) -> None:
    import os
    import time

    from capstone.app.erasure import erase_person, sweep_staging
    from capstone.app.folders import STAGING_KEPT_S, staging_folder

    data = tmp_path / "app"
    engine = open_database(database_url(data))
    ana = add_user(engine, "Ana", "rep", "correct horse battery", "east")
    ben = add_user(engine, "Ben", "rep", "correct horse battery", "east")
    hers, his = staging_folder(data, ana.id, "a1"), staging_folder(data, ben.id, "b1")
    for folder in (hers, his):
        folder.mkdir(parents=True)
        (folder / "01.png").write_bytes(b"a face")
    erase_person(engine, data, "ana")  # any case
    assert not hers.exists() and his.exists()
    hour_ago = time.time() - STAGING_KEPT_S - 1
    os.utime(his, (hour_ago, hour_ago))
    fresh = staging_folder(data, ben.id, "b2")
    fresh.mkdir()
    assert sweep_staging(data) == 1 and not his.exists() and fresh.exists()


def test_the_demo_library_records_nobody_and_an_admin_removes_it_for_good(
    backend: str, tmp_path: Path
) -> None:
    from capstone.app.demo import demo_ids, remove_demo, seed_demo
    from capstone.app.erasure import calls_of_person

    data = tmp_path / "app"
    engine = open_database(database_url(data))
    assert seed_demo(engine, data) == len(demo_ids(engine)) > 0
    with session(engine) as s:  # a demo prospect's name, also a real person's
        s.add(Call(title="real", people=People({"P2": Person("prospect", "Dana")})))
    assert len(calls_of_person(engine, "Dana")) == 1  # the real call only
    gone = remove_demo(engine, data)
    assert gone and demo_ids(engine) == [] and seed_demo(engine, data) == 0
