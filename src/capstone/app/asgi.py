"""The app's server (``streamlit run`` on this file, which ``capstone app`` does): Streamlit's
pages (:mod:`capstone.app.main`) with the app's own routes and its sign-in gate beside them
(:mod:`capstone.app.routes`)."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from capstone.app.routes import ROUTES, SignInFirst

app = st.App(
    Path(__file__).with_name("main.py"), routes=ROUTES, middleware=[Middleware(SignInFirst)]
)
