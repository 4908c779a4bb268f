"""Where results came from: data manifests, the code's commit, the banner of every page."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from capstone import provenance
from capstone.errors import CapstoneError
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
    assert provenance.machine(cpuinfo=cpuinfo) == f"{cores} CPU cores (AMD EPYC 9R14), AVX2 only"
    assert provenance.machine(gpu=True, cpuinfo=cpuinfo).startswith("a GPU and ")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        ("avx2 avx512_bf16 amx_bf16", "AMX and AVX-512 BF16"),
        ("avx2 avx512_bf16", "AVX-512 BF16"),
        ("avx2", "AVX2 only"),
        ("sse4_2", ""),
    ],
)
def test_the_cpus_vector_units_are_named(tmp_path: Path, flags: str, words: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"model name\t: X\nflags\t: fpu {flags}\n")
    assert provenance.cpu_features(cpuinfo) == words
    assert provenance.cpu_features(tmp_path / "absent") == ""


def test_a_benchmark_record_keeps_its_figures_with_machine_commit_and_model(tmp_path) -> None:
    model = tmp_path / "m.keras"
    model.write_bytes(b"weights")
    path = provenance.save_benchmark("speed", {"seconds": 1.5}, model=model, root=tmp_path)
    assert path == tmp_path / "benchmarks/results/speed.json"
    record = provenance.load_benchmark("speed", tmp_path)
    assert record is not None and record.results == {"seconds": 1.5}
    assert record.model_sha256 == hashlib.sha256(b"weights").hexdigest()
    assert record.machine == provenance.machine() and record.commit and record.date
    assert provenance.load_benchmark("absent", tmp_path) is None


def test_a_file_that_is_not_a_benchmark_record_is_refused(tmp_path) -> None:
    (tmp_path / "benchmarks/results").mkdir(parents=True)
    (tmp_path / "benchmarks/results/odd.json").write_text(json.dumps({"name": "odd"}))
    with pytest.raises(CapstoneError, match=r"odd.json: not a benchmark record \(no command"):
        provenance.load_benchmark("odd", tmp_path)
