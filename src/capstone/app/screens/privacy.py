"""Retention and erasure (admins only): how long calls are kept, erasing everything about a
person, and the audit log (who did what to which call, by number: no content)."""

import streamlit as st

from capstone.app.audit import DEMO_REMOVED, log_table, record
from capstone.app.demo import demo_ids, remove_demo
from capstone.app.erasure import (
    apply_retention,
    calls_of_person,
    erase_person,
    expired,
    retention_days,
    set_retention_days,
)
from capstone.app.gate import require
from capstone.app.tables import in_words

app, viewer = require("privacy.py")
st.title("Retention and erasure")

st.subheader("Retention")
with st.form("retention"):
    days = st.number_input(
        "Keep calls this many days after the call", 1, 36_500, retention_days(app.engine)
    )
    if st.form_submit_button("Save"):
        set_retention_days(app.engine, int(days))
        record(app.engine, viewer.name, "retention")
        st.rerun()
due = expired(app.engine)
st.write(
    f"{len(due)} calls are past it. `capstone retention --data FOLDER` deletes them; run it "
    "daily from cron."
)
if due and st.button("Delete them now"):
    for call_id in apply_retention(app.engine, app.data):
        record(app.engine, viewer.name, "retention", call_id)
    st.rerun()

st.subheader("Erase a person")
st.write(
    "Deletes every call that records the person: as a named participant, as the rep, or as "
    "the user the calls belong to (their recordings, results and self-reviews)."
)
with st.form("erase"):
    name = st.text_input("The person's name, as it was given")
    sure = st.checkbox("I understand this cannot be undone")
    if st.form_submit_button("Erase"):
        found = calls_of_person(app.engine, name)
        if not found:
            st.info("No call records that name.")
        elif not sure:
            st.warning(f"{len(found)} calls record that name; tick the box to erase them.")
        else:
            for call_id in erase_person(app.engine, app.data, name):
                record(app.engine, viewer.name, "erased", call_id)
            st.success(f"Erased {len(found)} calls.")

if demo_ids(app.engine):
    st.subheader("The demo library")
    st.write(
        "The demo calls (composed from a painted portrait: nobody's data) show what the app "
        "does; nobody may edit them. Remove them once your team has calls of its own."
    )
    if st.button("Remove the demo library for good"):
        gone = remove_demo(app.engine, app.data)
        record(app.engine, viewer.name, DEMO_REMOVED)
        st.success(f"Removed {len(gone)} demo calls.")

st.subheader("Audit log")
st.dataframe(in_words(log_table(app.engine), "", {"call": "%d"}), hide_index=True, width="stretch")
