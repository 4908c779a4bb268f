"""The `capstone annotate` command on a mix of good and bad inputs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
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


def test_an_unwritable_output_folder_is_a_clear_error(tmp_path: Path, capstone_cli) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), hopper)
    (tmp_path / "taken").write_text("a file where the output folder should be")
    compact_cnn(4).save(tmp_path / "model.keras")
    proc = capstone_cli(
        "annotate",
        str(tmp_path / "call.png"),
        "--out",
        str(tmp_path / "taken/out"),
        "--model",
        str(tmp_path / "model.keras"),
    )
    assert proc.returncode == 2
    assert "cannot write" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "call.png").is_file()


def test_a_missing_optional_detector_is_a_clear_error(monkeypatch) -> None:
    import sys

    import pytest

    from capstone import faces
    from capstone.errors import CapstoneError

    faces._mtcnn.cache_clear()
    monkeypatch.setitem(sys.modules, "mtcnn", None)  # as if the package were not installed
    with pytest.raises(CapstoneError, match="pip install mtcnn"):
        faces.detect_faces(np.zeros((60, 60, 3), np.uint8))
    faces._mtcnn.cache_clear()
