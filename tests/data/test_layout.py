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


def test_scan_reads_fer2013_subsets_and_counts_what_it_leaves_out(tmp_path: Path) -> None:
    for rel in [
        "train/happy/Training_1.jpg",
        "test/sad/PublicTest_2.jpg",
        "test/sad/PrivateTest_3.jpg",
        "contempt/x.jpg",
        "contempt/y.png",
        "train/happy/notes.txt",
    ]:
        touch(tmp_path / rel)
    found = scan(tmp_path)
    assert found.dropped == {"contempt": 2}
    assert found.ignored == ["train/happy/notes.txt"]
    assert found.table.to_dict("records") == [
        {"path": "test/sad/PrivateTest_3.jpg", "label": "sad", "subset": "PrivateTest"},
        {"path": "test/sad/PublicTest_2.jpg", "label": "sad", "subset": "PublicTest"},
        {"path": "train/happy/Training_1.jpg", "label": "happy", "subset": "Training"},
    ]


def test_scan_of_a_wrong_layout_says_what_it_found_and_expected(tmp_path: Path) -> None:
    touch(tmp_path / "readme.txt")
    touch(tmp_path / "images" / "001.txt")
    with pytest.raises(DataError, match=r"holds \['images', 'readme.txt'\]\. Expected <class>"):
        scan(tmp_path)


def test_scan_names_the_file_with_an_unknown_class(tmp_path: Path) -> None:
    touch(tmp_path / "train" / "bored" / "a.jpg")
    with pytest.raises(DataError, match=r"train/bored/a\.jpg: unknown class folder 'bored'"):
        scan(tmp_path)


def test_sfew_layout_keeps_its_own_split(tmp_path: Path) -> None:
    touch(tmp_path / "train" / "angry" / "Movie_001_01.png")
    touch(tmp_path / "val" / "happy" / "Other_002_03.png")
    assert list(scan(tmp_path).table["subset"]) == ["train", "val"]
