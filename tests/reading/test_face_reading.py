"""A face read in a picture: what it shows, what it writes, and what it refuses."""

from __future__ import annotations

import pytest

from capstone.reading.face_reading import FaceReading, parse_role, role_words

READ = FaceReading((10, 20, 30, 40), "ok", "happy", 0.62, {"happy": 0.62, "neutral": 0.38}).on_call(
    "P2", "prospect", "Dana"
)


def test_a_face_says_its_label_and_caption_from_what_was_read() -> None:
    assert (READ.label, READ.who, READ.caption()) == ("happy", "prospect (Dana)", "P2 happy 62%")
    unsure = FaceReading((0, 0, 9, 9), "uncertain", "sad", 0.31, {"sad": 0.31})
    assert (unsure.label, unsure.caption()) == ("uncertain", "uncertain 31%")
    skipped = FaceReading((0, 0, 9, 9), "not_read").on_call("P1", "rep")
    assert (skipped.label, skipped.caption(), skipped.read) == ("not read", "P1 not read", False)
    assert FaceReading((0, 0, 4, 4), "too_small").label == "too small"


def test_its_json_reads_back_as_the_same_face() -> None:
    record = READ.to_json()
    assert record == {
        "box": [10, 20, 30, 40],
        "status": "ok",
        "label": "happy",
        "probability": 0.62,
        "probs": {"happy": 0.62, "neutral": 0.38},
        "participant": "P2",
        "role": "prospect (Dana)",
    }
    assert FaceReading.from_json(record) == READ


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status": "guessed"}, "status must be one of"),
        ({"status": "ok", "role": "boss"}, "role must be one of"),
        ({"status": "ok"}, "probability None"),  # read, but no probability
        ({"status": "not_read", "probability": 0.5}, "probability 0.5"),
    ],
)
def test_an_impossible_face_is_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaceReading((0, 0, 1, 1), **kwargs)


@pytest.mark.parametrize(
    ("role", "name", "words"),
    [("prospect", "Dana", "prospect (Dana)"), ("rep", "", "rep"), ("", "", "")],
)
def test_roles_in_words_parse_back(role: str, name: str, words: str) -> None:
    assert role_words(role, name) == words
    assert parse_role(words) == (role, name)
