from __future__ import annotations

from pathlib import Path

import pytest

from capstone.paths import ProjectPaths


def test_model_is_found_in_the_stage_that_trained_it(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    (tmp_path / "build/baseline").mkdir(parents=True)
    (tmp_path / "build/baseline/baseline.keras").write_bytes(b"x")
    assert paths.model("baseline") == tmp_path / "build/baseline/baseline.keras"
    with pytest.raises(FileNotFoundError, match="no model called 'nope'"):
        paths.model("nope")
