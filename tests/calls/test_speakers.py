from __future__ import annotations

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from capstone.calls.speakers import attribute, highlighted_tile, speaker_view_face
from capstone.media import load_image
from capstone.synthetic.layouts import HOPPER_FACE, gallery, speaker


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.mark.parametrize(("n", "tile"), [(2, 0), (2, 3), (3, 4), (4, 9)])
def test_the_outlined_tile_is_found_around_its_face(hopper, n: int, tile: int) -> None:
    frame, faces = gallery(hopper, HOPPER_FACE, n, highlight=tile)
    found = highlighted_tile(frame)
    assert found is not None
    speaking = attribute(faces, found, None)
    assert speaking == [(i == tile, "highlight") for i in range(n * n)]


def test_no_outline_and_green_things_are_not_highlights(hopper) -> None:
    frame, _ = gallery(hopper, HOPPER_FACE, 3)
    assert highlighted_tile(frame) is None
    cv2.rectangle(frame, (100, 100), (300, 300), (60, 205, 35), -1)  # a filled green patch
    assert highlighted_tile(frame) is None
    assert highlighted_tile(np.zeros((50, 50), np.uint8)) is None


def test_speaker_view_names_the_main_tile(hopper) -> None:
    frame, faces = speaker(hopper, HOPPER_FACE)
    assert speaker_view_face(faces) == 0
    assert attribute(faces, highlighted_tile(frame), True)[0] == (True, "speaker view")
    _, tiles = gallery(hopper, HOPPER_FACE, 3)
    assert speaker_view_face(tiles) is None


def test_silence_overrides_the_picture_and_unknown_stays_unknown(hopper) -> None:
    frame, faces = gallery(hopper, HOPPER_FACE, 2, highlight=1)
    assert attribute(faces, highlighted_tile(frame), False) == [(False, "audio")] * 4
    _, plain = gallery(hopper, HOPPER_FACE, 2)
    assert attribute(plain, None, True) == [(None, "")] * 4
    assert attribute(plain, None, None) == [(None, "")] * 4
    assert attribute(plain[:1], None, True) == [(True, "audio")]  # one participant only
    assert attribute([], None, True) == []
