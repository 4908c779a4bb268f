"""The app's database: versioned, migrated, refusing what it cannot read, saying so when locked."""

from __future__ import annotations

import re
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
from capstone.calls.metadata import People, Person

#: The calls table as schema 2 made it: the results as a free dict, and the headline, the
#: prospects' reading (in words) and the rep's share of the talk as columns of their own.
CALLS_2 = """CREATE TABLE calls (id INTEGER NOT NULL, title VARCHAR(200) NOT NULL,
created_at DATETIME NOT NULL, call_date DATE, rep VARCHAR(100) NOT NULL,
rep_role VARCHAR(100) NOT NULL, team VARCHAR(300) NOT NULL, stage VARCHAR(60) NOT NULL,
outcome VARCHAR(60) NOT NULL, stakeholders INTEGER NOT NULL, industry VARCHAR(100) NOT NULL,
offering VARCHAR(20) NOT NULL, product VARCHAR(100) NOT NULL, share BOOLEAN NOT NULL,
use VARCHAR(20) NOT NULL, informed BOOLEAN, people JSON NOT NULL, stage_times JSON NOT NULL,
media JSON NOT NULL, kind VARCHAR(20) NOT NULL, demo BOOLEAN NOT NULL,
headline VARCHAR NOT NULL, prospects_reading VARCHAR(200) NOT NULL, talk_ratio DOUBLE,
results JSON NOT NULL, owner_id INTEGER, sales_team VARCHAR(100) NOT NULL,
review_of INTEGER, PRIMARY KEY (id),
FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE SET NULL)"""
RESULTS_2 = {
    "reports": ["results/1/call/report.html"],
    "videos": ["results/1/call/annotated.mp4"],
    "pictures": [],
    "summaries": ["results/1/call/summary.json"],
    "records": [],
    "prospect_shares": {"happy": 0.25, "neutral": 0.75},
}


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


def test_a_version_1_database_is_migrated_keeping_its_calls(tmp_path: Path) -> None:
    """A folder made before accounts: its calls stay, with no owner (so nobody sees them)."""
    url = database_url(tmp_path)
    engine = open_database(url)
    with session(engine) as s:
        s.add(Call(title="old call"))
    with engine.begin() as c:  # back to what version 1 wrote: no accounts, calls without owners
        made = c.execute(text("SELECT sql FROM sqlite_master WHERE name = 'calls'")).scalar()
        new = ("owner_id", "sales_team", "review_of")
        lines = [line for line in made.splitlines() if not any(n in line for n in new)]
        old = re.sub(r",\s*\n\)", "\n)", "\n".join(lines)).replace("TABLE calls", "TABLE v1")
        c.execute(text(old))
        columns = re.findall(r"^\s+([a-z_]+) [A-Z]", old, flags=re.MULTILINE)
        c.execute(text(f"INSERT INTO v1 SELECT {', '.join(columns)} FROM calls"))
        for table in ("calls", "users", "sign_ins", "failed_sign_ins", "audit"):
            c.execute(text(f"DROP TABLE {table}"))
        c.execute(text("ALTER TABLE v1 RENAME TO calls"))
        c.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    assert schema_version(engine) == 1
    engine = open_database(url)
    assert schema_version(engine) == SCHEMA_VERSION
    assert [(c.title, c.owner_id, c.sales_team) for c in calls(engine)] == [("old call", None, "")]
    # nobody sees them until an admin gives them to a rep
    from capstone.app.accounts import add_user
    from capstone.cli import main

    ana = add_user(engine, "Ana", "rep", "correct horse battery", "east")
    assert main(["users", "adopt", "--data", str(tmp_path), "--name", "Ana"]) == 0
    assert [(c.owner_id, c.sales_team) for c in calls(engine)] == [(ana.id, "east")]


def test_a_version_2_database_keeps_its_results_as_one_typed_value(tmp_path: Path) -> None:
    import json

    engine = open_database(database_url(tmp_path))
    with engine.begin() as c:  # back to what version 2 wrote
        c.execute(text("DROP TABLE jobs"))
        c.execute(text("DROP TABLE calls"))
        c.execute(text(CALLS_2))
        c.execute(
            text(
                "INSERT INTO calls VALUES (1, 'old call', '2026-01-01', NULL, 'Ana', '', '', '',"
                " '', 1, '', '', '', 0, 'customers', 1, :people, '{\"intro\": 0}', '[]',"
                " 'recording', 0, 'Dana looked mostly neutral.', 'neutral (75%)', 0.4,"
                " :results, NULL, '', NULL)"
            ),
            {
                "people": json.dumps({"P2": {"role": "prospect", "name": "Dana"}}),
                "results": json.dumps(RESULTS_2),
            },
        )
        c.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    engine = open_database(database_url(tmp_path))
    assert schema_version(engine) == SCHEMA_VERSION
    (call,) = calls(engine)
    assert call.people == People({"P2": Person("prospect", "Dana")})
    found = call.results
    assert found.headline == "Dana looked mostly neutral." and found.prospects_reading == (
        "neutral (75%)"
    )
    assert found.talk is not None and found.talk.talk_listen_ratio == 0.4
    (recording,) = found.recordings
    assert recording.summary == "results/1/call/summary.json"
    assert recording.video == "results/1/call/annotated.mp4"
    assert call.options.fps == 2.0  # the options every call was read with until then
