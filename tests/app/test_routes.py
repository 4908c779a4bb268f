"""The app's own routes: a sign-in that leaves an HttpOnly cookie and goes back to the page
asked for, every page and Streamlit media address closed to a visitor, and a call's files
served by the access rules (the matrix: every role against every call's file), gone the
moment the call is deleted."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from capstone.app import routes
from capstone.app.accounts import MAX_FAILURES, sign_in, sign_out, viewer_of
from capstone.app.audit import log_table
from capstone.app.database import Call, database_url, open_database, session
from capstone.app.erasure import delete_call
from capstone.app.findings import Findings
from capstone.app.routes import COOKIE, READINGS, ROUTES, SignInFirst, way_back
from capstone.calls.metadata import People, Person
from capstone.calls.request import CallOutputs

from .conftest import PASSWORD
from .test_access import EXPORTS, ROLES, SEES


def _page(request) -> Response:  # stands in for Streamlit: its pages, its media
    if request.url.path.startswith("/media/"):
        return Response(b"\x89PNG face tile", media_type="image/png")
    return HTMLResponse("<html>the app's page</html>")


@pytest.fixture(scope="module")
def cast_folder(tmp_path_factory: pytest.TempPathFactory, add_cast: Callable):
    """A folder with the cast signed in, its database, and the routes and the gate around a
    stand-in for Streamlit, reading that folder."""
    folder = tmp_path_factory.mktemp("routes")
    engine = open_database(database_url(folder))
    tokens = add_cast(engine)
    app = Starlette(
        routes=[*ROUTES, Route("/{path:path}", _page)], middleware=[Middleware(SignInFirst)]
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CAPSTONE_APP_DATA", str(folder))
        patch.delenv("CAPSTONE_DATABASE_URL", raising=False)
        routes._opened.cache_clear()
        yield folder, engine, tokens, app
    routes._opened.cache_clear()


@pytest.fixture
def served(cast_folder):
    """A new call of Ana's (a screenshot) with its files; yields (client for a name, folder,
    engine, call id, the call's outputs)."""
    folder, engine, tokens, app = cast_folder
    with session(engine) as s:
        call = Call(
            title="ana's call",
            owner_id=viewer_of(engine, tokens["Ana"]).id,
            sales_team="east",
            people=People({"P1": Person("rep")}),
            kind="screenshots",
        )
        s.add(call)
        s.flush()
        call_id = call.id
        outputs = CallOutputs.of_screenshot("01").under(f"results/{call_id}")
        call.results = Findings((outputs,))
    for name in outputs.files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps({"file": name}))

    def client(name: str | None = None) -> TestClient:
        browser = TestClient(app, follow_redirects=False)
        if name:
            browser.cookies.set(COOKIE, tokens[name])
        return browser

    return client, folder, engine, call_id, outputs


def _sign_in(browser: TestClient, name: str, password: str, asked: str = "/") -> Response:
    form = {"name": name, "password": password, "next": asked}
    return browser.post("/signin", data=form, headers={"accept": "text/html"})


def test_a_visitor_is_sent_to_the_sign_in_and_back_to_the_page_asked_for(served) -> None:
    client, *_ = served
    browser = client()
    asked = browser.get("/calls?call=9", headers={"accept": "text/html"})
    assert asked.status_code == 303
    assert asked.headers["location"] == "/signin?next=%2Fcalls%3Fcall%3D9"
    form = browser.get(asked.headers["location"])
    assert 'name="next" value="/calls?call=9"' in form.text and "Password" in form.text
    signed = _sign_in(browser, "Mia", PASSWORD, "/calls?call=9")
    assert signed.status_code == 303 and signed.headers["location"] == "/calls?call=9"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=28800" in cookie
    page = browser.get("/calls?call=9", headers={"accept": "text/html"})  # a reload
    assert page.status_code == 200 and "the app's page" in page.text
    assert "signed in" in set(log_table(served[2])["did"])


def test_a_wrong_password_says_so_on_the_form_and_sets_no_cookie(served) -> None:
    client, *_ = served
    browser = client()
    refused = _sign_in(browser, "Max", "a guess", "/benchmarks")
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    assert "that name and password do not match" in refused.text
    assert 'value="/benchmarks"' in refused.text and 'value="Max"' in refused.text
    for _ in range(MAX_FAILURES):
        refused = _sign_in(browser, "Max", "a guess")
    assert "wait 15 minutes" in refused.text and "Traceback" not in refused.text


@pytest.mark.parametrize("asked", ["https://evil.example/", "//evil.example", "", "/\\evil"])
def test_the_way_back_never_leaves_the_site(asked: str) -> None:
    assert way_back(asked) == "/"
    assert way_back("/calls?call=3") == "/calls?call=3"


def test_streamlit_media_answers_only_to_a_live_session(served) -> None:
    client, _, engine, *_ = served
    assert client().get("/media/abc.png").status_code == 404
    browser = client()
    browser.cookies.set(COOKIE, token := sign_in(engine, "Ben", PASSWORD))
    assert browser.get("/media/abc.png").status_code == 200
    sign_out(engine, token)  # the session ends on the server
    assert browser.get("/media/abc.png").status_code == 404
    assert browser.get("/", headers={"accept": "text/html"}).status_code == 303
    assert client().get("/_stcore/health").status_code == 200  # Streamlit's own: not a page


@pytest.mark.parametrize("name", ROLES)
def test_each_file_of_a_call_reaches_exactly_those_who_may_see_it(served, name) -> None:
    client, _, _, call_id, outputs = served
    browser = client(name)
    sees = "ana's call" in SEES[name]
    for file in outputs.files:
        answer = browser.get(f"/files/{call_id}/{file}")
        assert answer.status_code == (200 if sees else 404), (name, file)
        assert answer.headers["cache-control"] == "no-store"
        assert (answer.content == json.dumps({"file": file}).encode()) == sees
    readings = browser.get(f"/files/{call_id}/{READINGS}")
    assert readings.status_code == (200 if "ana's call" in EXPORTS[name] else 404)


def test_only_the_files_a_call_names_are_served(served) -> None:
    client, folder, _, call_id, _ = served
    (folder / "capstone-secret.txt").write_text("not a call's file")
    browser = client("Ana")
    for name in ("..%2Fcapstone-secret.txt", "capstone-secret.txt", "capstone.sqlite", "media"):
        assert browser.get(f"/files/{call_id}/{name}").status_code == 404, name
    for name in ("../capstone-secret.txt", f"results/{call_id}/../../capstone-secret.txt"):
        assert "not a call's file" not in browser.get(f"/files/{call_id}/{name}").text
    assert browser.get(f"/files/{call_id + 1}/results/{call_id}/01.json").status_code == 404


def test_a_deleted_calls_files_answer_404_at_once(served) -> None:
    client, folder, engine, call_id, outputs = served
    browser = client("Ana")
    addresses = [f"/files/{call_id}/{file}" for file in outputs.files]
    assert all(browser.get(a).status_code == 200 for a in addresses)
    delete_call(engine, folder, call_id)
    assert [browser.get(a).status_code for a in addresses] == [404] * len(addresses)


def test_downloading_the_readings_is_in_the_audit_log(served) -> None:
    client, _, engine, call_id, _ = served
    answer = client("Mia").get(f"/files/{call_id}/{READINGS}")
    assert "attachment" in answer.headers["content-disposition"]
    log = log_table(engine)
    assert ((log["who"] == "Mia") & (log["did"] == "exported") & (log["call"] == call_id)).any()
