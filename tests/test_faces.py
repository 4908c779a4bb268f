from __future__ import annotations

import numpy as np
import pytest
from matplotlib import cbook

from capstone.annotation import gallery_frame, load_image
from capstone.faces import detect_faces, iou, match


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.mark.parametrize("detector", ["mtcnn", "haar"])
def test_each_detector_finds_the_one_face(hopper: np.ndarray, detector: str) -> None:
    boxes = detect_faces(hopper, detector=detector)
    assert len(boxes) == 1
    w, h = boxes[0][2:]
    assert 100 < w < 300 and 100 < h < 350  # the face, not the whole portrait


def test_mtcnn_finds_every_tile_of_a_gallery(hopper: np.ndarray) -> None:
    frame = gallery_frame([hopper] * 6 + [np.zeros_like(hopper)] * 2, cols=4, tile=(240, 180))
    assert len(detect_faces(frame)) == 6


def test_an_empty_image_has_no_faces() -> None:
    assert detect_faces(np.zeros((120, 160, 3), np.uint8)) == []


def test_unknown_detector_is_refused(hopper: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown face detector"):
        detect_faces(hopper, detector="magic")


def test_iou_and_matching() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    counts = match([(0, 0, 10, 10), (100, 100, 10, 10)], [(1, 1, 10, 10), (50, 50, 10, 10)])
    assert counts == {"true_positives": 1, "false_positives": 1, "missed": 1}
