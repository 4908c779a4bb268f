"""Serving the app: ``capstone app`` runs Streamlit's server on :mod:`capstone.app.asgi` (the
pages of :mod:`capstone.app.main`, with the sign-in and file routes), and the folder and the
database reach them through the environment (:mod:`capstone.app.context`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from capstone.app.accounts import users
from capstone.app.context import MAX_UPLOAD_MB
from capstone.app.database import database_url as default_url
from capstone.app.database import open_database
from capstone.errors import CapstoneError

LOCAL = ("127.0.0.1", "localhost", "::1")


def serve(
    data: Path, *, host: str, port: int, workers: int = 1, database_url: str | None = None
) -> int:
    """Serve the app on ``host:port`` for the folder ``data`` until it is stopped; returns
    Streamlit's exit status. A database that cannot be opened, or a folder nobody can sign in
    to, stops here, saying why."""
    data.mkdir(parents=True, exist_ok=True)
    url = database_url or default_url(data)
    if not users(open_database(url)):
        raise CapstoneError(
            f"nobody can sign in to {data} yet: add the first user, e.g. capstone users add "
            f"--data {data} --name YOUR-NAME --role admin,manager --team YOUR-TEAM (it asks for "
            "the password), then start the app again"
        )
    if host not in LOCAL:
        print(  # noqa: T201 -- the command's own warning, before the server's output
            f"warning: serving on {host}, beyond this machine, without TLS: put a "
            "TLS-terminating proxy in front before anyone else uses it",
            file=sys.stderr,
        )
    env = {
        **os.environ,
        "CAPSTONE_APP_DATA": str(data.resolve()),
        "CAPSTONE_DATABASE_URL": url,
        "CAPSTONE_APP_WORKERS": str(max(0, workers)),
    }
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
    print(f"Show Me The Money: http://{host}:{port} (folder {data})")  # noqa: T201
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
