"""Calls: the calls the signed-in person may see, as a table to sort and filter; a call's page
(also at ``?call=<number>``) with its summary, video, timelines, talk and reactions; its
readings to download; a rep's self-review; its details to edit; and deleting it. Opening,
downloading, editing and deleting are written to the audit log."""

import json

import pandas as pd
import streamlit as st

from capstone.app.access import (
    SELF_REVIEW,
    AccessDenied,
    call_for,
    calls_for,
    can_change,
    can_export,
    can_self_review,
)
from capstone.app.audit import record
from capstone.app.database import Call, session
from capstone.app.details import OUTCOMES, STAGES
from capstone.app.erasure import delete_call
from capstone.app.gate import file_address, require
from capstone.app.insights import SHOWN, calls_table, filtered
from capstone.app.routes import READINGS
from capstone.app.services import start_self_review, states
from capstone.app.tables import in_words
from capstone.app.uploads import UploadError
from capstone.calls.result import CallResult, Talk
from capstone.calls.summary import reaction_table, stage_table, talk_table

app, viewer = require("calls.py")
st.title("Calls")
if said := st.session_state.pop("said", None):  # what the last action did, kept over its rerun
    st.success(said)
asked = st.query_params.get("call")
if asked is not None:  # a link to one call: refused in the same words if it is not theirs
    try:
        call_for(app.engine, viewer, int(asked) if asked.isdigit() else -1)
    except AccessDenied as err:
        st.error(str(err))
        st.stop()
everything = calls_for(app.engine, viewer)
table = calls_table(everything, states(app.engine))
left, middle, right = st.columns(3)
reps = left.multiselect("Rep", sorted(table["rep"].unique()))
stages = middle.multiselect("Stage", [s for s in STAGES if s in set(table["stage"])])
outcomes = right.multiselect("Outcome", [o for o in OUTCOMES if o in set(table["outcome"])])
shown = filtered(table, rep=reps, stage=stages, outcome=outcomes)
formats = {m.words: SHOWN[m.shown] for m in Talk.metrics()}
listed = in_words(shown.drop(columns="id"), formats=formats)
st.dataframe(
    listed,
    hide_index=True,
    width="stretch",
    column_config={  # the metrics measured in every call listed: numbers that sort
        **{
            words: st.column_config.NumberColumn(format=form)
            for words, form in formats.items()
            if pd.api.types.is_numeric_dtype(listed[words])
        },
        "date": st.column_config.DateColumn(),
    },
)
st.caption(f"{len(shown)} of {len(table)} calls. Readings are perceived expressions, not feelings.")
if shown.empty:
    st.stop()

titles: dict[int, str] = {int(r.id): f"{r.call} ({r.date})" for r in shown.itertuples()}
ids = list(titles)
# The picker and the link agree: a link that changed (opened, pasted, or the browser's back)
# chooses the call; a call chosen in the picker becomes the link.
if asked != st.session_state.get("linked") and asked and asked.isdigit() and int(asked) in ids:
    st.session_state["open_call"] = int(asked)
if st.session_state.get("open_call") not in ids:
    st.session_state["open_call"] = ids[0]
chosen = st.selectbox("Open a call", ids, key="open_call", format_func=lambda i: titles[i])
try:
    call = call_for(app.engine, viewer, chosen)
except AccessDenied:
    st.warning("That call was just deleted.")
    st.stop()
st.query_params["call"] = st.session_state["linked"] = str(call.id)
viewed = st.session_state.setdefault("viewed", set())
if call.id not in viewed:  # once per session and call
    record(app.engine, viewer.name, "viewed", call.id)
    viewed.add(call.id)

st.header(call.title)
st.caption(
    f"Stage: {call.stage} · outcome: {call.outcome} · rep: {call.rep or 'not said'} · "
    f"industry: {call.industry or 'not said'}"
)
if call.use == SELF_REVIEW:
    st.info("Your self-review: your own expressions, for you alone. Nobody else sees it.")
status = states(app.engine).get(call.id, "")
if status != "done":
    st.info(f"Annotation: {status}. This page fills in when it is done.")
else:
    st.success(call.results.headline or "No prospect's expressions were read in this call.")
