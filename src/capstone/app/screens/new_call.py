"""New call: upload, see who was found, say what the call was and who is who, and follow the
annotation (it runs in a worker: closing the page does not stop it)."""

import datetime as dt

import streamlit as st

from capstone.app.context import MAX_UPLOAD_MB, shared_app
from capstone.app.database import Call, DatabaseError, session
from capstone.app.details import OFFERINGS, OUTCOMES, ROLE_WORDS, STAGES, USE_WORDS
from capstone.app.views import (
    Upload,
    UploadError,
    check_people,
    check_uploads,
    first_look,
    job_of,
    safe_name,
    save_call,
    stage_times,
    states,
)
from capstone.formats import MEDIA_SUFFIXES

app = shared_app()
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
        staging = (
            app.data / "staging" / st.session_state.setdefault("staging", str(id(st.session_state)))
        )
        staging.mkdir(parents=True, exist_ok=True)
        names = [safe_name(up.name, i) for i, up in enumerate(uploads)]  # never the user's path
        for name, up in zip(names, uploads, strict=True):
            (staging / name).write_bytes(up.data)
        with st.spinner("Looking for faces..."):
            st.session_state["look"] = (kind, first_look(staging, names, kind))
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
            people[person.id] = {"role": ROLE_WORDS[role], "name": name.strip()}
        st.subheader("The call")
        title = st.text_input("What to call it", placeholder="Demo with Acme")
        date = st.date_input("Date of the call", value=dt.date.today())
        left, right = st.columns(2)
        rep = left.text_input("The rep's name")
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
            horizontal=True,
        )
        use = st.radio("Whose expressions are read", list(USE_WORDS))
        share = st.checkbox("Share this call's details for the team's benchmarks")
        submitted = st.form_submit_button("Save and annotate")
    if submitted:
        missing = [
            w
            for w, v in (
                ("a title", title),
                ("the pipeline stage", stage),
                ("the outcome", outcome),
            )
            if not v
        ]
        try:
            if missing:
                raise UploadError(f"Say {', '.join(missing)}; nothing was saved yet.")
            check_people(people)
            check_uploads(uploads, MAX_UPLOAD_MB)
            call = Call(
                title=title.strip(),
                call_date=date,
                rep=rep.strip(),
                rep_role=rep_role.strip(),
                team=team.strip(),
                stage=stage,
                outcome=outcome,
                stakeholders=int(stakeholders),
                industry=industry.strip(),
                offering=offering,
                product=product.strip(),
                share=share,
                use=USE_WORDS[use],
                people=people,
                stage_times=stage_times(times),
                informed={"yes": True, "no": False}.get(informed),
                kind=kind,
            )
            st.session_state["saved"] = save_call(app.engine, app.data, call, uploads)
            st.session_state.pop("look", None)
        except (UploadError, DatabaseError) as err:
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
