"""Where results came from: the profile, the data manifests, the code version, the packages."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from capstone.artefacts import read_json, sha256_file, write_json
from capstone.errors import CapstoneError
from capstone.params import Params
from capstone.paths import ProjectPaths

PACKAGES = (
    "capstone",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "pandas",
    "scikit-learn",
    "opencv-python-headless",
    "matplotlib",
    "seaborn",
    "papermill",
    "jupyter-book",
    "kaggle",
)


def manifests(paths: ProjectPaths) -> dict[str, Any]:
    """The download manifests, by dataset name (empty if nothing was downloaded yet)."""
    return {p.parent.name: read_json(p) for p in sorted(paths.raw.glob("*/manifest.json"))}


def data_line(paths: ProjectPaths) -> str:
    """One sentence naming each dataset, its source and its archive hash."""
    parts = []
    for name, man in manifests(paths).items():
        req = man["request"]
        origin = req.get("kaggle") or req.get("path") or "the synthetic sample generator"
        digest = ", ".join((a["sha256"] or "folder")[:12] for a in man["archives"])
        parts.append(
            f"{name} from {req['source']} ({origin}; sha256 {digest}…, {man['file_count']:,} files)"
        )
    return "; ".join(parts) if parts else "no data downloaded yet"


def banner(params: Params, paths: ProjectPaths) -> str:
    """Markdown that every results page shows first: which profile and which data produced it."""
    synthetic = params.download.fer2013.source == "sample"
    warning = (
        "\n\n**These results come from synthetic cartoon faces**, generated offline so the whole "
        "pipeline runs anywhere in minutes. They show that every step works, not how well the "
        "models read real faces; run `nox -s pipeline -- --params params/full.yaml` for that."
        if synthetic
        else ""
    )
    return (
        f"**Profile:** `{params.profile}` ({params.source_file}): {params.description}  \n"
        f"**Data:** {data_line(paths)}.{warning}"
    )


def git_commit(root: str | Path = ".") -> str:
    """The current git commit (with ``+dirty`` if files changed), or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def machine(gpu: bool = False, cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """This machine in a few words, for a record of where a model trained: its CPU cores and
    model, and ``a GPU`` where the Keras backend sees one (``gpu``)."""
    model = platform.processor() or platform.machine()
    if Path(cpuinfo).is_file():
        names = [
            line.partition(":")[2].strip()
            for line in Path(cpuinfo).read_text().splitlines()
            if line.startswith("model name")
        ]
        model = names[0] if names else model
    cores = f"{os.cpu_count()} CPU cores ({model})" if model else f"{os.cpu_count()} CPU cores"
    features = cpu_features(cpuinfo)
    cores = f"{cores}, {features}" if features else cores
    return f"a GPU and {cores}" if gpu else cores


def cpu_features(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's vector units that decide training speed here, in words: ``AMX and AVX-512
    BF16``, ``AVX-512 BF16``, ``AVX2 only``, or ``""`` where it cannot tell."""
    if not Path(cpuinfo).is_file():
        return ""
    flags = set(Path(cpuinfo).read_text().split())
    if "amx_bf16" in flags:
        return "AMX and AVX-512 BF16"
    if "avx512_bf16" in flags:
        return "AVX-512 BF16"
    return "AVX2 only" if "avx2" in flags else ""


#: Where the benchmarks keep what they measured, one JSON file each (committed: the README's and
#: the book's figures are read from them).
BENCHMARK_RESULTS = Path("benchmarks") / "results"


@dataclass(frozen=True)
class BenchmarkRecord:
    """What one run of a benchmark measured, and where and when.

    ``results`` is the benchmark's own figures (plain JSON); ``model_sha256`` names the model
    file it measured, where it measured one, so that figures about an older release are never
    shown as the current one's.
    """

    name: str
    command: str
    date: str
    commit: str
    machine: str
    results: dict[str, Any]
    model_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> BenchmarkRecord:
        names = {f.name for f in fields(cls)}
        missing = names - set(data) - {"model_sha256"}
        if missing:
            raise CapstoneError(
                f"{where}: not a benchmark record (no {', '.join(sorted(missing))})"
            )
        return cls(**{k: v for k, v in data.items() if k in names})


def save_benchmark(
    name: str,
    results: dict[str, Any],
    *,
    model: str | Path | None = None,
    root: str | Path = ".",
) -> Path:
    """Write ``benchmarks/results/<name>.json`` under ``root`` (atomically): ``results`` with
    the command that ran, the date, the code commit, the machine and the model's sha256."""
    record = BenchmarkRecord(
        name=name,
        command=" ".join(["python", *sys.argv]),
        date=time.strftime("%Y-%m-%d"),
        commit=git_commit(root),
        machine=machine(),
        results=results,
        model_sha256=None if model is None else sha256_file(model),
    )
    path = Path(root) / BENCHMARK_RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, record.to_json())
    return path


def benchmark_file(name: str, root: str | Path = ".") -> Path:
    """Where benchmark ``name``'s record is: the project's ``benchmarks/results/`` under
    ``root``, else the source tree's (a test's project folder, which has no benchmarks)."""
    for base in (Path(root), Path(__file__).resolve().parents[2]):
        if (base / BENCHMARK_RESULTS / f"{name}.json").is_file():
            return base / BENCHMARK_RESULTS / f"{name}.json"
    return Path(root) / BENCHMARK_RESULTS / f"{name}.json"


def load_benchmark(name: str, root: str | Path = ".") -> BenchmarkRecord | None:
    """The stored record of benchmark ``name`` (see :func:`benchmark_file`), or ``None``."""
    path = benchmark_file(name, root)
    if not path.is_file():
        return None
    return BenchmarkRecord.from_json(read_json(path), str(path))
