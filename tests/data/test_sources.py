from __future__ import annotations

import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from capstone.data import ferplus, sample, sources
from capstone.errors import DataError
from capstone.params import DatasetSource, SampleSpec

SPEC = SampleSpec(fer_train=70, fer_test=14, wild=35, wild_size=48)


def fetch(spec: DatasetSource, tmp_path: Path, name: str = "fer2013") -> dict:
    return sources.fetch(
        name,
        spec,
        tmp_path / "raw",
        root=tmp_path,
        sample_dir=tmp_path / "sample",
        sample_spec=SPEC,
        seed=1,
    )


def test_sample_goes_through_the_loader_and_writes_a_manifest(tmp_path: Path) -> None:
    manifest = fetch(DatasetSource("sample"), tmp_path)
    assert manifest["file_count"] == len(list((tmp_path / "raw/fer2013").rglob("*.jpg")))
    assert len(manifest["archives"][0]["sha256"]) == 64
    assert (tmp_path / "raw/fer2013/manifest.json").is_file()


def test_rerun_with_valid_manifest_does_not_fetch_again(tmp_path: Path) -> None:
    fetch(DatasetSource("sample"), tmp_path)
    marker = tmp_path / "raw/fer2013/train/happy"
    before = marker.stat().st_mtime_ns
    (tmp_path / "sample/fer2013.zip").unlink()
    fetch(DatasetSource("sample"), tmp_path)
    assert not (tmp_path / "sample/fer2013.zip").exists()  # nothing regenerated
    assert marker.stat().st_mtime_ns == before


def test_local_zip_with_pinned_checksum(tmp_path: Path) -> None:
    archive = sample.write_fer2013_zip(tmp_path / "copy.zip", 70, 14, seed=2)
    good = sources._describe(archive)["sha256"]
    manifest = fetch(DatasetSource("local", path="copy.zip", sha256=good), tmp_path)
    assert manifest["request"]["source"] == "local"
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch(DatasetSource("local", path="copy.zip", sha256="0" * 64), tmp_path, "other")


def test_local_folder(tmp_path: Path) -> None:
    archive = sample.write_affectnet_zip(tmp_path / "an.zip", 35, 48, seed=2)
    zipfile.ZipFile(archive).extractall(tmp_path / "an")
    manifest = fetch(DatasetSource("local", path="an"), tmp_path, "wild")
    assert manifest["file_count"] == len(zipfile.ZipFile(archive).namelist())


def test_broken_zip_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="not a readable zip archive"):
        fetch(DatasetSource("local", path="broken.zip"), tmp_path)
    assert not (tmp_path / "raw/fer2013").exists()
    assert list((tmp_path / "raw").iterdir()) == []


def test_kaggle_without_credentials_explains_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    with pytest.raises(DataError) as err:
        fetch(DatasetSource("kaggle", kaggle="msambare/fer2013", version=1), tmp_path)
    assert "KAGGLE_USERNAME" in str(err.value)
    assert "source: local" in str(err.value)
    assert capsys.readouterr().out == ""


def test_credentials_never_reach_artefacts(tmp_path: Path, repo: Path, capstone_cli) -> None:
    """Run the download stage against Kaggle with a dummy key, then search every file for it."""
    key = "d0d0cafe" * 4
    shutil.copytree(repo / "notebooks", tmp_path / "notebooks")
    profile = yaml.safe_load((repo / "tests/fixtures/tiny.yaml").read_text())
    profile["download"]["fer2013"] = {"source": "kaggle", "kaggle": "msambare/fer2013"}
    (tmp_path / "params").mkdir()
    (tmp_path / "params/kaggle.yaml").write_text(yaml.safe_dump(profile))
    env = {**os.environ, "KAGGLE_USERNAME": "dummy-user", "KAGGLE_KEY": key}
    proc = capstone_cli(
        "pipeline",
        "--root",
        str(tmp_path),
        "--params",
        "params/kaggle.yaml",
        "--no-book",
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "could not download msambare/fer2013 from Kaggle" in proc.stderr
    assert (tmp_path / "build/notebooks/failed/01_download.ipynb").is_file()
    assert key not in proc.stdout + proc.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_a_sample_ferplus_is_laid_out_like_ferpluss_own(tmp_path: Path) -> None:
    fetch(DatasetSource("sample"), tmp_path, "ferplus")
    raw = tmp_path / "raw/ferplus"
    assert (raw / "fer2013new.csv").is_file()
    faces = ferplus.load_faces(raw)
    assert len(faces.x) == len(list(raw.rglob("*.png")))


def test_ferplus_from_kaggle_without_credentials_explains_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle"))
    with pytest.raises(
        DataError, match=r"fer2013\.csv \(challenges-in-representation.*KAGGLE_USERNAME"
    ):
        fetch(DatasetSource("kaggle"), tmp_path, "ferplus")


class FakeKaggle:
    """The Kaggle client's competition download, answered from a local fer2013.csv."""

    def __init__(self, pixels_csv: bytes) -> None:
        self.pixels_csv = pixels_csv

    def competition_download_files(self, competition: str, path: str) -> None:
        tar_path = Path(path) / "fer2013.tar.gz"
        with tarfile.open(tar_path, "w:gz") as tar:
            info = tarfile.TarInfo("fer2013/fer2013.csv")
            info.size = len(self.pixels_csv)
            tar.addfile(info, io.BytesIO(self.pixels_csv))
        with zipfile.ZipFile(Path(path) / f"{competition}.zip", "w") as zf:
            zf.write(tar_path, "fer2013.tar.gz")
        tar_path.unlink()


def test_ferplus_for_users_joins_kaggles_csv_and_the_votes_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real code path, with Kaggle and GitHub answered from local files."""
    archive = sample.write_ferplus_zip(tmp_path / "ferplus.zip", 70, 14, seed=4)
    expected = ferplus.load_faces(archive)
    votes = zipfile.ZipFile(archive).read(ferplus.VOTES_FILE)
    (tmp_path / "votes.csv").write_bytes(votes)
    rows = ["emotion,Usage,pixels"] + ["0,Training," + " ".join(["0"] * 2304)] * votes.count(b"\n")
    for (row, usage), face in zip(
        expected.crowd.table[["row", "usage"]].itertuples(index=False), expected.x, strict=True
    ):
        rows[row + 1] = f"0,{usage}," + " ".join(map(str, face.ravel()))
    fake = FakeKaggle(("\n".join(rows[: votes.count(b"\n")]) + "\n").encode())
    monkeypatch.setattr(sources, "_kaggle_api", lambda what: fake)
    monkeypatch.setattr(sources, "FERPLUS_VOTES_URL", (tmp_path / "votes.csv").as_uri())
    fetch(DatasetSource("kaggle"), tmp_path, "ferplus")
    joined = ferplus.load_faces(tmp_path / "raw/ferplus")
    assert np.array_equal(joined.x, expected.x)
    assert not (tmp_path / "raw/.ferplus.download").exists()

    monkeypatch.setattr(sources, "FERPLUS_VOTES_URL", "http://127.0.0.1:9/fer2013new.csv")
    with pytest.raises(DataError, match=r"could not download fer2013new\.csv .* by hand"):
        fetch(DatasetSource("kaggle", kaggle="another"), tmp_path, "ferplus")
