"""New call: upload, see who was found, say what the call was and who is who, and follow the
annotation (it runs in a worker: closing the page does not stop it). A rep's calls are their
own; a manager adds a call for one of their team's reps. Only a rep may read their own face
(self-review, for them alone)."""

import datetime as dt
import secrets
import shutil

import streamlit as st

from capstone.app.accounts import users
from capstone.app.audit import record
from capstone.app.context import MAX_UPLOAD_MB
from capstone.app.database import Call, DatabaseError, session
from capstone.app.details import OFFERINGS, OUTCOMES, ROLE_WORDS, STAGES, USE_WORDS
from capstone.app.erasure import sweep_staging
from capstone.app.folders import staging_folder
from capstone.app.gate import require
from capstone.app.services import first_look, job_of, save_call, stage_times, states
from capstone.app.uploads import Upload, UploadError, check_uploads, stored_name
from capstone.calls.metadata import SELF_REVIEW, CallInfoError, People, Person
from capstone.formats import MEDIA_SUFFIXES

app, viewer = require("new_call.py")
sweep_staging(app.data)  # uploads never saved go after an hour
if viewer.has("rep"):
    owners = {viewer.name: viewer}
else:
    owners = {u.name: u for u in users(app.engine) if u.has("rep") and u.team == viewer.team}
    if not owners:
        st.warning(f"Team {viewer.team} has no rep yet: ask your admin to add one.")
        st.stop()
st.title("New call")
st.caption(
    f"A recording (mp4, mov, webm, mkv, avi) or screenshots; up to {MAX_UPLOAD_MB} MB a file."
)
files = st.file_uploader(
    "The call", type=[s.lstrip(".") for s in MEDIA_SUFFIXES], accept_multiple_files=True
)
uploads = [Upload(f.name, f.getvalue()) for f in files or []]
if st.button("Find the participants", disabled=not uploads):
    try:
        kind = check_uploads(uploads, MAX_UPLOAD_MB)
        token = st.session_state.setdefault("staging", secrets.token_hex(8))
        staging = staging_folder(app.data, viewer.id, token)
        staging.mkdir(parents=True, exist_ok=True)
        names = [stored_name(up, i) for i, up in enumerate(uploads)]  # never the user's path
        for name, up in zip(names, uploads, strict=True):
            (staging / name).write_bytes(up.data)
        with st.spinner("Looking for faces..."):
            st.session_state["look"] = (kind, first_look(staging, names))
    except UploadError as err:
        st.error(str(err))

look = st.session_state.get("look")
if look and uploads:
    kind, found = look
    if not found:
        st.warning(
            "No face was found in the first look. You can still save the call; every "
            "face found later stays unnamed, so nobody's expressions are read."
        )
    with st.form("details"):
        st.subheader("Who is who")
        people = {}
        for column, person in zip(st.columns(max(1, len(found))), found, strict=False):
            column.image(person.tile, caption=person.id)
            role = column.selectbox("role", list(ROLE_WORDS), index=3, key=f"role_{person.id}")
            name = column.text_input("name", key=f"name_{person.id}")
            people[person.id] = Person(ROLE_WORDS[role], name.strip())
        st.subheader("The call")
        title = st.text_input("What to call it", placeholder="Demo with Acme")
        date = st.date_input("Date of the call", value=dt.date.today())
        left, right = st.columns(2)
        rep = left.selectbox("The rep", list(owners))
        rep_role = right.text_input("The rep's role", placeholder="Account Executive")
        team = left.text_input("Other team members on the call", placeholder="a solutions engineer")
        stage = right.selectbox("Pipeline stage", STAGES, index=None, placeholder="choose")
        stakeholders = left.number_input("Stakeholders on the call, salespeople aside", 1, 50, 1)
        outcome = right.selectbox("Outcome", OUTCOMES, index=None, placeholder="choose")
        industry = left.text_input("Industry sold into")
        offering = right.radio("A good or a service", OFFERINGS, horizontal=True)
        product = left.text_input("The product, in a word or two")
        times = right.text_area("Pitch stages (optional)", placeholder="intro 0:00, demo 4:30")
        informed = st.radio(
            "Were the participants told their expressions are analysed? (EU AI Act, Art. 50(3))",
            ["yes", "no", "not recorded"],
            index=None,  # no default: the user must say
            horizontal=True,
        )
        uses = list(USE_WORDS) if viewer.has("rep") else list(USE_WORDS)[:1]
        use = st.radio("Whose expressions are read", uses)
        share = st.checkbox("Share this call's details for the team's benchmarks")
        submitted = st.form_submit_button("Save and annotate")
    if submitted:
        missing = [
            w
            for w, v in (
                ("a title", title),
                ("the pipeline stage", stage),
                ("the outcome", outcome),
                ("whether the participants were told", informed),
            )
            if not v
        ]
        try:
            if missing:
                raise UploadError(f"Say {', '.join(missing)}; nothing was saved yet.")
            who = People(people)  # one rep, and each name in one role
            check_uploads(uploads, MAX_UPLOAD_MB)
            call = Call(
                title=title.strip(),
                call_date=date,
                rep=owners[rep].name,
                owner_id=owners[rep].id,
                sales_team=owners[rep].team,
                rep_role=rep_role.strip(),
                team=team.strip(),
                stage=stage,
                outcome=outcome,
                stakeholders=int(stakeholders),
                industry=industry.strip(),
                offering=offering,
                product=product.strip(),
                share=share and USE_WORDS[use] != SELF_REVIEW,
                use=USE_WORDS[use],
                people=who,
                stage_times=stage_times(times),
                informed={"yes": True, "no": False}.get(informed or ""),
                kind=kind,
            )
            st.session_state["saved"] = save_call(app.engine, app.data, call, uploads)
            record(app.engine, viewer.name, "added", st.session_state["saved"])
            st.session_state.pop("look", None)
            token = st.session_state.pop("staging", "-")
            shutil.rmtree(staging_folder(app.data, viewer.id, token), ignore_errors=True)
        except (UploadError, CallInfoError, DatabaseError) as err:
            st.error(str(err))

saved: int | None = st.session_state.get("saved")
if saved is not None:

    @st.fragment(run_every=1.0)
    def _progress(saved: int = saved) -> None:  # refreshed every second while it annotates
        state = states(app.engine).get(saved, "waiting to start")
        job = job_of(app.engine, saved)
        with session(app.engine) as s:
            call = s.get(Call, saved)
        st.success(f"Saved **{call.title if call else saved}**; its details are kept.")
        st.progress(job.progress if job else 0.0, text=f"Annotation: {state}")
        if state == "done":
            st.page_link("screens/calls.py", label="Open it on the Calls page")

    _progress()
