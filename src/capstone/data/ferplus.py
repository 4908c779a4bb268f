"""FER+: the crowd's votes for the FER2013 faces, read and checked row by row.

FER+ (Barsoum et al., ICMI 2016; github.com/microsoft/FERPlus, MIT licence) asked 10 taggers
to label each FER2013 face with one of neutral, happiness, surprise, sadness, anger, disgust,
fear, contempt, unknown or NF (not a face). ``fer2013new.csv`` holds their votes, one row per
row of Kaggle's ``fer2013.csv``, in the same order. Two layouts carry the faces:

- FERPlus's own (what its ``generate_training_data.py`` writes): ``FER2013Train/``,
  ``FER2013Valid/`` and ``FER2013Test/`` hold ``ferNNNNNNNN.png``, named in the CSV's
  ``Image name`` column, with ``fer2013new.csv`` at the top;
- Kaggle's ``fer2013.csv`` (or ``icml_face_data.csv``, the same table) beside
  ``fer2013new.csv``: the faces are that file's pixels, joined to the votes by row.

How the votes become what a 7-class model reads (:func:`crowd_table`):

- rows with no ``Image name`` are faces FER+ itself dropped (mostly not faces): left out;
- an image name listed on two rows is one face if the two rows' votes agree; where they
  disagree nobody can tell which votes belong to the image, so the face is left out;
- a face is *readable* when one of our 7 classes has at least as many votes as contempt,
  unknown and NF each: its targets are the shares of the 7 classes' votes (contempt,
  unknown and NF votes set aside);
- a face has a *clear majority* when one of the 7 classes has more votes than every other
  column: the faces on which agreement with the crowd's majority is measured.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from capstone.errors import DataError
from capstone.labels import CLASSES, SIZE

VOTES_FILE = "fer2013new.csv"
PIXELS_FILES = ("fer2013.csv", "icml_face_data.csv")  # Kaggle's names for one table

#: The vote columns of ``fer2013new.csv``, in its order.
VOTE_COLUMNS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
)

#: Our class for each of FER+'s emotions; contempt, unknown and NF have none.
TO_CLASS: dict[str, str] = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
}

#: FERPlus's folder for each FER2013 ``Usage``.
FOLDERS: dict[str, str] = {
    "Training": "FER2013Train",
    "PublicTest": "FER2013Valid",
    "PrivateTest": "FER2013Test",
}


@dataclass(frozen=True)
class CrowdVotes:
    """The checked votes: one row per face that has an image.

    ``table`` has ``row`` (the line's row in ``fer2013new.csv``, from 0), ``usage``
    (FER2013's ``Training``/``PublicTest``/``PrivateTest``), ``image`` (the PNG's name) and
    one integer column per entry of :data:`VOTE_COLUMNS`. ``left_out`` counts the rows set
    aside and why; ``ambiguous`` names the images left out because their rows disagree.
    """

    table: pd.DataFrame
    left_out: dict[str, int]
    ambiguous: tuple[str, ...] = ()

    @property
    def votes(self) -> np.ndarray:
        """``(n, 10)`` vote counts, columns as :data:`VOTE_COLUMNS`."""
        return self.table[list(VOTE_COLUMNS)].to_numpy(np.int64)


def read_votes(path: str | Path) -> CrowdVotes:
    """Read and check the file ``fer2013new.csv`` at ``path`` (see :func:`read_votes_from`)."""
    return read_votes_from(Path(path), str(path))


def read_votes_from(source: Path | io.BytesIO, path: str) -> CrowdVotes:
    """Read and check ``fer2013new.csv`` from ``source``; ``path`` names it in messages.

    Raises
    ------
    DataError
        If a column is missing or extra, a ``Usage`` is not one of FER2013's, or a vote is
        not a whole number from 0 to 10; the message names the file and the line.
    """
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read as a CSV file ({err})") from None
    expected = ["Usage", "Image name", *VOTE_COLUMNS]
    if list(raw.columns) != expected:
        missing = [c for c in expected if c not in raw.columns]
        extra = [c for c in raw.columns if c not in expected]
        raise DataError(
            f"{path}: expected the columns {', '.join(expected)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(map(str, extra))}" if extra else "")
            + ". Use fer2013new.csv from github.com/microsoft/FERPlus as it is."
        )
    bad_usage = ~raw["Usage"].isin(list(FOLDERS))
    if bad_usage.any():
        line = int(np.flatnonzero(bad_usage)[0])
        raise DataError(
            f"{path}: line {line + 2}: Usage {raw['Usage'].iloc[line]!r} is not one of "
            f"{', '.join(FOLDERS)}"
        )
    votes = raw[list(VOTE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = votes.isna() | (votes < 0) | (votes > 10) | (votes % 1 != 0)
    if bad.to_numpy().any():
        line, col = (int(i[0]) for i in np.nonzero(bad.to_numpy()))
        raise DataError(
            f"{path}: line {line + 2}: the {VOTE_COLUMNS[col]} vote is "
            f"{raw[VOTE_COLUMNS[col]].iloc[line]!r}; votes are whole numbers from 0 to 10"
        )
    table = pd.DataFrame(
        {"row": np.arange(len(raw)), "usage": raw["Usage"], "image": raw["Image name"].str.strip()}
    )
    table[list(VOTE_COLUMNS)] = votes.astype(np.int64)
    return _one_row_per_image(table)


def _one_row_per_image(table: pd.DataFrame) -> CrowdVotes:
    """Leave out rows without an image, and images whose rows disagree (module docstring)."""
    no_image = table["image"] == ""
    named = table[~no_image]
    repeated = named[named["image"].duplicated(keep=False)]
    conflicting = {
        image
        for image, rows in repeated.groupby("image")
        if len(rows[list(VOTE_COLUMNS)].drop_duplicates()) > 1
    }
    kept = named[~named["image"].isin(conflicting)].drop_duplicates("image")
    left_out = {
        "no image (dropped by FER+)": int(no_image.sum()),
        "image listed twice, same votes (kept once)": int(repeated["image"].nunique())
        - len(conflicting),
        "image listed twice, different votes": len(conflicting),
    }
    return CrowdVotes(kept.reset_index(drop=True), left_out, tuple(sorted(conflicting)))


@dataclass(frozen=True)
class CrowdFaces:
    """FER+'s faces with their checked votes: ``x[i]`` is the face of ``crowd.table`` row ``i``."""

    crowd: CrowdVotes
    x: np.ndarray


class _Files:
    """The files of a zip archive or a folder, by their posix path inside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self._zip = None
            self.names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
        else:
            try:
                self._zip = zipfile.ZipFile(path)
            except (OSError, zipfile.BadZipFile) as err:
                raise DataError(f"{path}: not a readable zip archive or folder ({err})") from None
            self.names = set(self._zip.namelist())

    def find(self, name: str) -> str | None:
        """The path of ``name`` at the top or one folder down (an archive's own folder)."""
        found = sorted(n for n in self.names if n == name or n.endswith(f"/{name}"))
        return min(found, key=len) if found else None

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()


def load_faces(path: str | Path) -> CrowdFaces:
    """FER+ from a zip or folder: FERPlus's layout, or Kaggle's ``fer2013.csv`` beside
    ``fer2013new.csv`` (see the module docstring).

    Raises
    ------
    DataError
        If ``fer2013new.csv`` is not there or not valid (:func:`read_votes`), an image it
        names is absent, a split folder holds images it does not name, or an image is not a
        48 x 48 grayscale picture; each message names the file (and the line).
    """
    files = _Files(Path(path))
    votes_at = files.find(VOTES_FILE)
    if votes_at is None:
        raise DataError(
            f"{path}: no {VOTES_FILE} in it. FER+ needs the crowd's votes: download "
            f"{VOTES_FILE} from github.com/microsoft/FERPlus and put it at the top."
        )
    crowd = read_votes_from(io.BytesIO(files.read(votes_at)), f"{path}: {votes_at}")
    if not any(f"{FOLDERS['Training']}/" in name for name in files.names):
        pixels_at = next((p for n in PIXELS_FILES if (p := files.find(n))), None)
        if pixels_at is None:
            raise DataError(
                f"{path}: holds {VOTES_FILE} but no faces: expected FERPlus's folders "
                f"({', '.join(FOLDERS.values())}) or Kaggle's {' or '.join(PIXELS_FILES)}"
            )
        pixels = io.BytesIO(files.read(pixels_at))
        return CrowdFaces(crowd, faces_from_pixels(crowd, pixels, f"{path}: {pixels_at}"))
    top = votes_at.rsplit("/", 1)[0] + "/" if "/" in votes_at else ""
    check_images(crowd, files.names, top, str(path))
    x = np.zeros((len(crowd.table), SIZE, SIZE), np.uint8)
    for i, (usage, image) in enumerate(
        zip(crowd.table["usage"], crowd.table["image"], strict=True)
    ):
        name = f"{top}{FOLDERS[usage]}/{image}"
        face = cv2.imdecode(np.frombuffer(files.read(name), np.uint8), cv2.IMREAD_GRAYSCALE)
        if face is None or face.shape != (SIZE, SIZE):
            raise DataError(f"{path}: {name}: not a {SIZE} x {SIZE} grayscale image")
        x[i] = face
    return CrowdFaces(crowd, x)


def check_images(crowd: CrowdVotes, names: set[str], top: str, where: str) -> None:
    """Check that the files ``names`` (FERPlus's layout under ``top``) hold exactly the
    images the votes name.

    Raises
    ------
    DataError
        If an image the CSV names is absent (its line is given), or a split folder holds
        images the CSV does not name.
    """
    for usage, sub in FOLDERS.items():
        rows = crowd.table[crowd.table["usage"] == usage]
        prefix = f"{top}{sub}/"
        on_disk = {n[len(prefix) :] for n in names if n.startswith(prefix) and n.endswith(".png")}
        absent = rows[~rows["image"].isin(on_disk)]
        if len(absent):
            first = absent.iloc[0]
            raise DataError(
                f"{where}: {prefix}: {len(absent):,} of the {len(rows):,} {usage} images that "
                f"{VOTES_FILE} names are absent, e.g. {first['image']} (line {first['row'] + 2}). "
                "Extract the whole FER+ archive, or regenerate the folders with FERPlus's "
                "generate_training_data.py."
            )
        unnamed = on_disk - set(rows["image"]) - set(crowd.ambiguous)
        if unnamed:
            raise DataError(
                f"{where}: {prefix}: holds {len(on_disk):,} images but {VOTES_FILE} names "
                f"{len(rows):,} for {usage}; not named there: {', '.join(sorted(unnamed)[:5])}. "
                "Are the folders and the CSV from one FER+ release?"
            )


def faces_from_pixels(
    crowd: CrowdVotes, source: str | Path | io.BytesIO, pixels_csv: str = "fer2013.csv"
) -> np.ndarray:
    """The ``(n, 48, 48)`` uint8 faces of ``crowd``, from Kaggle's ``fer2013.csv``, by row.

    Raises
    ------
    DataError
        If the two files do not have one row each per face in the same order (row counts
        or ``Usage`` differ), or a row's pixels are not 2,304 numbers from 0 to 255.
    """
    try:
        table = pd.read_csv(source, dtype=str, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{pixels_csv}: cannot read as a CSV file ({err})") from None
    table.columns = table.columns.str.strip()
    if not {"Usage", "pixels"} <= set(table.columns):
        raise DataError(f"{pixels_csv}: expected Kaggle's columns emotion, Usage, pixels")
    rows = crowd.table["row"].to_numpy()
    if len(table) <= rows.max():
        raise DataError(
            f"{pixels_csv}: has {len(table):,} rows but {VOTES_FILE} needs {rows.max() + 1:,}; "
            "join the two files of one release, row by row"
        )
    usage = table["Usage"].str.strip().to_numpy()[rows]
    differ = np.flatnonzero(usage != crowd.table["usage"].to_numpy())
    if len(differ):
        line = int(rows[differ[0]])
        raise DataError(
            f"{pixels_csv}: line {line + 2} is {usage[differ[0]]} but {VOTES_FILE} says "
            f"{crowd.table['usage'].iloc[differ[0]]}: the rows are not in the same order"
        )
    faces = np.zeros((len(rows), SIZE, SIZE), np.uint8)
    for i, row in enumerate(rows):
        values = np.array(str(table["pixels"].iloc[row]).split(), dtype=np.float64)
        if values.size != SIZE * SIZE or values.min() < 0 or values.max() > 255:
            raise DataError(
                f"{pixels_csv}: line {row + 2}: pixels must be 2,304 numbers from 0 to 255"
            )
        faces[i] = values.reshape(SIZE, SIZE).astype(np.uint8)
    return faces


def shares(votes: np.ndarray) -> np.ndarray:
    """The crowd's shares over :data:`~capstone.params.CLASSES` (rows sum to 1; a face with
    no vote for any of them gets zeros).

    ``votes`` is ``(n, 10)`` in :data:`VOTE_COLUMNS` order; contempt, unknown and NF votes
    are set aside.
    """
    ours = counts(votes).astype(np.float64)
    total = ours.sum(axis=1, keepdims=True)
    return np.divide(ours, total, out=np.zeros_like(ours), where=total > 0)


def readable(votes: np.ndarray) -> np.ndarray:
    """Faces whose most-voted of our classes has at least as many votes as contempt, unknown
    and NF each (and at least one vote)."""
    top = counts(votes).max(axis=1)
    others = votes[:, [VOTE_COLUMNS.index(c) for c in ("contempt", "unknown", "NF")]]
    return (top > 0) & (top >= others.max(axis=1))


def clear_majority(votes: np.ndarray) -> np.ndarray:
    """Faces where one of our classes has more votes than every other column."""
    ours = counts(votes)
    top = ours.max(axis=1)
    others = votes[:, [VOTE_COLUMNS.index(c) for c in ("contempt", "unknown", "NF")]]
    return ((ours == top[:, None]).sum(axis=1) == 1) & (top > others.max(axis=1))


def counts(votes: np.ndarray) -> np.ndarray:
    """``(n, 7)`` vote counts for :data:`~capstone.params.CLASSES`, in that order."""
    from_class = {dst: src for src, dst in TO_CLASS.items()}
    return np.stack([votes[:, VOTE_COLUMNS.index(from_class[c])] for c in CLASSES], axis=1)


def nearest(
    faces: np.ndarray, pool: np.ndarray, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """For each face, the index of the nearest face in ``pool`` and their RMS difference in
    grey levels: how FER+'s lossless PNGs find Kaggle's JPEGs of the same faces (which carry
    no row number), and with them FER2013's own label.
    """
    a = faces.reshape(len(faces), -1).astype(np.float32)
    b = pool.reshape(len(pool), -1).astype(np.float32)
    b_norm = (b * b).sum(axis=1)
    index, rms = np.zeros(len(a), np.int64), np.zeros(len(a))
    for start in range(0, len(a), chunk):
        part = a[start : start + chunk]
        d2 = (part * part).sum(axis=1)[:, None] + b_norm[None, :] - 2 * part @ b.T
        index[start : start + chunk] = d2.argmin(axis=1)
        best = d2[np.arange(len(part)), index[start : start + chunk]]
        rms[start : start + chunk] = np.sqrt(np.maximum(best, 0) / a.shape[1])
    return index, rms
