"""The door of every page: who is signed in, :func:`require`, which each page calls first,
and the way to the sign-in for a visitor.

The sign-in itself is a page of its own (:mod:`capstone.app.routes`), which leaves the session
token in an HttpOnly cookie; a session started in Streamlit's session state (the tests'
``AppTest``) counts too. Either is checked against the database on every page run, so an
expired, ended or revoked session is refused at the next click.
"""

from __future__ import annotations

import html
import urllib.parse

import streamlit as st

from capstone.app.access import may_open
from capstone.app.accounts import Viewer, sign_out, viewer_of
from capstone.app.audit import record
from capstone.app.context import AppContext, shared_app
from capstone.app.routes import COOKIE, FILES, SIGN_IN

TOKEN = "token"


def _token() -> str | None:
    cookie = st.context.cookies.get(COOKIE)  # not a str where no browser sent one (AppTest)
    return cookie if isinstance(cookie, str) and cookie else st.session_state.get(TOKEN)


def current_viewer(app: AppContext) -> Viewer | None:
    """Who is signed in on this browser, or ``None``."""
    return viewer_of(app.engine, _token())


def require(page: str) -> tuple[AppContext, Viewer]:
    """The app and the signed-in person, if they may open ``page`` (a page file's name);
    otherwise the page stops here, showing nothing of it."""
    app = shared_app()
    viewer = current_viewer(app)
    if viewer is None:
        st.error("Sign in first.")
        st.stop()
    if not may_open(viewer, page):
        st.error("This page is not open to your role.")
        st.stop()
    return app, viewer


def sign_in_link() -> None:
    """What a visitor without a live session sees: the way to the sign-in, and back here."""
    st.title("Show Me The Money")
    st.info("Your session has ended, or you have not signed in yet.")
    here = urllib.parse.urlsplit(st.context.url or "/").path or "/"
    query = urllib.parse.urlencode(dict(st.query_params.items()))
    asked = here + (f"?{query}" if query else "")
    where = html.escape(f"{SIGN_IN}?{urllib.parse.urlencode({'next': asked})}")
    st.markdown(f'<a href="{where}" target="_self">Sign in</a>', unsafe_allow_html=True)


def sign_out_button(app: AppContext, viewer: Viewer) -> None:
    """Who is signed in, and the button that ends the session on the server (in the sidebar)."""
    st.sidebar.caption(f"Signed in as **{viewer.name}** ({', '.join(sorted(viewer.roles))})")
    if st.sidebar.button("Sign out"):
        sign_out(app.engine, _token())
        st.session_state.pop(TOKEN, None)
        record(app.engine, viewer.name, "signed out")
        st.rerun()


def file_address(app: AppContext, call_id: int, name: str) -> str:
    """Where the browser fetches a call's file (``name``, relative to the app's folder): the
    app's file route, which answers only to a session allowed to see the call. Without a
    browser (a script run by ``AppTest``), the file itself."""
    origin = urllib.parse.urlsplit(st.context.url or "")
    if not origin.netloc:
        return str(app.data / name)
    return f"{origin.scheme}://{origin.netloc}{FILES}/{call_id}/{urllib.parse.quote(name)}"
