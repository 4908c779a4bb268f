"""Serving the app: ``capstone app`` runs Streamlit's server on :mod:`capstone.app.asgi` (the
pages of :mod:`capstone.app.main`, with the sign-in and file routes), and the folder and the
database reach them through the environment (:mod:`capstone.app.context`)."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from capstone.app.accounts import MIN_PASSWORD, AccountError, Viewer, add_user, users
from capstone.app.context import MAX_UPLOAD_MB
from capstone.app.database import open_database, shown
from capstone.app.settings import Settings
from capstone.errors import CapstoneError

LOCAL = ("127.0.0.1", "localhost", "::1")


def first_account(
    engine: Engine,
    ask: Callable[[str], str] | None = None,
    ask_secret: Callable[[str], str] | None = None,
    say: Callable[[str], None] = print,
    tries: int = 3,
) -> Viewer:
    """Ask, at a terminal, for the folder's first account: an admin who also manages a sales
    team (name, team, password twice; by default ``input`` and ``getpass``). A refused answer
    is said and asked again, ``tries`` times in all.

    Raises
    ------
    CapstoneError
        If no account was made in ``tries`` attempts, or the answers ended (Ctrl-D, Ctrl-C).
    """
    ask, ask_secret = ask or input, ask_secret or getpass.getpass
    say("Nobody can sign in to this folder yet: make the first account, an admin who also")
    say("manages a sales team (more users later on the Users page, or capstone users add).")
    try:
        for _ in range(tries):
            name, team = ask("Your name: ").strip(), ask("Your sales team: ").strip()
            password = ask_secret(f"A password (at least {MIN_PASSWORD} characters): ")
            if password != ask_secret("The password again: "):
                say("The two passwords differ; once more.")
                continue
            try:
                return add_user(engine, name, "admin,manager", password, team)
            except AccountError as err:
                say(f"{err}; once more.")
    except (EOFError, KeyboardInterrupt):
        say("")
    raise CapstoneError("no account was made; start the app again to make one")


def serve(settings: Settings, *, host: str, port: int) -> int:
    """Serve the app on ``host:port`` for the folder and database of ``settings`` until it is
    stopped; returns 0 for a stop asked for (TERM, Ctrl-C), else Streamlit's exit status. A
    database that cannot be opened stops here, saying why. A folder nobody can sign in to
    asks for its first account at a terminal, and is refused without one."""
    data = settings.data
    data.mkdir(parents=True, exist_ok=True)
    engine = open_database(settings.database_url)
    if not users(engine):
        if not sys.stdin.isatty():
            raise CapstoneError(
                f"nobody can sign in to {data} yet: add the first user, e.g. capstone users add "
                f"--data {data} --name YOUR-NAME --role admin,manager --team YOUR-TEAM (it asks "
                "for the password), or start the app from a terminal, where it asks"
            )
        made = first_account(engine)
        print(f"added {made.name} (admin, manager of {made.team}): sign in with that name")  # noqa: T201
    engine.dispose()
    if host not in LOCAL:
        print(  # noqa: T201 -- the command's own warning, before the server's output
            f"warning: serving on {host}, beyond this machine, without TLS: put a "
            "TLS-terminating proxy in front before anyone else uses it",
            file=sys.stderr,
        )
    env = {
        **os.environ,
        "CAPSTONE_APP_DATA": str(data.resolve()),
        "CAPSTONE_DATABASE_URL": settings.database_url,
        "CAPSTONE_APP_WORKERS": str(max(0, settings.workers)),
    }
    if settings.scheduler:
        env["CAPSTONE_SCHEDULER"] = settings.scheduler
    options = {
        "server.address": host,
        "server.port": port,
        "server.headless": "true",
        "browser.gatherUsageStats": "false",
        "server.maxUploadSize": MAX_UPLOAD_MB,
        "server.fileWatcherType": "none",
        "client.toolbarMode": "minimal",
    }
    command = [sys.executable, "-m", "streamlit", "run", str(Path(__file__).parent / "asgi.py")]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    where = f"folder {data}, database {shown(settings.database_url)}"
    if settings.scheduler:
        where += f", jobs on the Dask cluster at {settings.scheduler}"
    print(f"Show Me The Money: http://{host}:{port} ({where})")  # noqa: T201
    server = subprocess.Popen(command, env=env)
    # A TERM to `capstone app` (a script, a test, a process manager) stops the server too,
    # and its workers with it; a stop asked for is a clean end (status 0).
    before = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        status = server.wait()
    except KeyboardInterrupt:  # Ctrl-C: the server has it too; wait for it to stop
        server.terminate()
        status = server.wait()
    finally:
        signal.signal(signal.SIGTERM, before)
    return 0 if status in (-signal.SIGTERM, -signal.SIGINT) else status
