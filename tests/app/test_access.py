"""The access matrix: every role against every page, call (by its URL), action and file the
app shows, asserted both ways: what each may reach, and that everything else is refused.

The expected cells are written out here, not computed by the rules they test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from capstone.app import access
from capstone.app.access import NOT_YOURS, calls_for
from capstone.app.accounts import viewer_of
from capstone.app.database import Call, open_database, session
from capstone.app.findings import Findings
from capstone.app.settings import default_url
from capstone.calls.metadata import People, Person
from capstone.calls.request import CallOutputs

APP = Path(__file__).resolve().parents[2] / "src/capstone/app"
ROLES = [None, "Ada", "Mia", "Max", "Ana", "Ben", "Wes", "Ola"]  # conftest.CAST; None: nobody
PAGES = ("home.py", "new_call.py", "calls.py", "benchmarks.py", "users.py", "privacy.py")
TITLES = {
    "home.py": "Show Me The Money",
    "new_call.py": "New call",
    "calls.py": "Calls",
    "benchmarks.py": "Benchmarks",
    "users.py": "Users",
    "privacy.py": "Retention and erasure",
}
CALLS_PAGES = {"home.py", "new_call.py", "calls.py", "benchmarks.py"}
ADMIN_PAGES = {"home.py", "users.py", "privacy.py"}
OPEN: dict[str | None, set[str]] = {
    None: set(),
    "Ada": ADMIN_PAGES,
    "Mia": CALLS_PAGES,
    "Max": CALLS_PAGES,
    "Ana": CALLS_PAGES,
    "Ben": CALLS_PAGES,
    "Wes": CALLS_PAGES,
    "Ola": CALLS_PAGES | ADMIN_PAGES,
}
#: The library: call -> (owner, team, use, demo).
LIBRARY = {
    "ana's call": ("Ana", "east", "customers", False),
    "ana's self-review": ("Ana", "east", "self-review", False),
    "ben's call": ("Ben", "east", "customers", False),
    "wes's call": ("Wes", "west", "customers", False),
    "demo call": (None, "", "customers", True),
}
SEES: dict[str | None, set[str]] = {
    None: set(),
    "Ada": set(),  # an admin alone sees no call
    "Mia": {"ana's call", "ben's call", "demo call"},  # her team's reps; never a self-review
    "Max": {"wes's call", "demo call"},
    "Ana": {"ana's call", "ana's self-review", "demo call"},  # her own
    "Ben": {"ben's call", "demo call"},
    "Wes": {"wes's call", "demo call"},
    "Ola": {"ana's call", "ben's call", "demo call"},  # an admin who manages east
}
EXPORTS = {who: seen - {"ana's self-review"} for who, seen in SEES.items()}
SELF_REVIEWS: dict[str | None, set[str]] = {who: set() for who in ROLES} | {
    "Ana": {"ana's call"},  # a rep, on their own calls only
    "Ben": {"ben's call"},
    "Wes": {"wes's call"},
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def library(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, add_cast: Callable
) -> dict:
    """The calls of :data:`LIBRARY` on each backend: SQLite in the folder, or PostgreSQL."""
    folder = tmp_path_factory.mktemp("access")
    url = default_url(folder)
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = request.getfixturevalue("new_database")(server)
    engine = open_database(url)
    tokens = add_cast(engine)
    owners = {name: viewer_of(engine, token) for name, token in tokens.items()}
    ids = {}
    for title, (owner, team, use, demo) in LIBRARY.items():
        with session(engine) as s:
            call = Call(
                title=title,
                owner_id=owners[owner].id if owner else None,
                sales_team=team,
                use=use,
                demo=demo,
                stage="4. Demo/Pitch",
                outcome="Closed Sale",
                people=People({"P1": Person("rep")}),
                media=["01.png"],
                kind="screenshots",
            )
            s.add(call)
            s.flush()
            ids[title] = call.id
        picture = folder / "results" / str(ids[title]) / "01_annotated.png"
        picture.parent.mkdir(parents=True)
        cv2.imwrite(str(picture), np.full((40, 60, 3), 200, np.uint8))
        (folder / "media" / str(ids[title])).mkdir(parents=True)
        cv2.imwrite(str(folder / "media" / str(ids[title]) / "01.png"), np.zeros((9, 9, 3)))
        (picture.parent / "01.json").write_text('{"faces": []}')
        with session(engine) as s:
            s.get(Call, ids[title]).results = Findings(
                (CallOutputs.of_screenshot("01").under(f"results/{ids[title]}"),)
            )
    return {"folder": folder, "url": url, "engine": engine, "tokens": tokens, "ids": ids}


@pytest.fixture
def environment(library: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("CAPSTONE_APP_DATA", str(library["folder"]))
    monkeypatch.setenv("CAPSTONE_DATABASE_URL", library["url"])
    monkeypatch.setenv("CAPSTONE_APP_WORKERS", "0")
    monkeypatch.setenv("CAPSTONE_APP_DEMO", "0")
    st.cache_resource.clear()
    return library


def _run(script: Path, token: str | None, page: str | None = None, **query: str) -> AppTest:
    """One run of ``script`` (the app's entry, or a page on its own) for the holder of
    ``token``; with ``page``, the entry opens that page (as a link to it would)."""
    at = AppTest.from_file(str(script), default_timeout=30)
    if token:
        at.session_state["token"] = token
    for key, value in query.items():
        at.query_params[key] = value
    if page:
        at.switch_page(f"screens/{page}")
    return at.run()


def _everything(at: AppTest) -> str:
    kinds = ("title", "header", "markdown", "caption", "error", "info", "success", "warning")
    text = [str(getattr(e, "value", "")) for kind in kinds for e in at.get(kind)]
    text += [str(e.value) for e in at.get("selectbox")] + [str(e.value) for e in at.dataframe]
    return "\n".join(text)


def _pictures(at: AppTest) -> int:
    return len(at.get("image"))


def test_each_role_reaches_exactly_its_calls_through_the_rules(library: dict) -> None:
    engine = library["engine"]
    by_id = {i: t for t, i in library["ids"].items()}
    with session(engine) as s:
        calls = {t: s.get(Call, i) for t, i in library["ids"].items()}
    for name in ROLES:
        viewer = viewer_of(engine, library["tokens"][name]) if name else None
        listed = {by_id[c.id] for c in calls_for(engine, viewer)} if viewer else set()
        assert listed == SEES[name], name
        for title, call in calls.items():
            assert access.can_see(viewer, call) == (title in SEES[name]), (name, title)
            changes = title in SEES[name] and not call.demo  # the demo is read-only
            assert access.can_change(viewer, call) == changes, (name, title)
            assert access.can_export(viewer, call) == (title in EXPORTS[name]), (name, title)
            assert access.can_self_review(viewer, call) == (title in SELF_REVIEWS[name])
        for page in PAGES:
            assert access.may_open(viewer, page) == (page in OPEN[name]), (name, page)


@pytest.mark.parametrize("name", ROLES)
def test_each_page_opens_to_its_roles_and_refuses_the_others(environment: dict, name) -> None:
    if environment["url"].startswith("postgresql"):
        pytest.skip("a page's rules read the viewer's roles, not the calls: SQLite's run tells")
    token = environment["tokens"][name] if name else None
    for page in PAGES:
        direct = _run(APP / "screens" / page, token)  # the page's own check, navigation aside
        assert not direct.exception, (name, page)
        if page in OPEN[name]:
            assert direct.title[0].value == TITLES[page], (name, page)
        else:
            assert not direct.title, (name, page)
            assert {"Sign in first.", "This page is not open to your role."} & {
                e.value for e in direct.error
            }
    main = _run(APP / "main.py", token)
    if name is None:  # a visitor sees the way to the sign-in and nothing else
        assert not main.text_input and 'href="/signin?next=' in _everything(main)
        assert not main.dataframe and not _pictures(main)
        assert not any(t in _everything(main) for t in LIBRARY)


@pytest.mark.parametrize("name", ROLES)
def test_each_call_by_its_url_opens_to_those_who_may_see_it(environment: dict, name) -> None:
    token = environment["tokens"][name] if name else None
    for title, call_id in environment["ids"].items():
        at = _run(APP / "main.py", token, "calls.py", call=str(call_id))
        text = _everything(at)
        if title not in SEES[name]:
            assert title not in text and not _pictures(at), (name, title)
            if "calls.py" in OPEN[name]:
                assert NOT_YOURS in text
            continue
        assert at.header[0].value == title, (name, title)
        assert _pictures(at) == 1  # the annotated picture, shown only here
        labels = {b.label for b in at.button}
        downloads = {b.label for b in at.get("link_button")}
        assert ("Download the readings" in downloads) == (title in EXPORTS[name])
        assert ("Review my own expressions (for me alone)" in labels) == (
            title in SELF_REVIEWS[name]
        )
        assert ("Delete it for good" in labels) == (title != "demo call")  # read-only


def test_a_guessed_or_malformed_call_number_says_the_same_as_a_refused_one(
    environment: dict,
) -> None:
    token = environment["tokens"]["Mia"]
    for asked in ("999999", "../1", "1 OR 1=1", str(environment["ids"]["ana's self-review"])):
        at = _run(APP / "main.py", token, "calls.py", call=asked)
        assert NOT_YOURS in [e.value for e in at.error]
        assert not _pictures(at)


def test_the_audit_log_says_who_opened_which_call_by_number_only(environment: dict) -> None:
    from capstone.app.audit import log_table

    call_id = environment["ids"]["ben's call"]

    def views() -> int:
        log = log_table(environment["engine"])
        return len(log[(log["who"] == "Ben") & (log["did"] == "viewed") & (log["call"] == call_id)])

    before = views()
    for _ in range(2):  # once per session and call, however often the page reruns
        at = _run(APP / "main.py", environment["tokens"]["Ben"], "calls.py", call=str(call_id))
        at.run()  # the page again, in the same session
    assert views() == before + 2  # two sessions
    log = log_table(environment["engine"])
    written = " ".join(str(v) for v in log.to_numpy().ravel())
    assert not any(title in written for title in LIBRARY)


def test_one_registry_names_every_page_script_once() -> None:
    """The navigation (main.py) and the rules read one table: a page cannot be in one only."""
    screens = Path(access.__file__).parent / "screens"
    scripts = {p.name for p in screens.glob("*.py")} - {"__init__.py"}
    names = [page.script for page in access.PAGES]
    assert len(names) == len(set(names)) and set(names) == scripts
    assert set(PAGES) == scripts  # the matrix above covers every page
    with pytest.raises(ValueError, match=r"no page 'nowhere\.py'"):
        access.may_open(None, "nowhere.py")
