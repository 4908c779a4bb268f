"""What every page of the app shares: its folder, its database and its workers.

``capstone app`` passes the folder and its settings in the environment (``CAPSTONE_APP_DATA``,
``CAPSTONE_DATABASE_URL``, ``CAPSTONE_SCHEDULER``, ``CAPSTONE_APP_WORKERS``), so that the
pages, the tests (Streamlit's ``AppTest``) and a server started by hand read them alike; what
is not there comes from the folder's ``capstone.toml`` (:mod:`capstone.app.settings`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from capstone.app.database import open_database
from capstone.app.demo import seed_demo
from capstone.app.erasure import sweep_staging
from capstone.app.jobs import recover, start_workers, stop_workers
from capstone.app.settings import Settings, read_settings

#: The largest upload the app takes, in megabytes (a 10-minute 720p recording is ~100 MB).
MAX_UPLOAD_MB = 500


@dataclass
class AppContext:
    """The app's folder, its database engine, and the workers started for it: processes of
    this machine, or the dispatcher that hands jobs to a Dask cluster."""

    data: Path
    url: str
    engine: Engine
    workers: list[Any] = field(default_factory=list)
    dispatcher: Any = None

    def stop(self) -> None:
        """Stop the workers (their jobs go back to the queue) and the dispatcher."""
        stop_workers(self.workers)
        if self.dispatcher is not None:
            self.dispatcher.stop()


def app_settings(data: str | Path | None = None, url: str | None = None) -> Settings:
    """The app's settings: its folder (made if missing) as given or from the environment,
    and the rest from :func:`capstone.app.settings.read_settings`."""
    folder = Path(data or os.environ.get("CAPSTONE_APP_DATA", "capstone-app")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    workers = os.environ.get("CAPSTONE_APP_WORKERS")
    return read_settings(
        folder, database_url=url, workers=int(workers) if workers is not None else None
    )


def open_app(data: str | Path | None = None, url: str | None = None) -> AppContext:
    """Open the app's folder: migrate its database, queue again what a stopped worker left,
    remove uploads staged but never saved, add the demo library to an empty one, and start
    the workers (processes here, or a dispatcher to the Dask cluster the settings name)."""
    settings = app_settings(data, url)
    engine = open_database(settings.database_url)
    recover(engine)
    sweep_staging(settings.data)
    if os.environ.get("CAPSTONE_APP_DEMO", "1") != "0":
        seed_demo(engine, settings.data)
    context = AppContext(settings.data, settings.database_url, engine)
    if settings.scheduler:
        from capstone.app.cluster import Dispatcher

        context.dispatcher = Dispatcher.start(settings)
    else:
        context.workers = start_workers(settings.database_url, settings.data, settings.workers)
    return context


def shared_app() -> AppContext:
    """The server's one :class:`AppContext`, opened by the first page that asks for it."""
    import streamlit as st

    return st.cache_resource(show_spinner="Opening the app's folder...")(open_app)()
