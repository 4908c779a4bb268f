"""The app's server (``streamlit run`` on this file, which ``capstone app`` does): Streamlit's
pages (:mod:`capstone.app.main`) with the app's own routes and its sign-in gate beside them
(:mod:`capstone.app.routes`). The folder is opened as the server starts (its database
migrated, the demo library queued, the workers started), not at the first signed-in page, and
its workers stop with the server."""

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from capstone.app.context import shared_app
from capstone.app.routes import ROUTES, SignInFirst


@contextlib.asynccontextmanager
async def _opened(_app: Any) -> AsyncIterator[None]:
    # The pages' own shared context, opened before any page runs (so no page's run context:
    # Streamlit's warning about that is expected here).
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        opened = await run_in_threadpool(shared_app)
    finally:
        quiet.setLevel(level)
    try:
        yield
    finally:  # the server stops: so do its workers, their jobs queued again
        await run_in_threadpool(opened.stop)


app = st.App(
    Path(__file__).with_name("main.py"),
    routes=ROUTES,
    middleware=[Middleware(SignInFirst)],
    lifespan=_opened,
)
