"""The manager's app, page by page, headless (Streamlit's AppTest), on a demo library whose
jobs run here instead of in worker processes; signed in as a manager (the cast of
tests/app/conftest.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import streamlit as st
from matplotlib import cbook
from streamlit.testing.v1 import AppTest

from capstone.app.database import Call, calls, open_database, session
from capstone.app.jobs import run_pending
from capstone.calls.metadata import Person
from capstone.synthetic.layouts import gallery_frame

MAIN = Path(__file__).resolve().parents[2] / "src/capstone/app/main.py"
TIMEOUT = 60

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, add_cast: Callable) -> Path:
    """An app folder with the first six calls of the demo library, annotated (short ones)."""
    folder = tmp_path_factory.mktemp("app")
    with pytest.MonkeyPatch.context() as mp:
        _environment(mp, folder)
        app = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT)
        app.run()  # the first visit opens the folder and adds the demo library
        assert not app.exception
        engine = open_database(f"sqlite:///{folder}/capstone.sqlite")
        assert run_pending(engine, folder) == 6
        (folder / "tokens.json").write_text(json.dumps(add_cast(engine)))
    return folder


def _environment(mp: pytest.MonkeyPatch, folder: Path) -> None:
    mp.setenv("CAPSTONE_APP_DATA", str(folder))
    mp.delenv("CAPSTONE_DATABASE_URL", raising=False)
    mp.setenv("CAPSTONE_APP_WORKERS", "0")  # the tests run the jobs themselves
    mp.setenv("CAPSTONE_APP_DEMO_SECONDS", "2")
    mp.setenv("CAPSTONE_APP_DEMO_CALLS", "6")  # the first six: one stage, a figure
    st.cache_resource.clear()


@pytest.fixture
def app(library: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    _environment(monkeypatch, library)
    at = AppTest.from_file(str(MAIN), default_timeout=TIMEOUT)
    at.session_state["token"] = _tokens(library)["Mia"]  # a manager
    at.run()
    assert not at.exception
    return at


def _tokens(library: Path) -> dict[str, str]:
    return json.loads((library / "tokens.json").read_text())


def _walk(block):
    for child in getattr(block, "children", {}).values():
        yield child
        yield from _walk(child)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.success]
    parts += (
        [e.value for e in at.info] + [e.value for e in at.error] + [c.value for c in at.caption]
    )
    return "\n".join(str(p) for p in parts)


def test_home_says_what_the_readings_mean_and_shows_a_demo_call(app: AppTest) -> None:
    assert app.title[0].value == "Show Me The Money"
    text = _text(app)
    assert "What it does not tell you" in text and "Art. 5(1)(f)" in text
    assert "looked mostly" in text  # the example call's summary, in words


def test_the_calls_page_lists_the_demo_calls_in_words(app: AppTest) -> None:
    at = app.switch_page("screens/calls.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 6 and "prospects looked" in table.columns
    assert not any("_" in c for c in table.columns)  # words, never raw column names
    assert "looked mostly" in _text(at)
    at.multiselect[0].set_value(["Ana (demo)"]).run()
    assert set(at.dataframe[0].value["rep"]) == {"Ana (demo)"}


def _shown(at: AppTest) -> list[str]:
    """Every word a page shows: its text, its tables' headers and cells, its choices."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "success", "info", "error")
    shown = [str(e.value) for kind in kinds for e in at.get(kind)]
    shown += [str(w.label) for kind in ("button", "selectbox", "radio") for w in at.get(kind)]
    shown += [str(o) for box in at.selectbox for o in box.options]
    for frame in at.dataframe:
        table = frame.value
        assert not table.isna().to_numpy().any(), table  # an empty cell shows "None"
        shown += [str(c) for c in table.columns] + [str(v) for v in table.to_numpy().ravel()]
    return shown


def test_no_page_shows_none_nan_or_a_raw_column_name(library: Path, app: AppTest) -> None:
    engine = open_database(f"sqlite:///{library}/capstone.sqlite")
    visits = []
    for name, pages in (
        ("Mia", ("home", "calls", "benchmarks", "new_call")),
        ("Ada", ("users", "privacy")),
    ):
        app.session_state["token"] = _tokens(library)[name]
        app.run()  # the navigation this person's roles open
        visits += [app.switch_page(f"screens/{page}.py").run() for page in pages]
    app.session_state["token"] = _tokens(library)["Mia"]
    app.run()
    for call in calls(engine):  # every demo call's page, every tab
        app.query_params["call"] = str(call.id)
        visits.append(app.switch_page("screens/calls.py").run())
    for at in visits:
        assert not at.exception
        for text in _shown(at):
            assert not re.search(r"\b(None|nan|NaN|NaT)\b", text), text
            assert not re.fullmatch(r"[a-z]+(_[a-z]+)+", text), text  # a raw column name


def test_the_call_picker_and_the_link_agree(library: Path, app: AppTest) -> None:
    engine = open_database(f"sqlite:///{library}/capstone.sqlite")
    first, second, third = (c for c in calls(engine)[:3])
    at = app.switch_page("screens/calls.py").run()
    for call in (first, second, third, first):  # one after the other, from the picker
        at.selectbox(key="open_call").set_value(call.id).run()
        assert at.header[0].value == call.title
        assert at.query_params["call"] == str(call.id)
    at.query_params["call"] = str(second.id)  # a link opened (or the browser's back)
    at.run()
    assert at.header[0].value == second.title
    at.selectbox(key="open_call").set_value(third.id).run()  # and the picker again
    assert at.header[0].value == third.title


