from __future__ import annotations

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from capstone.faces.boxes import iou, match
from capstone.faces.crop import CropError, crop_face
from capstone.faces.detect import Detection, detect, detect_faces
from capstone.media import load_image
from capstone.synthetic.layouts import gallery_frame


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


@pytest.mark.parametrize("min_size", [28, 48])
def test_looking_only_for_larger_faces_still_finds_them(min_size: int) -> None:
    from capstone.synthetic.layouts import HOPPER_FACE, gallery

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    frame, boxes = gallery(hopper, HOPPER_FACE, 3)  # 1280x720: mtcnn's own option finds none
    found = detect(frame, min_size=min_size, pad=0)
    assert match([d.box for d in found], boxes)["true_positives"] == 9


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


def headshot(hopper: np.ndarray) -> np.ndarray:
    """A tight 143x181 crop where the face fills the picture, like SFEW's images."""
    return cv2.resize(hopper[120:340, 170:350], (143, 181), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("detector", ["mtcnn", "haar"])
def test_a_face_that_fills_the_picture_is_found_with_the_padded_pass(hopper, detector) -> None:
    image = headshot(hopper)
    found = detect(image, detector=detector)
    assert len(found) == 1
    x, y, w, h = found[0].box
    assert w > 60 and h > 60  # the face, and in the image's coordinates
    assert -40 < x < 100 and -40 < y < 120


def test_padded_and_plain_passes_do_not_count_a_face_twice(hopper) -> None:
    assert len(detect(hopper)) == 1


def test_crop_is_a_square_around_the_box_with_a_margin() -> None:
    image = np.zeros((200, 300), np.uint8)
    image[50:150, 100:150] = 255  # a bright box 50 wide, 100 tall
    crop = crop_face(image, (100, 50, 50, 100), margin=0.0, size=48)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    # the square is 100 px wide around a 50 px box: the middle half of the columns is bright
    assert crop[:, 14:34].mean() > 250 and crop[:, :10].mean() < 5 and crop[:, -10:].mean() < 5
    wider = crop_face(image, (100, 50, 50, 100), margin=1.0, size=48)
    assert wider[14:34, 18:30].mean() > 250 and wider[:10].mean() < 5  # smaller, in a larger square


def test_alignment_levels_the_eyes() -> None:
    image = np.full((200, 200), 255, np.uint8)
    cv2.line(image, (60, 80), (140, 120), 0, 3)  # a line through both eyes, tilted ~26.6 deg
    face = Detection((50, 50, 100, 100), 1.0, ((60.0, 80.0), (140.0, 120.0)))
    level = crop_face(image, face, margin=0.0, size=48, align=True)
    dark_rows = np.flatnonzero(level.min(axis=1) < 128)
    assert dark_rows.max() - dark_rows.min() <= 4  # the line is horizontal now
    tilted = crop_face(image, face, margin=0.0, size=48)
    dark_rows = np.flatnonzero(tilted.min(axis=1) < 128)
    assert dark_rows.max() - dark_rows.min() > 10


@pytest.mark.parametrize(
    "box", [(-30, -30, 80, 80), (250, 150, 100, 100), (10, 10, 1, 40), (0, 0, 1, 1)]
)
def test_boxes_at_or_past_the_border_and_one_pixel_wide_are_padded(box) -> None:
    image = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    for align in (False, True):
        face = Detection(box, 1.0, ((box[0], box[1]), (box[0] + 5, box[1] + 2)))
        assert crop_face(image, face, align=align).shape == (48, 48)


@pytest.mark.parametrize(
    "frame",
    [
        np.full((60, 80), 128, np.uint8),  # grayscale
        np.full((60, 80, 1), 128, np.uint8),
        np.full((60, 80, 4), 128, np.uint8),  # RGBA
        np.full((60, 80), 128 * 257, np.uint16),  # 16-bit
        np.full((60, 80, 3), 128 * 257, np.uint16),
    ],
)
def test_every_kind_of_frame_gives_the_same_crop(frame: np.ndarray) -> None:
    crop = crop_face(frame, (10, 10, 40, 40))
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    assert abs(int(crop.mean()) - 128) <= 1


@pytest.mark.parametrize(
    ("frame", "box", "message"),
    [
        (np.zeros((60, 80), np.uint8), (100, 100, 10, 10), "entirely outside"),
        (np.zeros((60, 80), np.uint8), (10, 10, 0, 10), "at least 1 pixel"),
        (np.zeros((60, 80), np.uint8), (np.nan, 10, 5, 5), "at least 1 pixel"),
        (np.zeros((60, 80), np.uint8), (1, 2, 3), "is \\(x, y, w, h\\)"),
        (np.zeros((0, 0), np.uint8), (0, 0, 5, 5), "expected an image"),
        (np.zeros((60, 80, 2), np.uint8), (0, 0, 5, 5), "expected an image"),
        (np.zeros((60, 80), bool), (0, 0, 5, 5), "8- or 16-bit"),
    ],
)
def test_impossible_crops_are_refused_with_a_clear_message(frame, box, message) -> None:
    with pytest.raises(CropError, match=message):
        crop_face(frame, box)


def test_contrast_normalisation_spreads_a_dull_face() -> None:
    dull = np.random.default_rng(1).integers(100, 120, (60, 60), dtype=np.uint8)
    for contrast in ("equalize", "clahe"):
        assert crop_face(dull, (0, 0, 60, 60), contrast=contrast).std() > dull.std() * 2
    with pytest.raises(CropError, match="unknown contrast"):
        crop_face(dull, (0, 0, 60, 60), contrast="magic")
