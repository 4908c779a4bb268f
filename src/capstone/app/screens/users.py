"""Users (admins only): who may sign in, with which roles and team; add and remove them."""

import streamlit as st

from capstone.app.accounts import (
    MIN_PASSWORD,
    ROLES,
    AccountError,
    add_user,
    locked_names,
    remove_user,
    unlock,
    users,
)
from capstone.app.audit import record
from capstone.app.gate import require

app, viewer = require("users.py")
st.title("Users")
people = users(app.engine)
st.dataframe(
    [{"name": u.name, "roles": ", ".join(sorted(u.roles)), "team": u.team} for u in people],
    hide_index=True,
    width="stretch",
)
st.caption(
    "A manager sees the calls of their team's reps (prospects' readings only); a rep sees "
    "their own calls; an admin sees no call unless also a manager."
)

with st.form("add_user", clear_on_submit=True):
    st.subheader("Add a user")
    name = st.text_input("Name")
    roles = st.multiselect("Roles", ROLES)
    team = st.text_input("Team (managers and reps)")
    password = st.text_input(f"Password (at least {MIN_PASSWORD} characters)", type="password")
    if st.form_submit_button("Add"):
        try:
            add_user(app.engine, name, ",".join(roles), password, team)
        except AccountError as err:
            st.error(str(err))
        else:
            record(app.engine, viewer.name, "users")
            st.rerun()

locked = locked_names(app.engine)
if locked:
    with st.form("unlock"):
        st.subheader("Unlock a name")
        st.caption(
            "Too many failed sign-ins lock a name for 15 minutes (from one address, or from "
            "everywhere after many); each lock is in the audit log."
        )
        name = st.selectbox("Locked name", locked)
        if st.form_submit_button("Unlock"):
            unlock(app.engine, name, by=viewer.name)
            st.rerun()

others = [u.name for u in people if u.id != viewer.id]
if others:
    with st.form("remove_user"):
        st.subheader("Remove a user")
        gone = st.selectbox("User", others)
        if st.form_submit_button("Remove (their sessions end; their calls stay with the team)"):
            remove_user(app.engine, gone)
            record(app.engine, viewer.name, "users")
            st.rerun()
