"""The app in a real browser (Playwright, Debian's Chromium): a visitor sees only the
sign-in, and no call, picture or file address is reachable without a session allowed to see
the call; a rep uploads a screenshot, says who is who, and sees the result, still signed in
after a reload; a manager's week on the demo library; a lockout lifted by an admin."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import pytest
from matplotlib import cbook

from capstone.app.demo import demo_plan
from capstone.app.details import FORWARD
from capstone.synthetic.layouts import gallery_frame

pytestmark = pytest.mark.slow
WAIT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PASSWORD = "correct horse battery"


def _serve(folder: Path, **env: str):
    """Run ``capstone app`` on ``folder`` until the test ends; yields its address and the
    folder."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "capstone.cli", "app", "--data", str(folder), "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < 60:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"the app did not start: {process.stdout.read().decode()[-2000:]}")
    yield url, folder
    os.killpg(process.pid, 15)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):  # the server it started outlives a TERM
        os.killpg(process.pid, 9)
    process.stdout.close()


def _folder(path: Path, *cast: tuple[str, str, str]) -> Path:
    from capstone.app.accounts import add_user
    from capstone.app.database import database_url, open_database

    engine = open_database(database_url(path))
    for name, roles, team in cast:
        add_user(engine, name, roles, PASSWORD, team)
    return path


@pytest.fixture
def server(tmp_path: Path):
    """The app on a folder with a rep, Ana, and an admin, Ada, and no demo library."""
    folder = _folder(tmp_path / "app", ("Ana", "rep", "east"), ("Ada", "admin", ""))
    yield from _serve(folder, CAPSTONE_APP_DEMO="0")  # an empty library: just this upload


@pytest.fixture
def demo_server(tmp_path: Path):
    """The app on a new folder for a team (Mia, manager; Ana, rep; Ada, admin): its demo
    library's first ten calls, two seconds each."""
    cast = (("Mia", "manager", "east"), ("Ana", "rep", "east"), ("Ada", "admin", ""))
    folder = _folder(tmp_path / "app", *cast)
    yield from _serve(folder, CAPSTONE_APP_DEMO_CALLS="10", CAPSTONE_APP_DEMO_SECONDS="2")


