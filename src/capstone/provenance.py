"""Where results came from: the profile, the data manifests, the code version, the packages."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from capstone.artefacts import read_json
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
    return f"a GPU and {cores}" if gpu else cores
