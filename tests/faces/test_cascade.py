from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from capstone.faces import cascade
from capstone.synthetic.layouts import call_layouts, hopper


def layouts() -> list[np.ndarray]:
    return [frame for frame, _ in call_layouts(hopper()).values()]


def test_the_cascade_finds_what_the_mtcnn_package_finds() -> None:
    mtcnn = pytest.importorskip("mtcnn")
    reference = mtcnn.MTCNN()
    for frame in layouts():
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        theirs = sorted(reference.detect_faces(rgb, min_face_size=12), key=lambda f: f["box"])
        ours = sorted(cascade.detect_faces(rgb), key=lambda d: d.box)
        assert len(ours) == len(theirs) > 0
        for face, detection in zip(theirs, ours, strict=True):
            assert np.abs(np.subtract(face["box"], detection.box)).max() <= 1
            assert detection.confidence == pytest.approx(face["confidence"], abs=1e-3)
            assert detection.eyes is not None
            left = face["keypoints"]["left_eye"]
            assert np.abs(np.subtract(left, detection.eyes[0])).max() <= 1


def test_a_picture_without_faces_gives_none() -> None:
    assert cascade.detect_faces(np.full((240, 320, 3), 128, np.uint8)) == []
    assert cascade.detect_faces(np.zeros((20, 20, 3), np.uint8)) == []


def test_detection_imports_no_tensorflow() -> None:
    code = (
        "import sys, numpy as np; from capstone.faces.detect import detect; "
        "detect(np.zeros((120, 160, 3), np.uint8)); print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
