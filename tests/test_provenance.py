"""Where results came from: data manifests, the code's commit, the banner of every page."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from capstone import provenance
from capstone.params import load
from capstone.paths import ProjectPaths


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_the_commit_is_named_and_marked_dirty_when_tracked_files_changed(tmp_path: Path) -> None:
    assert provenance.git_commit(tmp_path) == "unknown"  # not a repository
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "a")
    clean = provenance.git_commit(tmp_path)
    assert len(clean) == 40 and int(clean, 16) >= 0
    (tmp_path / "untracked.txt").write_text("ignored")
    assert provenance.git_commit(tmp_path) == clean
    (tmp_path / "a.txt").write_text("two")
    assert provenance.git_commit(tmp_path) == clean + "+dirty"


def test_the_data_line_names_each_dataset_its_source_and_hash(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    assert provenance.data_line(paths) == "no data downloaded yet"
    manifest = {
        "request": {"source": "local", "path": "../shared/data/fer2013/fer2013.zip"},
        "archives": [{"sha256": "6e4fd3bf08c9a3163e52c81c"}],
        "file_count": 35887,
    }
    (paths.raw / "fer2013").mkdir(parents=True)
    (paths.raw / "fer2013/manifest.json").write_text(json.dumps(manifest))
    line = provenance.data_line(paths)
    assert line == (
        "fer2013 from local (../shared/data/fer2013/fer2013.zip; sha256 6e4fd3bf08c9…, "
        "35,887 files)"
    )


def test_the_sample_profiles_pages_say_their_faces_are_synthetic(repo: Path, tmp_path) -> None:
    paths = ProjectPaths(tmp_path)
    sample = provenance.banner(load(repo / "params/sample.yaml", repo), paths)
    assert "synthetic cartoon faces" in sample and "`sample`" in sample
    full = load(repo / "params/full.yaml", repo, check_files=False)
    assert "synthetic" not in provenance.banner(full, paths)


def test_the_machine_is_its_cores_and_cpu_model_and_a_gpu_where_seen(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t: avx2\n")
    cores = provenance.os.cpu_count()
    assert provenance.machine(cpuinfo=cpuinfo) == f"{cores} CPU cores (AMD EPYC 9R14)"
    assert provenance.machine(gpu=True, cpuinfo=cpuinfo).startswith("a GPU and ")
