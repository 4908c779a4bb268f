from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

from capstone.data import sample
from capstone.data.store import build_store, decode, load_store


def test_store_decodes_everything_once_and_skips_unreadable(tmp_path: Path) -> None:
    archive = sample.write_fer2013_zip(tmp_path / "fer.zip", 140, 28, seed=0)
    zipfile.ZipFile(archive).extractall(tmp_path / "raw")
    (tmp_path / "raw/train/sad/Training_bad.jpg").write_bytes(b"\xff\xd8 truncated")
    (tmp_path / "raw/train/sad/Training_empty.jpg").write_bytes(b"")
    report = build_store(tmp_path / "raw", tmp_path / "fer.npz", 48, progress=False)
    assert report["unreadable"] == ["train/sad/Training_bad.jpg", "train/sad/Training_empty.jpg"]
    assert report["stored"] == report["found"] - 2
    store = load_store(tmp_path / "fer.npz")
    assert store.x.shape == (report["stored"], 48, 48)
    assert store.x.dtype == np.uint8
    assert set(store.subset) == {"Training", "PublicTest", "PrivateTest"}
    assert (store.height == 48).all()


def test_colour_images_are_resized_to_gray_and_keep_their_size(tmp_path: Path) -> None:
    image = np.random.default_rng(0).integers(0, 255, (181, 143, 3), dtype=np.uint8)
    _, png = cv2.imencode(".png", image)
    small, shape, digest, face = decode(png.tobytes(), 48)
    assert small.shape == (48, 48) and face
    assert shape == (181, 143)
    _, jpg = cv2.imencode(".png", image.copy())
    assert decode(jpg.tobytes(), 48)[2] == digest  # same pixels, same digest
    assert decode(b"not an image", 48) is None


def test_a_folder_of_class_subfolders_loads_as_a_test_set(tmp_path: Path) -> None:
    from capstone.data.store import load_folder

    for label, value in (("happy", 200), ("anger", 30)):  # an alias folder name is fine
        (tmp_path / label).mkdir()
        cv2.imwrite(str(tmp_path / label / "a.png"), np.full((64, 80, 3), value, np.uint8))
    (tmp_path / "happy" / "broken.png").write_bytes(b"not a png")
    x, y = load_folder(tmp_path)
    assert x.shape == (2, 48, 48)
    assert sorted(y.tolist()) == [0, 3]  # angry, happy


def test_a_folder_without_class_subfolders_is_refused(tmp_path: Path) -> None:
    import pytest

    from capstone.data.store import load_folder
    from capstone.errors import DataError

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(DataError, match="no labelled images"):
        load_folder(tmp_path)


def test_a_dataset_with_no_usable_image_is_refused_with_its_files(tmp_path: Path) -> None:
    import pytest

    from capstone.data.store import load_folder
    from capstone.errors import DataError

    raw = tmp_path / "raw"
    for i in range(12):
        (raw / "train" / "happy").mkdir(parents=True, exist_ok=True)
        (raw / "train" / "happy" / f"{i:02d}.png").write_bytes(b"not a png")
    (raw / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"12 image files, none of which") as caught:
        build_store(raw, tmp_path / "fer.npz", 48, progress=False)
    message = str(caught.value)
    assert "train/happy/00.png" in message and "and 2 more" in message
    assert "notes.txt" in message and str(raw) in message
    assert not (tmp_path / "fer.npz").exists()
    with pytest.raises(DataError, match="none of which"):
        load_folder(raw / "train")


def test_pictures_have_their_face_found_and_cut_out(tmp_path: Path) -> None:
    from matplotlib import cbook

    photo = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    _, png = cv2.imencode(".png", photo)
    crop, shape, _, face = decode(png.tobytes(), 48, crop="haar")
    assert face and shape == photo.shape[:2] and crop.shape == (48, 48)
    whole = decode(png.tobytes(), 48)[0]
    assert np.abs(crop.astype(int) - whole).mean() > 10  # the face, not the whole portrait
    blank = cv2.imencode(".png", np.zeros((90, 70, 3), np.uint8))[1]
    crop, _, _, face = decode(blank.tobytes(), 48, crop="haar")
    assert not face and crop.shape == (48, 48)  # no face: cut around the whole picture
    folder = tmp_path / "raw/train/happy"
    folder.mkdir(parents=True)
    (folder / "a.png").write_bytes(png.tobytes())
    (folder / "b.png").write_bytes(blank.tobytes())
    report = build_store(tmp_path / "raw", tmp_path / "w.npz", 48, progress=False, crop="haar")
    assert report["crop"] == "haar" and report["faces_found"] == 1
    assert load_store(tmp_path / "w.npz").face.tolist() == [True, False]
