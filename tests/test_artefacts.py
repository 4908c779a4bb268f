from __future__ import annotations

from pathlib import Path

import pytest

from capstone.artefacts import atomic_path, read_json, sha256_json, write_json


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.keras"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".keras"
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_json_round_trip_and_stable_hash(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert read_json(tmp_path / "a.json") == {"a": [1, 2], "b": 1}
    assert sha256_json({"a": 1, "b": 2}) == sha256_json({"b": 2, "a": 1})


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    from capstone.artefacts import write_json

    old = os.umask(0o022)
    try:
        write_json(tmp_path / "shared.json", {"a": 1})
        os.umask(0o077)
        write_json(tmp_path / "private.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
