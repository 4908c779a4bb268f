"""The app's entry script (``streamlit run``): the page frame, the sign-in, and the pages the
signed-in person's roles open (:data:`capstone.app.access.PAGES`)."""

from pathlib import Path

import streamlit as st

from capstone.app.access import PAGES, may_open
from capstone.app.context import shared_app
from capstone.app.database import DatabaseError
from capstone.app.gate import current_viewer, sign_in_link, sign_out_button

st.set_page_config(page_title="Show Me The Money", page_icon=":money_with_wings:", layout="wide")
try:
    app = shared_app()  # once per server: the database, the demo library, the workers
except DatabaseError as err:
    st.error(str(err))
    st.stop()

viewer = current_viewer(app)
if viewer is None:
    sign_in_link()
    st.stop()
sign_out_button(app, viewer)

SCREENS = Path(__file__).parent / "screens"
navigation = st.navigation(
    [
        st.Page(
            SCREENS / page.script,
            title=page.title,
            icon=page.icon,
            default=page.script == "home.py",
        )
        for page in PAGES
        if may_open(viewer, page.script)
    ]
)
navigation.run()
