"""The door of every page: the sign-in form, and :func:`require`, which each page calls first.

The session token lives in Streamlit's session state (it ends with the browser tab) and is
checked against the database on every page run, so an expired or revoked session is refused
at the next click.
"""

from __future__ import annotations

import streamlit as st

from capstone.app.access import may_open
from capstone.app.accounts import AccountError, Viewer, sign_in, sign_out, viewer_of
from capstone.app.audit import record
from capstone.app.context import AppContext, shared_app

TOKEN = "token"


def current_viewer(app: AppContext) -> Viewer | None:
    """Who is signed in on this browser tab, or ``None``."""
    return viewer_of(app.engine, st.session_state.get(TOKEN))


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


def sign_in_form(app: AppContext) -> None:
    """The only thing an anonymous visitor sees."""
    st.title("Show Me The Money")
    if st.session_state.pop(TOKEN, None):
        st.info("Your session ended; sign in again.")
    with st.form("sign_in"):
        name = st.text_input("Name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            address = st.context.ip_address or ""  # the client's, as the server sees it
            st.session_state[TOKEN] = token = sign_in(app.engine, name, password, address)
        except AccountError as err:
            st.error(str(err))
        else:
            viewer = viewer_of(app.engine, token)
            record(app.engine, viewer.name if viewer else name.strip(), "signed in")
            st.rerun()
    st.caption("No account? Ask your admin (capstone users add).")


def sign_out_button(app: AppContext, viewer: Viewer) -> None:
    """Who is signed in, and the button that ends it (in the sidebar)."""
    st.sidebar.caption(f"Signed in as **{viewer.name}** ({', '.join(sorted(viewer.roles))})")
    if st.sidebar.button("Sign out"):
        sign_out(app.engine, st.session_state.pop(TOKEN, None))
        record(app.engine, viewer.name, "signed out")
        st.rerun()
