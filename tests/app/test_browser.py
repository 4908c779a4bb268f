"""The app in a real browser: a visitor sees only the sign-in form, and no call, picture or
media address is reachable without a session; a rep signs in, uploads a screenshot, says who
is who, and sees the annotated picture and the summary."""

from __future__ import annotations

import contextlib
import os
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

from capstone.synthetic.layouts import gallery_frame

pytestmark = pytest.mark.slow
WAIT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path: Path):
    from capstone.app.accounts import add_user
    from capstone.app.database import database_url, open_database

    add_user(open_database(database_url(tmp_path / "app")), "Ana", "rep", PASSWORD, "east")
    port = _free_port()
    env = {**os.environ, "CAPSTONE_APP_DEMO": "0"}  # an empty library: just this upload
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "capstone.cli",
            "app",
            "--data",
            str(tmp_path / "app"),
            "--port",
            str(port),
        ],
        env=env,
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
    yield url, time.monotonic() - started
    os.killpg(process.pid, 15)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):  # the server it started outlives a TERM
        os.killpg(process.pid, 9)
    process.stdout.close()


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
    page.keyboard.press("Enter")


def test_a_screenshot_uploaded_in_the_browser_comes_back_annotated(
    server, browser_page, tmp_path: Path
) -> None:
    url, _ = server
    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    shot = tmp_path / "call.png"
    cv2.imwrite(str(shot), gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2))
    page = browser_page
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}/new_call")
    page.get_by_label("Name").fill("Ana")  # every address leads to the sign-in first
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="New call").wait_for()  # back on the page asked for
    page.locator("input[type=file]").set_input_files(str(shot))
    page.get_by_role("button", name="Find the participants").click()
    page.get_by_text("Who is who").wait_for()
    _choose(page, page.get_by_label("role").nth(1), "a prospect")
    page.get_by_label("name").nth(1).fill("Dana")
    page.get_by_label("What to call it").fill("Browser call")
    _choose(page, page.get_by_label("Pipeline stage"), "Demo/Pitch")
    _choose(page, page.get_by_label("Outcome"), "Closed Sale")
    page.get_by_text("yes", exact=True).click()  # were they told? no default: said here
    page.get_by_role("button", name="Save and annotate").click()
    page.get_by_text("Annotation: done").wait_for()
    page.get_by_role("link", name="Open it on the Calls page").click()
    page.get_by_text("Dana looked").first.wait_for()
    page.get_by_text("each face labelled").first.wait_for()  # the annotated picture's caption
    page.reload()  # still signed in, on the same call
    page.get_by_text("each face labelled").first.wait_for()
    assert "call=" in page.url
    files = [
        src
        for src in page.locator("img").evaluate_all("els => els.map(e => e.src)")
        if "/files/" in src
    ]
    assert files and all(page.request.get(src).status == 200 for src in files)
    assert all(_status(src) == 404 for src in files)  # never without the session's cookie

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()
    for src in files:  # the address the rep's page used, tried again: the session has ended
        assert page.request.get(src).status == 404, src
    for guessed in (
        "/media/" + "0" * 56 + ".png",
        "/app/static/media/1/01.png",
        "/results/1/01_annotated.png",
        "/media/1/01.png",
        "/capstone.sqlite",
        "/files/1/results/1/01_annotated.png",
    ):
        status, body = _get(url + guessed)
        # nothing, or the sign-in page: never the file
        assert status == 404 or (b"<html" in body.lower() and not body.startswith(b"\x89PNG"))
    for address in (f"{url}/calls?call=1", f"{url}/users"):
        page.goto(address)  # a visitor, anywhere: the sign-in form and nothing of the call
        page.get_by_role("button", name="Sign in").wait_for()
        shown = page.locator("body").inner_text()
        assert "Browser call" not in shown and "Dana" not in shown
        assert not page.locator("img").evaluate_all("e => e.map(i => i.src)")
