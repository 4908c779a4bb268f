"""report.html: one recording's annotation on a page that opens from disk and plays."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from capstone.calls.metadata import CallInfo
from capstone.calls.request import CallRequest
from capstone.calls.video import annotate_video
from capstone.media import load_image
from capstone.synthetic.layouts import gallery_frame


class Brightening:
    """Stands in for a model: 'neutral' for the first half of its calls, then 'happy'."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        self.calls += 1
        probs = np.full((len(x), 7), 0.02)
        probs[:, 4 if self.calls <= 6 else 3] = 0.88
        return probs


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    frame = gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2, tile=(320, 240))
    writer = cv2.VideoWriter(
        str(tmp / "call.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, frame.shape[1::-1]
    )
    for _ in range(60):  # 6 s
        writer.write(frame)
    writer.release()
    call = CallInfo(rep="P1", prospects={"P2": "Dana"}, stages={"intro": 0, "pricing": 3})
    annotate_video(
        tmp / "call.mp4", Brightening(), tmp / "out", request=CallRequest(call), progress=False
    )
    return tmp / "out/call/report.html"


def test_the_report_holds_everything_but_the_video(report: Path) -> None:
    page = report.read_text()
    assert 'src="annotated.mp4"' in page and "http" not in page  # nothing from the network
    assert page.count("data:image/png;base64,") == 2  # timeline and participants
    assert 'class="moment" data-time="' in page and "data:image/jpeg;base64," in page
    assert "P2" in page and "prospect (Dana)" in page and "customers" in page


def test_the_report_plays_and_a_moment_seeks_the_video(report: Path, browser_page) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri(), wait_until="load")
    video = "document.getElementById('video')"
    page.wait_for_function(f"{video}.readyState >= 1", timeout=15_000)
    page.evaluate(f"{video}.muted = true; {video}.play()")
    page.wait_for_function(f"{video}.currentTime > 0.3", timeout=15_000)  # it plays
    page.evaluate(f"{video}.pause()")
    moment = page.locator(".moment").last
    target = float(moment.get_attribute("data-time"))
    moment.click()
    time.sleep(0.3)
    assert page.evaluate(f"{video}.currentTime") == pytest.approx(target, abs=0.05)
    assert errors == []
