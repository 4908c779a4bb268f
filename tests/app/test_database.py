"""The app's database: versioned, migrated, refusing what it cannot read, saying so when locked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from capstone.app.database import (
    SCHEMA_VERSION,
    Call,
    DatabaseError,
    calls,
    database_url,
    enqueue,
    open_database,
    schema_version,
    session,
)


def test_a_new_database_is_made_at_the_current_version_in_wal_mode(tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    assert schema_version(engine) == SCHEMA_VERSION
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    open_database(database_url(tmp_path))  # opening again migrates nothing and loses nothing


def test_a_database_from_a_newer_capstone_is_refused_with_what_to_do(tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    with engine.begin() as c:
        c.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(DatabaseError, match=r"newer than this capstone.*upgrade capstone"):
        open_database(database_url(tmp_path))


def test_calls_and_jobs_are_kept_and_a_call_deletes_its_jobs(tmp_path: Path) -> None:
    engine = open_database(database_url(tmp_path))
    with session(engine) as s:
        s.add(Call(title="first", people={"P2": {"role": "prospect", "name": "Dana"}}))
    call = calls(engine)[0]
    assert call.people["P2"]["name"] == "Dana" and enqueue(engine, call.id) == 1


def test_a_database_locked_by_another_program_says_so_and_nothing_is_half_saved(
    tmp_path: Path,
) -> None:
    from capstone.app.views import Upload, save_call

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
