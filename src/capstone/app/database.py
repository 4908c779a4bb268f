"""The app's database: the calls' details, the annotation jobs, and each call's results.

SQLite in the app's folder by default (write-ahead log, so pages and workers read and write at
once), or PostgreSQL for a team's server (psycopg 3), through SQLAlchemy; the folder's settings
say which (:mod:`capstone.app.settings`). The schema has a version: :func:`migrate` brings an
older database up to :data:`SCHEMA_VERSION` with Alembic, a version at a time (the files in
``migrations/versions/``), and refuses a newer one. Timelines stay in the Parquet store
(:mod:`capstone.library.parquet_store`).

SQLite deletes securely (``secure_delete``: a deleted row's bytes are overwritten) and
:func:`checkpoint` empties the write-ahead log, so an erased call leaves nothing on disk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, create_engine, event, inspect, select, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from capstone.app.findings import Findings
from capstone.app.settings import read_settings
from capstone.calls.metadata import People, StageTimes
from capstone.calls.request import ReadingOptions
from capstone.errors import CapstoneError

#: The schema the code reads and writes. 1: calls, jobs, meta. 2: users, their sign-ins and
#: sessions, the audit log, and each call's owner, sales team and self-review link. 3: each
#: call's reading options, and its results as one typed value (:class:`Findings`: the
#: prospects' shares and the talk metrics in place of the columns ``prospects_reading``
#: and ``talk_ratio``). 4: the address a failed sign-in came from, and the name an audit
#: entry is about (a lock, an unlock). 5: a job's worker by name and its lease; the version in
#: Alembic's table. Each is a file in ``migrations/versions/``.
SCHEMA_VERSION = 5


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
    options: Mapped[ReadingOptions] = mapped_column(  # nullable, as schema 3 added it
        Typed(ReadingOptions), default=ReadingOptions, nullable=True
    )
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
    """One annotation of one call, run by a worker (a process here, or a Dask task);
    ``progress`` from 0 to 1."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(default="")
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid, or a Dask task's key
    heartbeat_at: Mapped[dt.datetime | None]  # renewed while it runs: its lease
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


def database_url(folder: str | Path) -> str:
    """The database of an app folder, as its settings give it (:mod:`capstone.app.settings`:
    ``CAPSTONE_DATABASE_URL``, else ``capstone.toml`` in it, else SQLite in it)."""
    return read_settings(folder).database_url


def shown(url: str | URL) -> str:
    """``url`` as it may be shown or logged: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL given"


def engine_for(url: str, timeout: float = 30.0) -> Engine:
    """An engine on ``url`` (not yet connected), PostgreSQL through psycopg 3.

    Raises
    ------
    DatabaseError
        If ``url`` is not a database URL, names a kind of database SQLAlchemy does not know,
        or needs a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise DatabaseError(
            f"{url!r} is not a database URL; give e.g. postgresql://USER@HOST/NAME or "
            "sqlite:///PATH (CAPSTONE_DATABASE_URL, --database-url or capstone.toml)"
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    sqlite = parsed.get_backend_name() == "sqlite"
    try:
        engine = create_engine(
            parsed, connect_args={"timeout": timeout} if sqlite else {"connect_timeout": 10}
        )
    except NoSuchModuleError as err:
        raise DatabaseError(
            f"{shown(parsed)}: SQLAlchemy knows no database {parsed.drivername!r}; the app "
            "runs on sqlite:/// and postgresql://"
        ) from err
    except ModuleNotFoundError as err:
        raise DatabaseError(
            f"{shown(parsed)} needs the driver {err.name!r}, which is not installed: pip install "
            "'show-me-the-money-calls[server]' (psycopg 3, for PostgreSQL)"
        ) from err
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

    return engine


def open_database(url: str, timeout: float = 30.0) -> Engine:
    """An engine on ``url``, migrated to :data:`SCHEMA_VERSION`.

    SQLite waits up to ``timeout`` seconds for another process's write (then
    :class:`DatabaseError` says so) and keeps a write-ahead log, so readers never wait for a
    writer. A database that cannot be reached, or is newer than this code, is refused in one
    sentence (:class:`DatabaseError`).
    """
    engine = engine_for(url, timeout)
    try:
        migrate(engine)
    except OperationalError as err:
        raise DatabaseError(locked_message(shown(engine.url), err)) from err
    return engine


def locked_message(url: str, err: Exception) -> str:
    """What to tell a user when the database cannot be used (``url`` as :func:`shown`)."""
    if "locked" in str(err):
        return (
            f"the database {url} is locked by another program; close it (or wait for it to "
            "finish) and try again. Nothing was lost."
        )
    reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
    if url.startswith("sqlite"):
        return (
            f"the database {url} cannot be opened ({reason}); check the folder and its permissions"
        )
    return (
        f"the database {url} cannot be reached ({reason}); check that the server runs, that "
        "the URL names it, and that its user may sign in (a password goes in ~/.pgpass or "
        "PGPASSWORD)"
    )


def checkpoint(engine: Engine) -> None:
    """After a deletion: empty SQLite's write-ahead log into the database (whose deleted rows
    are already overwritten), so that no copy of a deleted row stays in the log file; on
    PostgreSQL, ``VACUUM`` the tables that name people, so that their dead rows' space is
    taken back for reuse (PostgreSQL has no secure delete: the bytes go when it is reused)."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    elif backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM calls, jobs, users, sign_ins, failed_sign_ins"))


def _alembic(connection: Connection) -> Any:
    """Alembic's configuration for the app's migrations, on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config


def schema_version(engine: Engine) -> int:
    """The database's schema version: Alembic's revision (``0004`` is 4), or as versions 1-4
    kept it in ``meta``; 0 for an empty database."""
    tables = inspect(engine)
    with engine.connect() as connection:
        if tables.has_table("alembic_version"):
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return int(revision) if revision and revision.isdigit() else -1
        if tables.has_table("meta"):
            value = connection.execute(
                text("SELECT value FROM meta WHERE key = 'schema_version'")
            ).scalar()
            return int(value) if value else 0
    return 0


def migrate(engine: Engine) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION` with Alembic, one version at a time,
    each in its own transaction; return the version it is at. A database that versions 1-4
    made (its version in ``meta``) is first marked as that version for Alembic.

    Raises
    ------
    DatabaseError
        If the database is newer than this code.
    """
    from alembic import command

    version = schema_version(engine)
    if version > SCHEMA_VERSION or version < 0:
        raise DatabaseError(
            f"the database {shown(engine.url)} has a schema newer than this capstone "
            f"(version {SCHEMA_VERSION}); upgrade capstone to open it"
        )
    if version == SCHEMA_VERSION:
        return version
    with engine.connect() as connection:
        config = _alembic(connection)
        if version and not inspect(connection).has_table("alembic_version"):
            command.stamp(config, f"{version:04d}")
        command.upgrade(config, f"{SCHEMA_VERSION:04d}")
        connection.commit()
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
