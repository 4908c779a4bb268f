from __future__ import annotations

from pathlib import Path

import pytest

from capstone.data.layout import normalise_label, scan
from capstone.errors import DataError


@pytest.mark.parametrize(
    ("folder", "label"),
    [
        ("anger", "angry"),
        ("Happiness", "happy"),
        ("sadness", "sad"),
        ("surprised", "surprise"),
        ("fearful", "fear"),
        ("disgusted", "disgust"),
        ("neutral", "neutral"),
        ("contempt", None),
    ],
)
def test_labels_are_normalised(folder: str, label: str | None) -> None:
    assert normalise_label(folder) == label


def test_unknown_label_fails_clearly() -> None:
    with pytest.raises(DataError, match="unknown class folder 'bored'"):
        normalise_label("bored")


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_scan_reads_fer2013_subsets_and_drops_contempt(tmp_path: Path) -> None:
    for rel in [
        "train/happy/Training_1.jpg",
        "test/sad/PublicTest_2.jpg",
        "test/sad/PrivateTest_3.jpg",
        "contempt/x.jpg",
        "notes.txt",
    ]:
        touch(tmp_path / rel)
    table = scan(tmp_path)
    assert table.to_dict("records") == [
        {"path": "test/sad/PrivateTest_3.jpg", "label": "sad", "subset": "PrivateTest"},
        {"path": "test/sad/PublicTest_2.jpg", "label": "sad", "subset": "PublicTest"},
        {"path": "train/happy/Training_1.jpg", "label": "happy", "subset": "Training"},
    ]


def test_scan_of_an_empty_tree_says_what_it_expected(tmp_path: Path) -> None:
    touch(tmp_path / "readme.txt")
    with pytest.raises(DataError, match="no labelled images found"):
        scan(tmp_path)