results = call.results
summaries = [
    CallResult.from_json(json.loads((app.data / str(o.summary)).read_text()))
    for o in results.recordings
]
moments = [(r, m) for r in summaries for m in [*r.moments, *r.reaction_moments]]
if moments:  # a button per moment where a reading changed: the video starts there
    st.write("Moments where a prospect's reading changed (the video starts there):")
    for column, (read, m) in zip(st.columns(min(4, len(moments))), moments, strict=False):
        person = (
            read.participants[m.participant].called if m.participant in read.participants else ""
        )
        said = f"{person or m.participant} at {m.time:.0f} s: {m.was} → {m.now}"
        if column.button(said, key=f"m{m.time}{m.participant}"):
            st.session_state[f"start_{call.id}"] = int(m.time)
for recording in results.recordings:
    start = st.session_state.get(f"start_{call.id}", 0)
    st.video(file_address(app, call.id, str(recording.video)), start_time=start)
for shot in results.screenshots:
    st.image(
        file_address(app, call.id, str(shot.picture)),
        caption="each face labelled; staff never read",
    )
for outputs, summary in zip(results.recordings, summaries, strict=True):
    tabs = st.tabs(["Moments", "Timelines", "Talk", "Reactions"])
    moments_figure = app.data / str(outputs.moments_figure)
    with tabs[0]:
        if moments_figure.is_file() and summary.moments:
            figure = file_address(app, call.id, str(outputs.moments_figure))
            st.image(figure, caption="only where a reading changed")
        else:
            st.write("No reading changed enough to show a moment.")
    with tabs[1]:
        st.image(
            file_address(app, call.id, str(outputs.timeline_figure)),
            caption="perceived expressions, shaded while speaking",
        )
        participants = file_address(app, call.id, str(outputs.participants_figure))
        st.image(participants, caption="who is who")
    with tabs[2]:
        st.dataframe(in_words(talk_table(summary)), width="stretch")
        if not summary.talk.known_share:
            st.caption(
                "Who spoke is not known for this recording: it has no voice track and no "
                "active-speaker outline, so talk times are not measured (not zero)."
            )
    with tabs[3]:
        st.dataframe(in_words(reaction_table(summary)), width="stretch")
        st.dataframe(in_words(stage_table(summary)), width="stretch")
        if (app.data / str(outputs.reactions_figure)).is_file():
            st.image(file_address(app, call.id, str(outputs.reactions_figure)))

if can_export(viewer, call) and results.outputs:
    st.link_button("Download the readings", file_address(app, call.id, READINGS))
if can_self_review(viewer, call) and st.button("Review my own expressions (for me alone)"):
    try:
        review = start_self_review(app.engine, app.data, viewer, call.id)
    except (AccessDenied, UploadError) as err:
        st.error(str(err))
    else:
        record(app.engine, viewer.name, SELF_REVIEW, review)
        st.success("Your self-review is queued; it appears in your calls, visible to you alone.")

if not can_change(viewer, call):
    st.stop()
with st.expander("Edit the details"), st.form(f"edit_{call.id}"):
    title = st.text_input("Title", call.title)
    stage = st.selectbox(
        "Pipeline stage", STAGES, index=STAGES.index(call.stage) if call.stage in STAGES else 0
    )
    outcome = st.selectbox(
        "Outcome", OUTCOMES, index=OUTCOMES.index(call.outcome) if call.outcome in OUTCOMES else 0
    )
    industry = st.text_input("Industry", call.industry)
    share = st.checkbox("Shared for the benchmarks", call.share)
    if st.form_submit_button("Save the details"):
        with session(app.engine) as s:
            stored = s.get(Call, call.id)
            if stored is not None:
                stored.title, stored.stage, stored.outcome = (
                    title.strip() or stored.title,
                    stage,
                    outcome,
                )
                stored.industry = industry.strip()
                stored.share = share and stored.use != SELF_REVIEW
        record(app.engine, viewer.name, "edited", call.id)
        st.session_state["said"] = "Saved the details."
        st.rerun()

with st.expander("Delete this call"):
    st.write(
        "This deletes the call's details, its recording or screenshots, its results and "
        "any self-review of it, for good."
    )
    if st.button("Delete it for good", type="primary"):
        delete_call(app.engine, app.data, call.id)
        record(app.engine, viewer.name, "deleted", call.id)
        st.query_params.clear()
        st.session_state["said"] = f"Deleted {call.title!r}, its media and its results."
        st.rerun()
