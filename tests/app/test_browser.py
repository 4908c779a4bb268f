"""The app in a real browser: start the server, upload a screenshot, say who is who, and see
the annotated picture and the summary."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


@pytest.fixture
def server(tmp_path: Path):
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
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
    process.stdout.close()


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
    page.locator("input[type=file]").set_input_files(str(shot))
    page.get_by_role("button", name="Find the participants").click()
    page.get_by_text("Who is who").wait_for()
    _choose(page, page.get_by_label("role").nth(1), "a prospect")
    page.get_by_label("name").nth(1).fill("Dana")
    page.get_by_label("What to call it").fill("Browser call")
    _choose(page, page.get_by_label("Pipeline stage"), "Demo/Pitch")
    _choose(page, page.get_by_label("Outcome"), "Closed Sale")
    page.get_by_role("button", name="Save and annotate").click()
    page.get_by_text("Annotation: done").wait_for()
    page.goto(f"{url}/calls")
    page.get_by_text("Dana looked").first.wait_for()
    page.get_by_text("each face labelled").first.wait_for()  # the annotated picture's caption
    assert page.locator("img").count() >= 1
