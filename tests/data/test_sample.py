from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from capstone.data import sample
from capstone.labels import CLASSES


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = sample.write_fer2013_zip(tmp_path / "a.zip", 70, 14, seed=3)
    b = sample.write_fer2013_zip(tmp_path / "b.zip", 70, 14, seed=3)
    c = sample.write_fer2013_zip(tmp_path / "c.zip", 70, 14, seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_fer2013_layout_and_imbalance(tmp_path: Path) -> None:
    path = sample.write_fer2013_zip(tmp_path / "fer.zip", 700, 70, seed=0)
    names = zipfile.ZipFile(path).namelist()
    prefixes = Counter(n.split("/")[-1].split("_")[0] for n in names)
    assert set(prefixes) == {"Training", "PublicTest", "PrivateTest"}
    train = Counter(n.split("/")[1] for n in names if n.startswith("train/"))
    assert set(train) == set(CLASSES)
    assert train["happy"] > 5 * train["disgust"]  # FER2013's imbalance is kept
    img = Image.open(io.BytesIO(zipfile.ZipFile(path).read(names[0])))
    assert (img.mode, img.size) == ("L", (48, 48))


def test_affectnet_layout_uses_its_own_class_names(tmp_path: Path) -> None:
    path = sample.write_affectnet_zip(tmp_path / "an.zip", 70, 64, seed=0)
    names = zipfile.ZipFile(path).namelist()
    assert {n.split("/")[0] for n in names} == set(sample.AFFECTNET_NAMES)
    img = Image.open(io.BytesIO(zipfile.ZipFile(path).read(names[0])))
    assert (img.mode, img.size) == ("RGB", (64, 64))


def test_faces_vary_within_a_class() -> None:
    rng = np.random.default_rng(0)
    people = sample.make_identities(rng, 5)
    faces = np.stack(
        [sample.render_face(rng, "happy", people[i % 5], 48, False) for i in range(10)]
    )
    assert faces.std(axis=0).mean() > 10  # pose, lighting and identity change the pixels
