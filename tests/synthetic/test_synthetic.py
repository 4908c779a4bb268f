import itertools

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from capstone.calls.video import SCENE_CUT
from capstone.calls.video_io import sample_frames
from capstone.media import load_image
from capstone.synthetic.calls import demo_call_info, demo_media, write_recording
from capstone.synthetic.layouts import HOPPER_FACE, call_layouts, people, score_detectors, variants


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def test_every_layout_has_one_true_box_per_tile_inside_the_frame(hopper) -> None:
    layouts = call_layouts(hopper)
    assert len(layouts["gallery 3x3"][1]) == 9
    for frame, truth in layouts.values():
        assert frame.shape == (720, 1280, 3)
        for x, y, w, h in truth:
            assert x >= 0 and x + w <= 1280 and y >= 0 and y + h <= 720


def test_mirrored_and_cropped_variants_keep_the_face_box(hopper) -> None:
    def face(image, box):
        x, y, w, h = box
        return image[y : y + h, x : x + w]

    (_, box), (flipped, fbox), (crop, cbox), _ = variants(hopper, HOPPER_FACE)
    np.testing.assert_array_equal(face(flipped, fbox)[:, ::-1], face(hopper, box))
    np.testing.assert_array_equal(face(crop, cbox), face(hopper, box))


def test_detector_scores_count_hits_misses_and_false_alarms(hopper) -> None:
    layouts = dict(list(call_layouts(hopper).items())[:2])
    rows = score_detectors(layouts, detectors=("haar",))
    assert [r["layout"] for r in rows] == ["gallery 2x2", "gallery 3x3"]
    for r in rows:
        assert r["true_positives"] + r["missed"] == r["faces"]
        assert 0 <= r["recall"] <= 1 and 0 <= r["precision"] <= 1


def test_the_demo_recording_is_a_readable_video(hopper, tmp_path) -> None:
    video = write_recording(hopper, HOPPER_FACE, tmp_path / "rec.mp4", seconds=2, fps=5)
    frames = list(sample_frames(video, fps=5))
    assert len(frames) == 10
    assert frames[0][1].shape == (720, 1280, 3)


def test_the_demo_recording_zooms_smoothly_without_jumps(hopper, tmp_path) -> None:
    # A gallery recording holds its layout: no two frames apart by a scene cut's change.
    video = write_recording(hopper, HOPPER_FACE, tmp_path / "rec.mp4", seconds=12, fps=2)
    glances = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), (64, 36)).astype(float)
        for _, f in sample_frames(video, fps=2)
    ]
    changes = [np.abs(b - a).mean() for a, b in itertools.pairwise(glances)]
    assert len(changes) == 23 and max(changes) < SCENE_CUT / 2


def test_the_demo_call_has_its_metadata_and_media(hopper, tmp_path) -> None:
    call = demo_call_info(10)
    assert (call.rep, call.staff, call.informed) == ("P1", ("P4",), True)
    assert list(call.stages.values()) == [0.0, 2.0, 4.0, 6.0, 8.0]
    screenshot, recording = demo_media(tmp_path, 2, people(hopper, HOPPER_FACE))
    assert cv2.imread(str(screenshot)).shape == (720, 1280, 3)
    assert len(list(sample_frames(recording, fps=5))) == 10