def test_a_calls_details_can_be_edited_and_the_call_deleted(library: Path, app: AppTest) -> None:
    from capstone.app.accounts import users

    engine = open_database(f"sqlite:///{library}/capstone.sqlite")
    ana = next(u for u in users(engine) if u.name == "Ana")
    with session(engine) as s:  # a call of the team's own (the demo calls are read-only)
        mine = Call(title="a real call", rep="Ana", owner_id=ana.id, sales_team="east")
        s.add(mine)
    demo = next(c for c in calls(engine) if c.demo)
    at = app.switch_page("screens/calls.py").run()
    at.selectbox(key="open_call").set_value(demo.id).run()
    assert not any(b.label == "Save the details" for b in at.button)  # nobody edits the demo
    at.selectbox(key="open_call").set_value(mine.id).run()
    at.text_input[0].set_value("renamed call")
    next(b for b in at.button if b.label == "Save the details").click().run()
    assert "renamed call" in {c.title for c in calls(engine)}
    assert "Saved the details." in _text(at)  # kept on screen over the rerun
    at.selectbox(key="open_call").set_value(mine.id).run()
    next(b for b in at.button if "Delete" in str(b.label)).click().run()
    assert mine.id not in {c.id for c in calls(engine)}
    assert "Deleted 'renamed call'" in _text(at)


def test_the_benchmarks_page_shows_figures_with_counts_and_intervals(app: AppTest) -> None:
    at = app.switch_page("screens/benchmarks.py").run()
    assert not at.exception
    by_stage = at.dataframe[0].value
    assert by_stage["calls"].tolist() == [6]  # the demo's first six: one stage
    assert re.fullmatch(r"\d+-\d+", by_stage["95% interval (%)"][0])
    text = _text(at)
    assert "calls shared for the benchmarks" in text
    charts = [e for e in _walk(at.main) if getattr(e, "type", "") == "vega_lite_chart"]
    assert charts  # (a prompt needs five calls on each side: the browser's manager's week)
    assert "In words: 2. Qualifying: 50% moved forward (95% interval" in text


def test_a_screenshot_uploaded_is_saved_before_work_and_annotated(
    library: Path, app: AppTest
) -> None:
    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    _, png = cv2.imencode(".png", gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    at = app.switch_page("screens/new_call.py").run()
    at.get("file_uploader")[0].upload("call.png", png.tobytes(), "image/png").run()
    _button(at, "Find the participants").click().run()
    assert not at.exception and not at.error
    assert at.selectbox  # a role (and a tile) for each face found
    at.selectbox[0].set_value("the rep")
    at.selectbox[1].set_value("a prospect")
    at.text_input[1].set_value("Dana")  # P2's name
    at.text_input[2].set_value("Screenshot call")
    stage = next(s for s in at.selectbox if s.label == "Pipeline stage")
    stage.set_value("4. Demo/Pitch")
    outcome = next(s for s in at.selectbox if s.label == "Outcome")
    outcome.set_value("Closed Sale")
    _button(at, "Save and annotate").click().run()
    assert "whether the participants were told" in at.error[0].value  # no default: asked
    next(r for r in at.radio if "told" in r.label).set_value("yes")
    _button(at, "Save and annotate").click().run()
    assert not at.error, [e.value for e in at.error]
    engine = open_database(f"sqlite:///{library}/capstone.sqlite")
    with session(engine) as s:
        saved = s.query(Call).filter_by(title="Screenshot call").one()
    assert saved.people.by_id["P2"] == Person("prospect", "Dana")
    assert (library / "media" / str(saved.id) / "01.png").is_file()  # saved before any work
    assert run_pending(engine, library) == 1
    with session(engine) as s:
        done = s.get(Call, saved.id)
    assert done.results.screenshots


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.png", b"", "is empty"),
        ("notes.mp4", b"hello", "read from its content"),
        ("broken.png", b"\x89PNG\r\n\x1a\n broken", "not a picture that can be read"),
    ],
)
def test_a_bad_upload_is_refused_with_what_to_do(
    app: AppTest, name: str, content: bytes, says: str
) -> None:
    at = app.switch_page("screens/new_call.py").run()
    at.get("file_uploader")[0].upload(name, content).run()
    _button(at, "Find the participants").click().run()
    assert says in " ".join(e.value for e in at.error)


def test_a_picture_without_faces_says_so_and_can_still_be_saved(app: AppTest) -> None:
    blank = cv2.imencode(".png", np.zeros((120, 160, 3), np.uint8))[1]
    at = app.switch_page("screens/new_call.py").run()
    at.get("file_uploader")[0].upload("blank.png", blank.tobytes(), "image/png").run()
    _button(at, "Find the participants").click().run()
    assert "No face was found" in " ".join(w.value for w in at.warning)


def test_missing_details_are_asked_for_and_nothing_is_saved(library: Path, app: AppTest) -> None:
    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    _, png = cv2.imencode(".png", gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    engine = open_database(f"sqlite:///{library}/capstone.sqlite")
    before = len(calls(engine))
    at = app.switch_page("screens/new_call.py").run()
    at.get("file_uploader")[0].upload("call.png", png.tobytes(), "image/png").run()
    _button(at, "Find the participants").click().run()
    _button(at, "Save and annotate").click().run()  # no title, stage or outcome
    said = " ".join(e.value for e in at.error)
    assert "Say a title, the pipeline stage, the outcome" in said
    assert len(calls(engine)) == before
