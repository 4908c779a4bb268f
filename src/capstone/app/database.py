"""The app's database: the calls' details, the annotation jobs, and each call's results.

SQLite in the app's folder by default (write-ahead log, so pages and workers read and write at
once), through SQLAlchemy, so that a team can give ``--database-url`` for PostgreSQL. The
schema has a version, kept in the ``meta`` table; :func:`migrate` brings an older database up
to :data:`SCHEMA_VERSION` one step at a time and refuses a newer one. Timelines stay in the
Parquet store (:mod:`capstone.library.parquet_store`).

SQLite deletes securely (``secure_delete``: a deleted row's bytes are overwritten) and
:func:`checkpoint` empties the write-ahead log, so an erased call leaves nothing on disk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from capstone.app.findings import Findings
from capstone.app.folders import DATABASE_FILE
from capstone.calls.metadata import People, StageTimes
from capstone.calls.request import CallOutputs, ReadingOptions
from capstone.calls.result import Talk
from capstone.errors import CapstoneError

#: The schema the code reads and writes. 1: calls, jobs, meta. 2: users, their sign-ins and
#: sessions, the audit log, and each call's owner, sales team and self-review link. 3: each
#: call's reading options, and its results as one typed value (:class:`Findings`: the
#: prospects' shares and the talk metrics in place of the columns ``prospects_reading``
#: and ``talk_ratio``). 4: the address a failed sign-in came from, and the name an audit
#: entry is about (a lock, an unlock).
SCHEMA_VERSION = 4


class DatabaseError(CapstoneError):
    """The database cannot be opened, is locked for too long, or is newer than this code."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Typed(TypeDecorator):
    """A JSON column holding one typed value, written by its ``to_json`` and read back by
    its class's ``from_json``: the pages and the worker never handle free dicts."""

    impl = JSON
    cache_ok = True

    def __init__(self, kind: type) -> None:
        super().__init__()
        self.kind: Any = kind

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.to_json()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.kind.from_json(value)


class Base(DeclarativeBase):
    type_annotation_map = {list[str]: JSON}  # noqa: RUF012 -- SQLAlchemy's


class Call(Base):
    """A call: what the manager said it was, who is who, its media, and its results."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    call_date: Mapped[dt.date | None]
    rep: Mapped[str] = mapped_column(String(100), default="")
    rep_role: Mapped[str] = mapped_column(String(100), default="")
    team: Mapped[str] = mapped_column(String(300), default="")  # the other staff, in words
    stage: Mapped[str] = mapped_column(String(60), default="")
    outcome: Mapped[str] = mapped_column(String(60), default="")
    stakeholders: Mapped[int] = mapped_column(default=1)
    industry: Mapped[str] = mapped_column(String(100), default="")
    offering: Mapped[str] = mapped_column(String(20), default="")  # a good or a service
    product: Mapped[str] = mapped_column(String(100), default="")
    share: Mapped[bool] = mapped_column(default=False)  # opted in to the benchmarks
    use: Mapped[str] = mapped_column(String(20), default="customers")
    informed: Mapped[bool | None]
    people: Mapped[People] = mapped_column(Typed(People), default=People)  # who is who
    stage_times: Mapped[StageTimes] = mapped_column(Typed(StageTimes), default=StageTimes)
    media: Mapped[list[str]] = mapped_column(default=list)  # file names under media/<id>/
    kind: Mapped[str] = mapped_column(String(20), default="recording")  # or screenshots
    demo: Mapped[bool] = mapped_column(default=False)
    options: Mapped[ReadingOptions] = mapped_column(Typed(ReadingOptions), default=ReadingOptions)
    # filled when the annotation is done
    results: Mapped[Findings] = mapped_column(Typed(Findings), default=Findings)
    # who may see it (version 2): the rep it belongs to, their sales team, and for a
    # self-review the call it reviews
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sales_team: Mapped[str] = mapped_column(String(100), default="")
    review_of: Mapped[int | None]


class User(Base):
    """A person who signs in: their roles (``admin``, ``manager``, ``rep``, comma-separated)
    and sales team; the password only as a slow salted hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    roles: Mapped[str] = mapped_column(String(50))
    team: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class SignIn(Base):
    """A session: the hash of its token (the token itself lives only in the browser's
    session), its user, and when it expires."""

    __tablename__ = "sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    expires_at: Mapped[dt.datetime]


