"""The demo's faces: two public-domain portraits and a smile made from one, read by the
released model as the demo says (neutral, happy, happy), at full size and in a gallery tile."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from capstone.model.released import load_model
from capstone.paths import released_model
from capstone.reading.classify import classify_faces
from capstone.synthetic.portraits import astronaut_portrait, hopper_portrait, smiling, warp


@pytest.fixture(scope="module")
def model():
    return load_model(released_model())


@pytest.mark.parametrize(
    ("portrait", "expected"),
    [
        (hopper_portrait, "neutral"),
        (lambda: smiling(hopper_portrait()), "happy"),
        (astronaut_portrait, "happy"),
    ],
)
def test_the_model_reads_each_demo_face_as_the_demo_says(model, portrait, expected) -> None:
    face = portrait()
    for scale in (1.0, 0.6):  # as shipped, and about as large as in a 2x2 gallery tile
        image = cv2.resize(face.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = classify_faces(image, model)
        assert len(found) == 1 and found[0].expression == expected, (scale, found)


def test_a_warp_moves_what_is_at_a_point_and_leaves_the_far_away_alone() -> None:
    image = np.zeros((60, 60), np.uint8)
    image[30, 20] = 255
    moved = warp(image, [(30.0, 30.0)], [(0.0, -5.0)], sigma=20.0)  # the dot's row moves up
    assert moved[:30, 18:23].max() > 100 and moved[30, 20] < 255
    assert warp(image, [(0.0, 0.0)], [(3.0, 3.0)], sigma=1.0)[30, 20] == 255
