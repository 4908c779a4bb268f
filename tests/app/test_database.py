"""The app's database: versioned and migrated by Alembic from every earlier schema on SQLite and
PostgreSQL, refusing what it cannot read in one sentence, saying so when locked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from capstone.app.database import (
    SCHEMA_VERSION,
    Base,
    Call,
    DatabaseError,
    _alembic,
    calls,
    database_url,
    engine_for,
    enqueue,
    open_database,
    schema_version,
    session,
)
from capstone.calls.metadata import People, Person

RESULTS_2 = {
    "reports": ["results/1/call/report.html"],
    "videos": ["results/1/call/annotated.mp4"],
    "pictures": [],
    "summaries": ["results/1/call/summary.json"],
    "records": [],
    "prospect_shares": {"happy": 0.25, "neutral": 0.75},
}
#: A call as schemas 1 and 2 kept it: the results as a free dict, and the headline, the
#: prospects' reading and the rep's share of the talk as columns of their own.
OLD_CALL = {
    "id": 1, "title": "old call", "created_at": "2026-01-01 00:00:00", "rep": "Ana",
    "rep_role": "", "team": "", "stage": "", "outcome": "", "stakeholders": 1,
    "industry": "", "offering": "", "product": "", "share": False, "use": "customers",
    "informed": True, "people": json.dumps({"P2": {"role": "prospect", "name": "Dana"}}),
    "stage_times": json.dumps({"intro": 0}), "media": "[]", "kind": "recording",
    "demo": False, "headline": "Dana looked mostly neutral.",
    "prospects_reading": "neutral (75%)", "talk_ratio": 0.4,
    "results": json.dumps(RESULTS_2),
}  # fmt: skip


@contextmanager
def _at_version(url: str, version: int, *, legacy: bool = False) -> Iterator[Engine]:
    """A database made at schema ``version`` by its migrations, for the block to fill (then
    closed); with ``legacy``, as capstone kept the version before Alembic did (in ``meta``),
    for versions 1-4."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            command.upgrade(_alembic(connection), f"{version:04d}")
            connection.commit()
        if legacy:
            with engine.begin() as c:
                c.execute(text("DROP TABLE alembic_version"))
                c.execute(text("INSERT INTO meta (key, value) VALUES ('schema_version', :v)"),
                          {"v": str(version)})  # fmt: skip
        yield engine
    finally:
        engine.dispose()


def _add_old_call(engine: Engine) -> None:
    columns = ", ".join(f'"{c}"' for c in OLD_CALL)
    values = ", ".join(f":{c}" for c in OLD_CALL)
    with engine.begin() as c:
        c.execute(text(f"INSERT INTO calls ({columns}) VALUES ({values})"), OLD_CALL)


