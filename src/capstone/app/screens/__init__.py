"""The app's pages, run by Streamlit as scripts (capstone.app.main lists them)."""
