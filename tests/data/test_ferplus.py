"""FER+'s votes read row by row: both layouts, the documented quirks, and every bad input."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from capstone.data import ferplus
from capstone.data.sample import write_ferplus_zip
from capstone.errors import DataError
from capstone.labels import CLASSES


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ferplus_zip(tmp_path_factory.mktemp("ferplus") / "ferplus.zip", 70, 21, seed=3)


@pytest.fixture
def folder(archive: Path, tmp_path: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "ferplus")
    return tmp_path / "ferplus"


def votes_csv(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / ferplus.VOTES_FILE, dtype=str, keep_default_na=False)


def test_a_zip_and_its_folder_give_the_same_faces_and_votes(archive: Path, folder: Path) -> None:
    from_zip, from_folder = ferplus.load_faces(archive), ferplus.load_faces(folder)
    assert np.array_equal(from_zip.x, from_folder.x)
    assert from_zip.crowd.table.equals(from_folder.crowd.table)
    table = from_zip.crowd.table
    assert len(table) == len(from_zip.x) == len(set(table["image"]))
    assert from_zip.crowd.left_out == {
        "no image (dropped by FER+)": 3,
        "image listed twice, same votes (kept once)": 1,
        "image listed twice, different votes": 0,
    }
    first = table.iloc[0]
    png = folder / ferplus.FOLDERS[first["usage"]] / first["image"]
    assert np.array_equal(from_zip.x[0], cv2.imread(str(png), cv2.IMREAD_GRAYSCALE))


def test_an_image_listed_twice_with_other_votes_is_left_out(folder: Path) -> None:
    csv = votes_csv(folder)
    twin = csv.iloc[[2]].copy()
    twin["NF"] = "10"
    pd.concat([csv, twin]).to_csv(folder / ferplus.VOTES_FILE, index=False)
    crowd = ferplus.load_faces(folder).crowd
    assert csv["Image name"].iloc[2] not in set(crowd.table["image"])
    assert crowd.ambiguous == (csv["Image name"].iloc[2],)
    assert crowd.left_out["image listed twice, different votes"] == 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.drop(columns="contempt"), r"missing: contempt"),
        (lambda d: d.assign(extra="1"), r"unexpected: extra"),
        (
            lambda d: d.assign(fear=d["fear"].mask(d.index == 4, "-1")),
            r"line 6: the fear vote is '-1'",
        ),
        (
            lambda d: d.assign(anger=d["anger"].mask(d.index == 0, "lots")),
            r"line 2: the anger vote",
        ),
        (lambda d: d.assign(Usage=d["Usage"].mask(d.index == 1, "Test")), r"line 3: Usage 'Test'"),
    ],
)
def test_a_bad_votes_file_names_the_file_and_the_line(folder: Path, edit, message) -> None:
    edit(votes_csv(folder)).to_csv(folder / ferplus.VOTES_FILE, index=False)
    with pytest.raises(DataError, match=rf"fer2013new\.csv: .*{message}"):
        ferplus.load_faces(folder)


def test_an_absent_image_is_named_with_its_line(folder: Path) -> None:
    csv = votes_csv(folder)
    gone = csv["Image name"].iloc[5]
    (folder / "FER2013Train" / gone).unlink()
    with pytest.raises(
        DataError, match=rf"images that fer2013new\.csv names are absent, e\.g\. {gone} \(line 7\)"
    ):
        ferplus.load_faces(folder)


def test_a_split_with_more_images_than_the_votes_is_refused(folder: Path) -> None:
    test = folder / "FER2013Test"
    shutil.copy(next(test.glob("*.png")), test / "fer9999999.png")
    with pytest.raises(
        DataError, match=r"FER2013Test/: holds \d+ images but .* not named there: fer9999999\.png"
    ):
        ferplus.load_faces(folder)


def test_no_votes_file_says_where_to_get_it(folder: Path) -> None:
    (folder / ferplus.VOTES_FILE).unlink()
    with pytest.raises(DataError, match=r"no fer2013new\.csv in it.*github\.com/microsoft/FERPlus"):
        ferplus.load_faces(folder)


def kaggle_pixels(crowd: ferplus.CrowdVotes, faces: np.ndarray, rows: int) -> str:
    """Kaggle's fer2013.csv for ``rows`` rows, holding ``faces`` at the crowd's rows."""
    table = pd.DataFrame(
        {"emotion": 0, "Usage": "Training", "pixels": " ".join(["0"] * 2304)}, index=range(rows)
    )
    for (row, usage), face in zip(
        crowd.table[["row", "usage"]].itertuples(index=False), faces, strict=True
    ):
        table.loc[row, ["Usage", "pixels"]] = [usage, " ".join(map(str, face.ravel()))]
    return table.to_csv(index=False)


def test_kaggles_csv_joined_by_row_gives_the_same_faces(archive: Path, tmp_path: Path) -> None:
    data = ferplus.load_faces(archive)
    votes = zipfile.ZipFile(archive).read(ferplus.VOTES_FILE)
    rows = len(pd.read_csv(io.BytesIO(votes)))
    users = tmp_path / "users"
    users.mkdir()
    (users / ferplus.VOTES_FILE).write_bytes(votes)
    (users / "fer2013.csv").write_text(kaggle_pixels(data.crowd, data.x, rows))
    joined = ferplus.load_faces(users)
    assert np.array_equal(joined.x, data.x)

    (users / "fer2013.csv").write_text(
        kaggle_pixels(data.crowd, data.x, rows).replace("PrivateTest", "PublicTest", 1)
    )
    with pytest.raises(
        DataError, match=r"fer2013\.csv: line \d+ is PublicTest but .* not in the same order"
    ):
        ferplus.load_faces(users)
    short = "\n".join(kaggle_pixels(data.crowd, data.x, rows).splitlines()[:10])
    (users / "fer2013.csv").write_text(short)
    with pytest.raises(DataError, match=r"has 9 rows but fer2013new\.csv needs"):
        ferplus.load_faces(users)


def test_shares_readable_faces_and_clear_majorities() -> None:
    #                 neu hap sur sad ang dis fea con unk NF
    votes = np.array(
        [
            [6, 0, 0, 0, 4, 0, 0, 0, 0, 0],  # clear neutral
            [0, 0, 0, 0, 5, 5, 0, 0, 0, 0],  # a tie: readable, no clear majority
            [0, 3, 0, 0, 0, 0, 0, 3, 4, 0],  # unknown wins: not readable
            [0, 0, 0, 2, 0, 0, 0, 0, 0, 8],  # not a face
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ]
    )  # no votes
    shares = ferplus.shares(votes)
    assert shares[0, CLASSES.index("neutral")] == pytest.approx(0.6)
    assert shares[0, CLASSES.index("angry")] == pytest.approx(0.4)
    assert np.allclose(shares[:4].sum(axis=1), 1) and not shares[4].any()
    assert ferplus.readable(votes).tolist() == [True, True, False, False, False]
    assert ferplus.clear_majority(votes).tolist() == [True, False, False, False, False]


def test_nearest_finds_each_face_again_among_shuffled_noisy_copies() -> None:
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (50, 48, 48), dtype=np.uint8)
    order = rng.permutation(50)
    copies = np.clip(faces[order].astype(int) + rng.integers(-2, 3, faces.shape), 0, 255).astype(
        np.uint8
    )
    index, rms = ferplus.nearest(faces, copies, chunk=16)
    assert np.array_equal(order[index], np.arange(50))
    assert rms.max() < 2


def test_fer2013s_labels_are_compared_with_the_crowds_on_the_same_faces(tmp_path: Path) -> None:
    """The sample's FER+ holds the sample FER2013's faces: each is found again, and the
    comparison counts exactly where the one label and the crowd's majority part."""
    from capstone.data import crowd, sample
    from capstone.data.store import build_crowd_store, build_store, load_store

    for name, writer in (("fer", sample.write_fer2013_zip), ("plus", sample.write_ferplus_zip)):
        zipfile.ZipFile(writer(tmp_path / f"{name}.zip", 140, 70, seed=5)).extractall(
            tmp_path / name
        )
    build_store(tmp_path / "fer", tmp_path / "fer.npz", 48, progress=False)
    build_crowd_store(tmp_path / "plus", tmp_path / "plus.npz")
    fer, plus = load_store(tmp_path / "fer.npz"), load_store(tmp_path / "plus.npz")
    found = crowd.compare(plus, fer, "PrivateTest")
    assert found.unmatched == 0
    assert found.n == ferplus.clear_majority(plus.votes[plus.subset == "PrivateTest"]).sum()
    # the sample draws each face as its FER2013 label: the crowd mostly sees it too
    assert 0.7 < found.agreement < 1
    table = found.by_class()
    assert table["FER2013 says"].sum() == table["the crowd says"].sum() == found.n
    assert found.confusion().to_numpy().trace() == (found.crowd == found.fer2013).sum()
    apart = found.disagreements(per_class=2)
    assert (apart["FER2013"] != apart["crowd"]).all() and apart.groupby("FER2013").size().max() <= 2
