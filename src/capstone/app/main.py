"""The app's entry script (``streamlit run``): the page frame and the navigation."""

from pathlib import Path

import streamlit as st

from capstone.app.context import shared_app
from capstone.app.database import DatabaseError

st.set_page_config(page_title="Show Me The Money", page_icon=":money_with_wings:", layout="wide")
try:
    shared_app()  # once per server: the database, the demo library, the workers
except DatabaseError as err:
    st.error(str(err))
    st.stop()

SCREENS = Path(__file__).parent / "screens"
navigation = st.navigation(
    [
        st.Page(SCREENS / "home.py", title="Home", icon=":material/home:", default=True),
        st.Page(SCREENS / "new_call.py", title="New call", icon=":material/upload:"),
        st.Page(SCREENS / "calls.py", title="Calls", icon=":material/table:"),
        st.Page(SCREENS / "benchmarks.py", title="Benchmarks", icon=":material/insights:"),
    ]
)
navigation.run()
