from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from capstone.calls.image import annotate_image, faces_table, output_names, summary
from capstone.calls.metadata import CallInfo
from capstone.calls.numbering import reading_order
from capstone.calls.request import CallRequest
from capstone.calls.result import SCHEMA_VERSION, ScreenshotResult
from capstone.labels import CLASSES
from capstone.media import MediaError, load_image
from capstone.reading.classify import classify_faces
from capstone.synthetic.layouts import gallery_frame


class ConstantModel:
    """Stands in for a Keras model: always the same probabilities."""

    def __init__(self, probs: list[float]) -> None:
        self.probs = np.asarray(probs)

    def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        return np.tile(self.probs, (len(x), 1))


HAPPY = ConstantModel([0.02, 0.02, 0.02, 0.86, 0.04, 0.02, 0.02])
UNSURE = ConstantModel([0.2, 0.1, 0.1, 0.2, 0.2, 0.1, 0.1])


@pytest.fixture
def hopper() -> np.ndarray:
    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def test_gallery_frame_faces_are_found_and_labelled(tmp_path: Path, hopper: np.ndarray) -> None:
    frame = gallery_frame([hopper, cv2.flip(hopper, 1), np.zeros_like(hopper)], cols=2)
    cv2.imwrite(str(tmp_path / "call.png"), frame)
    call = CallInfo(rep="P1", prospects={"P2": "Dana"})
    record = annotate_image(
        tmp_path / "call.png", HAPPY, tmp_path / "out", request=CallRequest(call)
    )
    rep, prospect = record.faces  # in reading order: P1 left, P2 right
    assert (rep.participant, rep.role, rep.status) == ("P1", "rep", "not_read")
    assert rep.probs == {} and rep.box[0] < prospect.box[0]
    assert (prospect.participant, prospect.label, prospect.name) == ("P2", "happy", "Dana")
    assert set(prospect.probs) == set(CLASSES)
    assert record.use.read == ["P2"]
    written = json.loads((tmp_path / "out/call.json").read_text())
    assert written == record.to_json() and written["schema_version"] == SCHEMA_VERSION
    assert written["faces"][1]["role"] == "prospect (Dana)"
    assert ScreenshotResult.from_json(written) == record
    assert cv2.imread(str(tmp_path / "out/call_annotated.png")).shape == frame.shape
    table = faces_table([record])
    assert table[["participant", "role", "status"]].values.tolist() == [
        ["P1", "rep", "not_read"],
        ["P2", "prospect (Dana)", "ok"],
    ]
    assert table["perceived expression"].tolist() == ["not read", "happy"]


def test_an_image_without_call_metadata_reads_nobody_and_says_why(
    tmp_path: Path, hopper: np.ndarray
) -> None:
    cv2.imwrite(str(tmp_path / "call.png"), gallery_frame([hopper, hopper], cols=2))
    model = Recorder()
    record = annotate_image(tmp_path / "call.png", model, tmp_path)
    assert model.seen == [] and {f.label for f in record.faces} == {"not read"}
    text = summary([record])
    assert "call.png P1: not read" in text
    assert "Not named in the call metadata, so not read: P1, P2" in text
    research = CallRequest(use="research")
    record = annotate_image(tmp_path / "call.png", model, tmp_path, request=research)
    assert {f.label for f in record.faces} == {"happy"} and len(model.seen) == 1


def test_faces_are_numbered_in_reading_order() -> None:
    boxes = [(300, 10, 50, 50), (10, 220, 50, 50), (10, 14, 50, 50), (300, 230, 40, 40)]
    assert reading_order(boxes) == [2, 0, 1, 3]
    assert reading_order([]) == []
    tiles = [(254, 434, 160, 190), (906, 428, 150, 210), (274, 72, 160, 190), (898, 74, 150, 200)]
    assert reading_order(tiles) == [2, 3, 0, 1]  # a row's faces a few pixels apart: one row


def test_low_confidence_is_uncertain_and_small_faces_are_not_guessed(hopper: np.ndarray) -> None:
    faces = classify_faces(hopper, UNSURE, uncertain_below=0.4)
    assert [(f.status, f.label, f.expression) for f in faces] == [
        ("uncertain", "uncertain", "angry")
    ]
    small = cv2.resize(hopper, None, fx=0.08, fy=0.08)
    canvas = np.full((200, 200, 3), 40, np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    for face in classify_faces(canvas, HAPPY, min_face=64):
        assert (face.status, face.label, face.probability) == ("too_small", "too small", None)
        assert face.probs == {}


def test_bad_inputs_get_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(MediaError, match="not an image"):
        load_image(tmp_path / "notes.txt")
    with pytest.raises(MediaError, match="cannot decode"):
        load_image(tmp_path / "cut.jpg")
    with pytest.raises(MediaError, match="no such file"):
        load_image(tmp_path / "missing.png")


def test_huge_images_are_refused(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "big.png"), np.zeros((400, 400, 3), np.uint8))
    with pytest.raises(MediaError, match="larger than"):
        load_image(tmp_path / "big.png", max_pixels=100_000)


class Recorder(ConstantModel):
    """A happy stand-in that keeps the crops it is shown."""

    def __init__(self) -> None:
        super().__init__([0.02, 0.02, 0.02, 0.86, 0.04, 0.02, 0.02])
        self.seen: list[np.ndarray] = []

    def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        self.seen.append(np.asarray(x).copy())
        return super().predict(x)


def test_the_model_is_shown_the_crop_function_s_uint8_squares(hopper: np.ndarray) -> None:
    from capstone.faces.crop import crop_face
    from capstone.faces.detect import detect

    model = Recorder()
    classify_faces(hopper, model, crop={"margin": 0.3})
    (crops,) = model.seen
    assert crops.shape == (1, 48, 48) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[0], crop_face(hopper, detect(hopper)[0], margin=0.3))


def test_a_face_that_fills_the_picture_is_read(hopper: np.ndarray) -> None:
    headshot = cv2.resize(hopper[120:340, 170:350], (143, 181))
    faces = classify_faces(headshot, HAPPY)
    assert [f.label for f in faces] == ["happy"]


def test_every_input_gets_an_output_name_of_its_own(tmp_path: Path) -> None:
    files = [tmp_path / n for n in ("call.mp4", "good.jpg", "good.png", "a/x.png", "b/x.png")]
    assert output_names(files) == ["call", "good_jpg", "good_png", "a_x_png", "b_x_png"]
    assert output_names([tmp_path / "a.png", tmp_path / "a.png"]) == ["a_png", "a_png-2"]


def test_a_folder_and_an_oversized_image_are_named_for_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="is a folder"):
        load_image(tmp_path)
    cv2.imwrite(str(tmp_path / "big.png"), np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(MediaError, match="larger than 5,000 pixels"):
        load_image(tmp_path / "big.png", max_pixels=5000)


def test_a_caption_at_the_right_edge_stays_whole_inside_the_picture() -> None:
    from capstone.calls.image import draw
    from capstone.reading.face_reading import FaceReading

    image = np.zeros((200, 300, 3), np.uint8)
    face = FaceReading((262, 120, 36, 36), "ok", expression="surprise", probability=0.91)
    caption = draw(image, [face])[100:118]  # the rows just above the face: its caption
    filled = np.flatnonzero(caption.any(axis=(0, 2)))
    text_width = cv2.getTextSize(face.caption(), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)[0][0]
    assert filled.max() == 299 and filled.max() - filled.min() + 1 >= text_width  # all of it