def _get(address: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(address, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def _status(address: str) -> int:
    return _get(address)[0]


def _choose(page, box, option: str) -> None:
    """Pick ``option`` in a Streamlit select box: open it, type, and take the match."""
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.wait_for()
    page.keyboard.press("Enter")


def _sign_in(page, name: str, password: str = PASSWORD) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _screenshot(folder: Path) -> Path:
    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    shot = folder / "call.png"
    cv2.imwrite(str(shot), gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    return shot


def _add_call(page, shot: Path, title: str) -> None:
    """On the New call page: upload, say P1 is the rep and P2 the prospect Dana, fill in
    the details, save, and open the call once it is annotated."""
    page.locator("input[type=file]").set_input_files(str(shot))
    page.get_by_role("button", name="Find the participants").click()
    page.get_by_text("Who is who").wait_for()
    _choose(page, page.get_by_label("role").nth(0), "the rep")
    _choose(page, page.get_by_label("role").nth(1), "a prospect")
    page.get_by_label("name").nth(1).fill("Dana")
    page.get_by_label("What to call it").fill(title)
    _choose(page, page.get_by_label("Pipeline stage"), "Demo/Pitch")
    _choose(page, page.get_by_label("Outcome"), "Closed Sale")
    page.get_by_text("yes", exact=True).click()  # were they told? no default: said here
    page.get_by_role("button", name="Save and annotate").click()
    page.get_by_text("Annotation: done").wait_for()
    page.get_by_role("link", name="Open it on the Calls page").click()
    page.get_by_text("Dana looked").first.wait_for()
    page.get_by_text("each face labelled").first.wait_for()  # the annotated picture's caption


def _files(page) -> list[str]:
    """The addresses of the call's files the page shows."""
    shown = page.locator("img, video").evaluate_all("els => els.map(e => e.src)")
    return [src for src in shown if "/files/" in src]


def test_a_managers_week_on_the_demo_library(demo_server, browser_page, tmp_path: Path) -> None:
    """Sign in, the demo's Benchmarks (a figure, an interval, a prompt), two calls one after
    the other from the picker, a reload (still signed in, on the same call), a new call
    uploaded, named and read, then deleted: its files answer 404 at once; signed out, no
    file, page or guessed address shows anything of a call."""
    url, _ = demo_server
    page = browser_page
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}/benchmarks")
    _sign_in(page, "Mia")
    page.get_by_role("heading", name="Benchmarks").wait_for()
    started = time.monotonic()
    while True:  # the demo fills in as the worker annotates it
        page.get_by_text("Coaching prompts").wait_for()
        if page.get_by_text("appeared happy more often").count():
            break
        assert time.monotonic() - started < 240, "the demo's first ten calls were not ready"
        time.sleep(5)
        page.reload()
    page.get_by_text("These figures include the demo calls").wait_for()
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for()  # a figure
    said = page.get_by_text("In words:").first.inner_text()  # the figures, an interval each
    assert re.search(r"\d+% moved forward \(95% interval \d+-\d+%", said), said

    page.get_by_role("link", name="Calls").click()
    page.wait_for_url(re.compile(r"call=\d+"))  # the page has opened its first call
    picker = page.get_by_label("Open a call")
    forward = [c for c in demo_plan(10) if c.outcome in FORWARD]  # prospects who smile
    for call in forward[:2]:  # two calls, one after the other
        title = f"{call.product} with {call.prospects[0]} ({call.industry})"
        _choose(page, picker, title)
        page.get_by_role("heading", name=title).wait_for()
    chosen = page.url
    page.reload()
    page.get_by_role("heading", name=title).wait_for()  # the same call, still signed in
    assert page.url == chosen and "call=" in chosen
    moment = page.get_by_role("button", name=re.compile(r"^\w+ at \d+ s: \w+ → \w+$"))
    assert call.prospects[0] in moment.first.inner_text()  # named, never P2
    page.get_by_role("tab", name="Talk").click()  # the tables' columns say what they are
    _headers_shown(page, "participant", "talked", "share of the talk", "longest monologue")
    page.get_by_role("tab", name="Reactions").click()
    _headers_shown(page, "while", "stage")

    page.get_by_role("link", name="New call").click()
    _add_call(page, _screenshot(tmp_path), "Week call")
    page.reload()  # still signed in, on the new call
    page.get_by_text("each face labelled").first.wait_for()
    files = _files(page)
    assert files and all(page.request.get(src).status == 200 for src in files)
    assert all(_status(src) == 404 for src in files)  # never without the session's cookie
    page.get_by_text("Delete this call").click()
    page.get_by_role("button", name="Delete it for good").click()
    page.get_by_text("Deleted 'Week call'").wait_for()
    assert [page.request.get(src).status for src in files] == [404] * len(files)

    _signed_out_nothing_shows(page, url)


def _headers_shown(page, *columns: str) -> None:
    """Wait until the page's tables have these column headers (their grids' accessible
    tables, which assistive technology reads)."""
    started = time.monotonic()
    while not set(columns) <= set(page.locator("table th").all_text_contents()):
        assert time.monotonic() - started < 30, page.locator("table th").all_text_contents()
        time.sleep(0.5)


def _signed_out_nothing_shows(page, url: str) -> None:
    """Sign out: the files the page showed, guessed addresses and every page show nothing
    of a call."""
    seen = _files(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()
    for src in seen:
        assert page.request.get(src).status == 404, src
    for guessed in (
        "/media/" + "0" * 56 + ".png",
        "/app/static/media/1/01.png",
        "/results/1/01_annotated.png",
        "/media/1/01.png",
        "/capstone.sqlite",
        "/files/1/results/1/call/report.html",
    ):
        status, body = _get(url + guessed)
        # nothing, or the sign-in page: never the file
        assert status == 404 or (b"<html" in body.lower() and not body.startswith(b"\x89PNG"))
    for address in (f"{url}/calls?call=1", f"{url}/users"):
        page.goto(address)  # a visitor, anywhere: the sign-in form and nothing of a call
        page.get_by_role("button", name="Sign in").wait_for()
        shown = page.locator("body").inner_text()
        assert "Week call" not in shown and "(demo)" not in shown
        assert not page.locator("img").evaluate_all("e => e.map(i => i.src)")


def test_a_lockout_is_lifted_by_an_admin(server, browser_page) -> None:
    from capstone.app.audit import log_table
    from capstone.app.database import database_url, open_database

    url, folder = server
    page = browser_page
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    for _ in range(5):  # a stranger guessing Ana's password from one address
        _sign_in(page, "Ana", "a guess")
        page.get_by_text("do not match").or_(page.get_by_text("wait 15 minutes")).wait_for()
    _sign_in(page, "Ana")
    page.get_by_text("wait 15 minutes").wait_for()  # locked, even with the right password
    _sign_in(page, "Ada")
    page.get_by_role("link", name="Users").click()
    page.get_by_text("Unlock a name").wait_for()
    page.get_by_role("button", name="Unlock").click()
    page.get_by_text("Unlock a name").wait_for(state="detached")
    page.get_by_role("link", name="Retention and erasure").click()  # the lock, audited
    page.get_by_text("Retention and erasure").first.wait_for()
    log = log_table(open_database(database_url(folder)))
    assert {"locked out", "unlocked"} <= set(log["did"]) and "ana" in set(log["about"])
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").click()
    _sign_in(page, "Ana")
    page.get_by_role("heading", name="Show Me The Money").wait_for()
    page.get_by_text("Signed in as").wait_for()