class FailedSignIn(Base):
    """A failed sign-in, by the name tried (for the rate limit); no password is kept."""

    __tablename__ = "failed_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")  # where it came from
    at: Mapped[dt.datetime] = mapped_column(default=now)


class AuditEntry(Base):
    """Who did what to which call, and when: no content and no secrets."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=now)
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    call_id: Mapped[int | None]
    about: Mapped[str] = mapped_column(String(100), default="")  # a name locked or unlocked


class Job(Base):
    """One annotation of one call, run by a worker process; ``progress`` from 0 to 1."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(default="")
    worker_pid: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


VERSION_1 = ("calls", "jobs", "meta")
#: The columns version 2 adds to the calls table.
CALL_COLUMNS_2 = {
    "owner_id": "INTEGER REFERENCES users(id) ON DELETE SET NULL",
    "sales_team": "VARCHAR(100) DEFAULT '' NOT NULL",
    "review_of": "INTEGER",
}


def _version_1(connection: Any) -> None:
    tables = [Base.metadata.tables[name] for name in VERSION_1]
    Base.metadata.create_all(connection, tables=tables)


def _version_2(connection: Any) -> None:
    Base.metadata.create_all(connection)  # the new tables; existing ones are left as they are
    have = {c["name"] for c in inspect(connection).get_columns("calls")}
    for name, kind in CALL_COLUMNS_2.items():
        if name not in have:  # a database made by version 1 (a new one has them already)
            connection.execute(text(f"ALTER TABLE calls ADD COLUMN {name} {kind}"))


def _version_3(connection: Any) -> None:
    """Add the reading options; fold ``results``, ``headline``, ``prospects_reading`` and
    ``talk_ratio`` into one :class:`Findings` per call, then drop the columns it replaces.
    (A database made by this version has its columns already.)"""
    have = {c["name"] for c in inspect(connection).get_columns("calls")}
    if "options" not in have:
        connection.execute(text("ALTER TABLE calls ADD COLUMN options JSON"))
    if "talk_ratio" not in have:
        return
    rows = connection.execute(text("SELECT id, results, headline, talk_ratio FROM calls"))
    for call_id, results, headline, talk_ratio in rows.all():
        old = json.loads(results) if isinstance(results, str) else (results or {})
        findings = legacy_findings(old, headline, talk_ratio)
        connection.execute(
            text("UPDATE calls SET results = :r, options = :o WHERE id = :i"),
            {
                "r": json.dumps(findings.to_json()),
                "o": json.dumps(ReadingOptions().to_json()),
                "i": call_id,
            },
        )
    for column in ("headline", "prospects_reading", "talk_ratio"):
        connection.execute(text(f"ALTER TABLE calls DROP COLUMN {column}"))


def legacy_findings(
    results: dict[str, Any],  # the JSON a schema-2 database kept, read once to migrate it
    headline: str,
    talk_ratio: float | None,
) -> Findings:
    """The :class:`Findings` of a call's results as schema 2 kept them: lists of files by
    kind (relative to the app's folder), the prospects' shares, and columns of their own."""
    recordings = [Path(f).parent for f in results.get("summaries", [])]
    pictures = [Path(f) for f in results.get("pictures", [])]
    outputs = [CallOutputs.of_recording(f.name).under(f.parent.as_posix()) for f in recordings]
    outputs += [
        CallOutputs.of_screenshot(f.name.removesuffix("_annotated.png")).under(f.parent.as_posix())
        for f in pictures
    ]
    return Findings(
        tuple(outputs),
        results.get("prospect_shares") or {},
        Talk(talk_listen_ratio=talk_ratio) if recordings else None,
        headline or "",
    )


