"""Home: what the app tells and what it does not, how long calls are kept, and an example
call (one the signed-in person may see)."""

import streamlit as st

from capstone.app.access import calls_for
from capstone.app.erasure import retention_days
from capstone.app.gate import file_address, require

app, viewer = require("home.py")
st.title("Show Me The Money")
st.markdown(
    "Upload a sales call, say what it was, and see how the **prospects' faces likely came "
    "across**, when, and while whom was talking; then compare your calls."
)
left, right = st.columns(2)
left.markdown(
    """
**What it tells you**

- how each prospect's face would *likely be read by people*, moment by moment
  (a reading of 62% happy means about 6 in 10 people would see the face as happy);
- when those readings changed, and who was talking then;
- how the rep shared the talk;
- how your calls compare, by stage, outcome and industry.
"""
)
right.markdown(
    """
**What it does not tell you**

- what anyone *felt*: faces do not reliably show feelings, and a neutral face on a call
  is often someone listening;
- anything about the rep or colleagues: staff faces are never read (EU AI Act,
  Art. 5(1)(f)); a rep may review their own call, for themselves alone;
- a verdict on a person. Use the readings to prompt a coaching conversation.
"""
)
st.caption(
    "Everyone on a call must be told that their expressions are analysed (EU AI Act, "
    "Art. 50(3)); each call records whether they were. "
    f"Calls are kept {retention_days(app.engine)} days after the call, then deleted "
    "(your admin sets this)."
)
if not viewer.sees_calls:
    st.info("As an admin you manage users, retention and erasure; you see no call.")
    st.stop()
st.subheader("An example call")
done = [c for c in calls_for(app.engine, viewer) if c.results.outputs]
if not done:
    st.info("The demo calls are being prepared; they appear on the Calls page as they finish.")
else:
    example = done[-1]
    st.markdown(f"**{example.title}** ({example.stage}, {example.outcome})")
    st.success(example.results.headline or "No prospect's expressions were read in this call.")
    recordings, screenshots = example.results.recordings, example.results.screenshots
    if recordings:
        st.video(file_address(app, example.id, str(recordings[0].video)))
    elif screenshots:
        st.image(file_address(app, example.id, str(screenshots[0].picture)))