def test_a_new_database_is_made_at_the_current_version(backend: str, tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    assert schema_version(engine) == SCHEMA_VERSION
    if backend == "sqlite":
        with engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    open_database(database_url(tmp_path))  # opening again migrates nothing and loses nothing


def test_the_migrations_make_exactly_the_models_tables(backend: str, tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    with engine.connect() as c:
        differences = compare_metadata(MigrationContext.configure(c), Base.metadata)
        if backend == "sqlite":  # SQLite's reflection drops ON DELETE of an added column
            differences = [d for d in differences if d[0] not in ("add_fk", "remove_fk")]
            keys = c.execute(text("PRAGMA foreign_key_list(calls)")).all()
            assert [(k[2], k[3], k[6]) for k in keys] == [("users", "owner_id", "SET NULL")]
    assert differences == []


def test_a_database_from_a_newer_capstone_is_refused_with_what_to_do(
    backend: str, tmp_path: Path
) -> None:
    engine = open_database(database_url(tmp_path))
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(DatabaseError, match=r"newer than this capstone.*upgrade capstone"):
        open_database(database_url(tmp_path))


@pytest.mark.parametrize("legacy", [False, True], ids=["alembic", "before-alembic"])
@pytest.mark.parametrize("version", [1, 2])
def test_a_call_from_schema_1_or_2_is_migrated_keeping_its_details_and_results(
    backend: str, tmp_path: Path, version: int, legacy: bool
) -> None:
    """A folder made before accounts (1) or before typed results (2): its call keeps its
    details, its results become one typed value, and it has no owner (nobody sees it until
    an admin gives it to a rep)."""
    with _at_version(database_url(tmp_path), version, legacy=legacy) as old:
        _add_old_call(old)
    engine = open_database(database_url(tmp_path))
    assert schema_version(engine) == SCHEMA_VERSION
    (call,) = calls(engine)
    assert (call.title, call.owner_id, call.sales_team) == ("old call", None, "")
    assert call.people == People({"P2": Person("prospect", "Dana")})
    found = call.results
    assert found.headline == "Dana looked mostly neutral."
    assert found.prospects_reading == "neutral (75%)"
    assert found.talk is not None and found.talk.talk_listen_ratio == 0.4
    (recording,) = found.recordings
    assert recording.summary == "results/1/call/summary.json"
    assert recording.video == "results/1/call/annotated.mp4"
    assert call.options.fps == 2.0  # the options every call was read with until then

    from capstone.app.accounts import add_user
    from capstone.cli import main

    ana = add_user(engine, "Ana", "rep", "correct horse battery", "east")
    assert main(["users", "adopt", "--data", str(tmp_path), "--name", "Ana"]) == 0
    assert [(c.owner_id, c.sales_team) for c in calls(engine)] == [(ana.id, "east")]


@pytest.mark.parametrize("legacy", [False, True], ids=["alembic", "before-alembic"])
@pytest.mark.parametrize("version", [3, 4])
def test_a_database_of_schema_3_or_4_is_migrated_keeping_its_jobs_and_sign_ins(
    backend: str, tmp_path: Path, version: int, legacy: bool
) -> None:
    with _at_version(database_url(tmp_path), version, legacy=legacy) as old, old.begin() as c:
        c.execute(
            text(
                "INSERT INTO calls (id, title, created_at, rep, rep_role, team, stage, "
                "outcome, stakeholders, industry, offering, product, share, use, people, "
                "stage_times, media, kind, demo, results, sales_team) VALUES (1, 'call', "
                "'2026-01-01', '', '', '', '', '', 1, '', '', '', false, 'customers', "
                "'{}', '{}', '[]', 'recording', false, '{}', 'east')"
            )
        )
        c.execute(
            text(
                "INSERT INTO jobs (call_id, state, progress, message, worker_pid, "
                "created_at) VALUES (1, 'running', 0.5, 'annotating', 4242, "
                "'2026-01-01')"
            )
        )
        c.execute(text("INSERT INTO failed_sign_ins (name, at) VALUES ('ana', '2026-01-01')"))
    engine = open_database(database_url(tmp_path))
    assert schema_version(engine) == SCHEMA_VERSION
    with engine.connect() as c:
        job = c.execute(text("SELECT state, worker, heartbeat_at FROM jobs")).one()
        failed = c.execute(text("SELECT name, address FROM failed_sign_ins")).one()
    assert tuple(job) == ("running", None, None)  # no lease: the next recover queues it again
    assert tuple(failed) == ("ana", "")  # an address unknown before schema 4
    from capstone.app.jobs import recover

    assert recover(engine) == 1


def test_calls_and_jobs_are_kept_and_a_call_deletes_its_jobs(backend: str, tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    with session(engine) as s:
        s.add(Call(title="first", people=People({"P2": Person("prospect", "Dana")})))
    call = calls(engine)[0]
    assert call.people.by_id["P2"].name == "Dana" and enqueue(engine, call.id) == 1


def test_a_database_locked_by_another_program_says_so_and_nothing_is_half_saved(
    tmp_path: Path,
) -> None:
    from capstone.app.services import Upload, save_call

    url = database_url(tmp_path)
    engine = open_database(url, timeout=0.2)
    other = sqlite3.connect(tmp_path / "capstone.sqlite", timeout=0.1)
    other.execute("BEGIN EXCLUSIVE")  # another program holds it
    try:
        with pytest.raises(DatabaseError, match=r"locked by another program.*Nothing was lost"):
            save_call(engine, tmp_path, Call(title="x"), [Upload("a.png", b"x")])
    finally:
        other.rollback()
        other.close()
    assert calls(engine) == [] and not (tmp_path / "media").exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", r"'not a url' is not a database URL; give e\.g\. postgresql://"),
        ("oracle2://x@y/z", r"SQLAlchemy knows no database 'oracle2'"),
        (
            "postgresql://capstone:s3cret@127.0.0.1:9/calls",
            r"postgresql\+psycopg://capstone:\*\*\*@127\.0\.0\.1:9/calls cannot be reached \(.+\); check",
        ),
    ],
)
def test_a_database_that_cannot_be_used_is_refused_in_one_sentence(url: str, says: str) -> None:
    with pytest.raises(DatabaseError, match=says) as refused:
        open_database(url)
    assert "s3cret" not in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_postgresql_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(DatabaseError, match=r"needs the driver 'psycopg'.*\[server\]"):
        open_database("postgresql://capstone@127.0.0.1:9/calls")
