"""Every release is kept, by date and hash, with its record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from capstone.errors import CapstoneError
from capstone.release.archive import INDEX, releases, releases_page


def test_every_release_is_kept_and_is_the_file_its_record_describes() -> None:
    found = releases(REPO)  # raises where a file is missing or differs from its record
    assert found[-1].file == REPO / "models/fer_cnn.keras"
    assert [r.date for r in found] == sorted(r.date for r in found)
    kept = {p.resolve() for p in (REPO / "models/archive").rglob("*.keras")}
    kept -= {(REPO / "models/archive/seed_cnn/seed_cnn.keras").resolve()}  # not a release
    assert kept <= {r.file.resolve() for r in found}, "an archived model is not in the index"


def test_the_page_names_each_release_by_date_and_hash() -> None:
    page = releases_page(REPO)
    for r in releases(REPO):
        assert f"| {r.date} | `{r.sha256[:12]}` |" in page
    current = releases(REPO)[-1]
    assert f"{current.record['test']['ferplus']['crowd']['majority_accuracy']:.1%}" in page


def test_a_file_that_is_not_its_records_is_refused(tmp_path: Path) -> None:
    (tmp_path / "models/archive").mkdir(parents=True)
    shutil.copy(REPO / "models/fer_cnn.json", tmp_path / "models/fer_cnn.json")
    (tmp_path / "models/fer_cnn.keras").write_bytes(b"other weights")
    entry = {"date": "2026-12-03", "file": "models/fer_cnn.keras", "commit": "x", "about": "y"}
    (tmp_path / INDEX).write_text(yaml.safe_dump([entry]))
    with pytest.raises(CapstoneError, match="not the file its record describes"):
        releases(tmp_path)
    (tmp_path / "models/fer_cnn.keras").unlink()
    with pytest.raises(CapstoneError, match="is missing"):
        releases(tmp_path)
