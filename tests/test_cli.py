"""The `capstone annotate` command on a mix of good and bad inputs."""

from __future__ import annotations

from pathlib import Path

import cv2
from matplotlib import cbook

from capstone.annotation import load_image
from capstone.layouts import HOPPER_FACE, gallery, write_recording
from capstone.models import compact_cnn


def test_one_bad_input_never_loses_the_others(tmp_path: Path, capstone_cli) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), gallery(hopper, HOPPER_FACE, 2)[0])
    write_recording(hopper, HOPPER_FACE, tmp_path / "rec.mp4", seconds=2, fps=5)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    compact_cnn(4).save(tmp_path / "model.keras")
    inputs = ["notes.txt", "call.png", "broken.mp4", "rec.mp4"]
    proc = capstone_cli(
        "annotate",
        *(str(tmp_path / name) for name in inputs),
        "--out",
        str(tmp_path / "out"),
        "--model",
        str(tmp_path / "model.keras"),
        "--fps",
        "2",
    )
    assert proc.returncode == 2
    assert "notes.txt: not an image or a video" in proc.stderr
    assert "broken.mp4: cannot open as a video" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out/call_annotated.png").is_file()
    assert (tmp_path / "out/rec/annotated.mp4").is_file()
    assert "wrote 1 annotated image(s) and 1 video(s)" in proc.stdout
