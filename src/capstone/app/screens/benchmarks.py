"""Benchmarks: the seed's, on this library's shared calls, each figure with its count and a
95% interval; "too few calls to say" below a threshold; coaching prompts only where the data
support them. Only the calls the signed-in person may see count: a manager's team's, a rep's
own."""

import streamlit as st

from capstone.app.access import calls_for
from capstone.app.gate import require
from capstone.app.insights import (
    GROUPINGS,
    MIN_CALLS,
    TOO_FEW,
    counted,
    demo_counted,
    forward_in_words,
    outcomes_by,
    reactions_by_stage,
    readings_in_words,
    recommendations,
)
from capstone.app.tables import in_words

app, viewer = require("benchmarks.py")
st.title("Benchmarks")
seen = calls_for(app.engine, viewer)
pool = counted(seen)
if demo_counted(seen):
    st.info(
        f"These figures include the demo calls, until your team has {MIN_CALLS} calls of its "
        "own shared for the benchmarks; from then on the demo calls are left out."
    )
st.caption(
    f"{len(pool)} calls shared for the benchmarks (self-review calls never count). A group "
    f"needs {MIN_CALLS} calls before it gets a figure. Intervals are 95%."
)
if not pool:
    st.info("No shared calls yet: tick 'Share this call's details' when you add one.")
    st.stop()

st.subheader("Which calls moved forward")
tabs = st.tabs([f"by {g}" for g in GROUPINGS])
for tab, grouping in zip(tabs, GROUPINGS, strict=True):
    with tab:
        table = outcomes_by(pool, grouping)
        st.dataframe(in_words(table, TOO_FEW), hide_index=True, width="stretch")
        shown = table.dropna(subset=["share moved forward (%)"])
        if len(shown):
            st.bar_chart(
                shown.set_index(grouping)["share moved forward (%)"],
                horizontal=True,
                y_label="calls that moved forward (%)",
                x_label="",
            )
        st.caption(f"In words: {forward_in_words(table, grouping)}")

st.subheader("How the prospects' faces likely came across, by stage")
expression = st.selectbox("Perceived expression", ["happy", "neutral", "surprise", "sad"])
readings = reactions_by_stage(pool, expression)
if not readings:
    st.write("No finished call with prospects' readings yet.")
else:
    rows = [
        {
            "stage": r.stage,
            "calls": "moved forward" if r.forward else "did not",
            "number of calls": r.calls,
            f"{expression} readings (%)": round(100 * r.mean) if r.calls >= MIN_CALLS else None,
            "95% interval (%)": f"{100 * r.low:.0f}-{100 * r.high:.0f}"
            if r.calls >= MIN_CALLS
            else "too few calls to say",
        }
        for r in readings
    ]
    st.dataframe(in_words(rows, TOO_FEW), hide_index=True, width="stretch")
    chart = [
        {"stage": r["stage"], "calls": r["calls"], "readings (%)": r[f"{expression} readings (%)"]}
        for r in rows
        if r[f"{expression} readings (%)"] is not None
    ]
    if chart:
        st.bar_chart(chart, x="stage", y="readings (%)", color="calls", stack=False)
    st.caption(f"In words: {readings_in_words(readings)}")

st.subheader("Coaching prompts")
prompts = recommendations(pool)
if prompts:
    for line in prompts:
        st.markdown(f"- {line}")
else:
    st.write(
        "Nothing the data support yet: a prompt needs enough calls on both sides and a "
        "difference larger than their intervals."
    )
