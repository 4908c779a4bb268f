"""The stage cache: what a stage's inputs hash to (params slice, notebook, the package code it
imports, upstream artefacts), and the completion marker that records it. A stage is current
when its marker holds the hash of its inputs now."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path
from typing import Any

import capstone
from capstone.artefacts import (
    read_json,
    sha256_contents,
    sha256_file,
    sha256_json,
)
from capstone.params import Params
from capstone.paths import ProjectPaths
from capstone.pipeline.stages import BY_NAME

log = logging.getLogger(__name__)

MARKER = ".done.json"


def code_hash(notebook: Path) -> str:
    """A hash of the ``capstone`` modules ``notebook`` uses: those it imports, transitively.

    Found by reading the import statements of the notebook's code cells and of each module
    they reach, so editing a module a stage never uses does not rerun that stage.
    """
    pkg = Path(capstone.__file__).parent
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    todo = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    files: dict[Path, str] = {}
    while todo:
        for module in _capstone_imports(todo.pop()):
            for file in _module_files(pkg, module):
                if file not in files:
                    files[file] = sha256_file(file)
                    todo.append(file.read_text(encoding="utf-8"))
    return sha256_json({f.relative_to(pkg).as_posix(): h for f, h in sorted(files.items())})


def _capstone_imports(source: str) -> set[str]:
    """Dotted names imported from ``capstone`` anywhere in ``source`` (IPython magics ignored)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    names: set[str] = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n == "capstone" or n.startswith("capstone.")}


def _module_files(pkg: Path, module: str) -> list[Path]:
    """The source file of ``module`` and the ``__init__.py`` of each package it is in."""
    files, parts = [pkg / "__init__.py"], module.split(".")[1:]
    for depth in range(1, len(parts) + 1):
        base = pkg.joinpath(*parts[:depth])
        if (base / "__init__.py").is_file():
            files.append(base / "__init__.py")
        elif base.with_suffix(".py").is_file():
            files.append(base.with_suffix(".py"))
    return files


def outputs_of(paths: ProjectPaths, stage: str) -> list[Path]:
    """The files a stage produced: those in the folders it writes, its executed notebook,
    and for ``download`` the raw datasets' manifests."""
    folders = BY_NAME[stage].writes(paths)
    files = [p for f in folders if f.exists() for p in sorted(f.rglob("*")) if p.is_file()]
    files += [paths.executed / BY_NAME[stage].notebook]
    if stage == "download":
        files += sorted(paths.raw.glob("*/manifest.json"))
    return [p for p in files if p.name != MARKER]


def stage_inputs(
    paths: ProjectPaths, params: Params, stage: str, upstream: dict[str, Any] | None
) -> dict[str, Any]:
    """Everything a stage's result depends on: its params, notebook and code, the contents
    of the files it reads (:mod:`capstone.pipeline.stages`), and the stage before it."""
    notebook = paths.notebooks / BY_NAME[stage].notebook
    reads = BY_NAME[stage].reads(params, paths)
    return {
        "params": params.stage(BY_NAME[stage].params_section),
        "notebook": sha256_file(notebook),
        "code": code_hash(notebook),
        "reads": {str(p): sha256_contents(paths.root / p) for p in reads},
        "upstream": None if upstream is None else upstream["key"] + upstream["outputs_hash"],
    }


def read_marker(paths: ProjectPaths, stage: str) -> dict[str, Any] | None:
    """The completion marker of ``stage``, or ``None`` if absent or unreadable."""
    path = paths.stage(stage) / MARKER
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def is_current(paths: ProjectPaths, marker: dict[str, Any] | None, key: str) -> bool:
    """Whether ``marker`` records ``key`` and every output still has its recorded hash."""
    if marker is None or marker.get("key") != key:
        return False
    for rel, digest in marker["outputs"].items():
        path = paths.root / rel
        if not path.is_file() or sha256_file(path) != digest:
            log.info(f"  {rel} is missing or changed since it was written; rerunning")
            return False
    return True
