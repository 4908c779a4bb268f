from __future__ import annotations

import numpy as np
import pytest
from matplotlib import cbook

from capstone.calls.tracking import Tracker, appearance
from capstone.media import load_image
from capstone.synthetic.layouts import HOPPER_FACE, gallery, people, speaker, synthetic_people


@pytest.fixture(scope="module", params=["photo", "synthetic"])
def cast(request):
    """Four participants: one photo in four lights, or four of the sample profile's faces."""
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    if request.param == "synthetic":
        return hopper, synthetic_people()
    return hopper, people(hopper, HOPPER_FACE)


def test_a_face_looks_like_itself_at_any_size_and_unlike_the_others(cast) -> None:
    hopper, looks = cast
    small, small_boxes = gallery(hopper, HOPPER_FACE, 3, looks=looks, order=[0, 1, 2, 3])
    large, large_boxes = speaker(hopper, HOPPER_FACE, looks=looks, order=[2, 0, 1, 3])
    same = appearance(small, small_boxes[2]) @ appearance(large, large_boxes[0])
    others = [
        appearance(small, small_boxes[i]) @ appearance(large, large_boxes[0]) for i in (0, 1, 3)
    ]
    assert same > 0.8 and same > max(others) + 0.1


def test_participants_keep_their_ids_across_swaps_views_and_rejoins(cast) -> None:
    hopper, looks = cast
    script = [  # (layout, order of the participants on screen)
        (gallery, 2, [0, 1, 2, 3]),
        (gallery, 2, [0, 1, 2, 3]),
        (gallery, 2, [2, 0, 3, 1]),  # tiles reorder
        (speaker, 3, [1, 0, 2, 3]),  # speaker view: participant 1 fills the main tile
        (gallery, 2, [1, 0, 2]),  # participant 3 leaves
        (gallery, 3, [3, 1, 0, 2]),  # and comes back, in another grid
    ]
    tracker, seen = Tracker(), {}
    for layout, n, order in script:
        if layout is gallery:
            frame, boxes = gallery(hopper, HOPPER_FACE, n, looks=looks, order=order)
        else:
            frame, boxes = speaker(hopper, HOPPER_FACE, looks=looks, order=order)
        for who, pid in zip(order, tracker.assign(boxes, frame), strict=True):
            seen.setdefault(who, set()).add(pid)
    assert seen == {0: {"P1"}, 1: {"P2"}, 2: {"P3"}, 3: {"P4"}}


def test_without_a_frame_faces_are_matched_by_position() -> None:
    tracker = Tracker()
    assert tracker.assign([[0, 0, 50, 50], [200, 0, 50, 50]]) == ["P1", "P2"]
    assert tracker.assign([[205, 2, 50, 50], [2, 1, 50, 50]]) == ["P2", "P1"]
    assert tracker.assign([[400, 0, 50, 50]]) == ["P3"]


def test_a_box_outside_the_frame_has_an_empty_look() -> None:
    frame = np.zeros((40, 40, 3), np.uint8)
    assert not appearance(frame, (100, 100, 10, 10)).any()
