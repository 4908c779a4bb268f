"""The app's cast: users of each role in two sales teams, signed in; and its databases: SQLite
in the app's folder, and a real PostgreSQL server that the tests start themselves."""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from capstone.app.accounts import add_user, sign_in

PASSWORD = "correct horse battery"
#: name -> (roles, team): an admin, managers of two teams, their reps, an admin who manages.
CAST: dict[str, tuple[str, str]] = {
    "Ada": ("admin", ""),
    "Mia": ("manager", "east"),
    "Max": ("manager", "west"),
    "Ana": ("rep", "east"),
    "Ben": ("rep", "east"),
    "Wes": ("rep", "west"),
    "Ola": ("admin,manager", "east"),
}


def cast(engine: Engine) -> dict[str, str]:
    """Add :data:`CAST` and sign each in; name -> session token."""
    tokens = {}
    for name, (roles, team) in CAST.items():
        add_user(engine, name, roles, PASSWORD, team)
        tokens[name] = sign_in(engine, name, PASSWORD)
    return tokens


@pytest.fixture(scope="session")
def add_cast() -> Callable[[Engine], dict[str, str]]:
    """:func:`cast`, for the fixtures that build a library."""
    return cast


#: Why the PostgreSQL tests skip where no server can be had, and how to get one.
NO_POSTGRES = (
    "PostgreSQL is not installed: apt-get install postgresql (nox -s tests installs it where "
    "it runs as root)"
)


def _postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (``initdb``, ``pg_ctl``), if installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return Path(debian[-1]).parent if debian else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of this test process, on a free port of this machine, gone at the
    end; yields its URL without a database name. As root (CI), it runs as Debian's
    ``postgres`` user, since PostgreSQL refuses to run as root."""
    programs = _postgres_bin()
    if programs is None:
        pytest.skip(NO_POSTGRES)
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root and (shutil.which("runuser") is None or _no_user("postgres")):
        pytest.skip("running as root without a postgres user: " + NO_POSTGRES)
    folder = Path(tempfile.mkdtemp(prefix="capstone-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, log = folder / "data", folder / "log"
    subprocess.run(
        [
            *prefix,
            str(programs / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "capstone",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *prefix,
            str(programs / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    try:
        yield f"postgresql://capstone@127.0.0.1:{port}"
    finally:
        gc.collect()  # the tests' engines close their connections while the server still runs
        subprocess.run(
            [*prefix, str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


_databases = itertools.count()


def new_postgres_database(server: str) -> str:
    """The URL of a new, empty database on the test's PostgreSQL ``server``."""
    from sqlalchemy import create_engine, text

    name = f"test_{os.getpid()}_{next(_databases)}"
    admin = create_engine(
        server.replace("postgresql:", "postgresql+psycopg:") + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def new_database() -> Callable[[str], str]:
    """:func:`new_postgres_database`, for the fixtures that build a library."""
    return new_postgres_database


@pytest.fixture
def postgres_url(postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; the engines the test made on it are
    closed after it."""
    from capstone.app import database

    made: list[Engine] = []
    real = database.engine_for

    def engine_for(*args, **kwargs) -> Engine:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(database, "engine_for", engine_for)
    yield new_postgres_database(postgres_server)
    for engine in made:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each backend in turn for the test: SQLite in the app's folder (the default), or a new
    PostgreSQL database given as ``CAPSTONE_DATABASE_URL``, as a team's server gives it; every
    command and :func:`capstone.app.database.database_url` then reach it."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("CAPSTONE_DATABASE_URL", url)
    else:
        monkeypatch.delenv("CAPSTONE_DATABASE_URL", raising=False)
    return request.param
