from __future__ import annotations

from pathlib import Path

import pytest

from capstone.errors import CapstoneError
from capstone.model.training import select_best
from capstone.paths import ProjectPaths


def test_model_is_found_in_the_stage_that_trained_it(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    (tmp_path / "build/baseline").mkdir(parents=True)
    (tmp_path / "build/baseline/baseline.keras").write_bytes(b"x")
    assert paths.model("baseline") == tmp_path / "build/baseline/baseline.keras"
    with pytest.raises(FileNotFoundError, match="no model called 'nope'"):
        paths.model("nope")


def test_selected_reads_the_pick_and_names_the_missing_file(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    with pytest.raises(CapstoneError, match=r"selected\.json is missing.*--to merged"):
        paths.selected()
    paths.stage("merged").mkdir(parents=True)
    select_best(paths.stage("merged"), {"a": 0.61, "b": 0.64})
    assert paths.selected() == "b"