def _version_4(connection: Any) -> None:
    """Keep the address each failed sign-in came from (earlier ones: unknown, ``""``), and
    the name an audit entry is about."""
    for table, column, kind in (
        ("failed_sign_ins", "address", "VARCHAR(64)"),
        ("audit", "about", "VARCHAR(100)"),
    ):
        if column not in {c["name"] for c in inspect(connection).get_columns(table)}:
            connection.execute(
                text(f"ALTER TABLE {table} ADD COLUMN {column} {kind} DEFAULT '' NOT NULL")
            )


#: version -> the step that brings a database of the version before up to it.
MIGRATIONS: dict[int, Callable[[Any], None]] = {
    1: _version_1,
    2: _version_2,
    3: _version_3,
    4: _version_4,
}


def database_url(folder: str | Path) -> str:
    """The default database of an app folder: ``capstone.sqlite`` in it."""
    return f"sqlite:///{Path(folder).resolve() / DATABASE_FILE}"


def open_database(url: str, timeout: float = 30.0) -> Engine:
    """An engine on ``url``, migrated to :data:`SCHEMA_VERSION`.

    SQLite waits up to ``timeout`` seconds for another process's write (then
    :class:`DatabaseError` says so) and keeps a write-ahead log, so readers never wait for a
    writer.
    """
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": timeout} if sqlite else {})
    if sqlite and engine.url.database not in (None, "", ":memory:"):
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

    try:
        migrate(engine)
    except OperationalError as err:
        raise DatabaseError(locked_message(url, err)) from err
    return engine


def locked_message(url: str, err: Exception) -> str:
    """What to tell a user when the database cannot be used."""
    if "locked" in str(err):
        return (
            f"the database {url} is locked by another program; close it (or wait for it to "
            "finish) and try again. Nothing was lost."
        )
    return f"the database {url} cannot be opened ({err}); check the folder and its permissions"


def checkpoint(engine: Engine) -> None:
    """Empty SQLite's write-ahead log into the database (whose deleted rows are already
    overwritten), so that no copy of a deleted row stays in the log file."""
    if engine.url.get_backend_name() == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def schema_version(engine: Engine) -> int:
    """The database's schema version; 0 for an empty database."""
    if not inspect(engine).has_table("meta"):
        return 0
    with engine.connect() as connection:
        value = connection.execute(text("SELECT value FROM meta WHERE key = 'schema_version'"))
        row = value.first()
    return int(row[0]) if row else 0


def migrate(engine: Engine) -> int:
    """Apply the migrations the database lacks, each in its own transaction; return the
    version it is at."""
    version = schema_version(engine)
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database {engine.url} has schema {version}, newer than this capstone "
            f"({SCHEMA_VERSION}); upgrade capstone to open it"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with engine.begin() as connection:
            MIGRATIONS[target](connection)
            connection.execute(
                text("DELETE FROM meta WHERE key = 'schema_version'")
                if target > 1
                else text("SELECT 1")
            )
            connection.execute(
                text("INSERT INTO meta (key, value) VALUES ('schema_version', :v)"),
                {"v": str(target)},
            )
    return SCHEMA_VERSION


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on an error."""
    with sessionmaker(engine, expire_on_commit=False).begin() as s:
        yield s


def calls(engine: Engine) -> list[Call]:
    """Every call, newest first."""
    with session(engine) as s:
        return list(s.scalars(select(Call).order_by(Call.created_at.desc(), Call.id.desc())))


def enqueue(engine: Engine, call_id: int) -> int:
    """Queue the annotation of a call; returns the job's id."""
    with session(engine) as s:
        job = Job(call_id=call_id)
        s.add(job)
        s.flush()
        return job.id
