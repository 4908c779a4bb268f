"""What every page of the app shares: its folder, its database and its worker processes.

``capstone app`` passes the folder and the database in the environment
(``CAPSTONE_APP_DATA``, ``CAPSTONE_DATABASE_URL``, ``CAPSTONE_APP_WORKERS``), so that the
pages, the tests (Streamlit's ``AppTest``) and a server started by hand read them alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from capstone.app.database import database_url, open_database
from capstone.app.demo import seed_demo
from capstone.app.erasure import sweep_staging
from capstone.app.jobs import recover, start_workers

#: The largest upload the app takes, in megabytes (a 10-minute 720p recording is ~100 MB).
MAX_UPLOAD_MB = 500


@dataclass
class AppContext:
    """The app's folder, its database engine, and the workers started for it."""

    data: Path
    url: str
    engine: Engine
    workers: list[Any] = field(default_factory=list)


def app_settings(data: str | Path | None = None, url: str | None = None) -> tuple[Path, str]:
    """The app's folder (made if missing) and its database URL: as given, or from the
    environment, or the defaults."""
    folder = Path(data or os.environ.get("CAPSTONE_APP_DATA", "capstone-app")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder, url or os.environ.get("CAPSTONE_DATABASE_URL") or database_url(folder)


def open_app(data: str | Path | None = None, url: str | None = None) -> AppContext:
    """Open the app's folder: migrate its database, queue again what a stopped worker left,
    remove uploads staged but never saved, add the demo library to an empty one, and start
    the worker processes."""
    folder, url = app_settings(data, url)
    engine = open_database(url)
    recover(engine)
    sweep_staging(folder)
    if os.environ.get("CAPSTONE_APP_DEMO", "1") != "0":
        seed_demo(engine, folder)
    workers = start_workers(url, folder, int(os.environ.get("CAPSTONE_APP_WORKERS", "1")))
    return AppContext(folder, url, engine, workers)


def shared_app() -> AppContext:
    """The server's one :class:`AppContext`, opened by the first page that asks for it."""
    import streamlit as st

    return st.cache_resource(show_spinner="Opening the app's folder...")(open_app)()
