"""The house's shape: rooms (subpackages) that import only the rooms below them, two leaves
that import nothing of ours, and package files that hold a docstring only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "capstone"

#: From the bottom up: a room may import the shared ground and the rooms before it.
ROOMS = (
    "faces",
    "data",
    "model",
    "reading",
    "evaluation",
    "calls",
    "synthetic",
    "release",
    "library",
    "app",
    "pipeline",
)
#: Modules anyone may import: they import nothing of ours.
LEAVES = ("capstone.labels", "capstone.metrics")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every ``capstone`` module ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("capstone"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                known = (SRC / candidate.replace(".", "/")).with_suffix(".py").exists()
                found.add(candidate if known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("capstone")}
    return found


def _room(module: str) -> str | None:
    """The room of a module, or ``None`` for the shared ground (``capstone.params`` and such)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=_module)
def test_each_module_imports_only_downward(path: Path) -> None:
    module, room = _module(path), _room(_module(path))
    level = ROOMS.index(room) if room else -1
    wrong = []
    for target in _imports(path) - set(LEAVES):
        other = _room(target)
        if module == "capstone.cli" or other == room:
            continue
        if other is None and room is None:
            continue  # the ground's modules among themselves (no cycles: house_check)
        if other is None or ROOMS.index(other) < level:
            continue
        wrong.append(target)
    assert not wrong, f"{module} imports {wrong}, which are not below its room"


@pytest.mark.parametrize("leaf", LEAVES)
def test_the_leaves_import_nothing_of_the_project(leaf: str) -> None:
    assert not _imports((SRC / leaf.replace(".", "/")).with_suffix(".py"))


def test_every_room_is_listed_and_its_package_file_is_a_docstring() -> None:
    rooms = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert rooms == set(ROOMS)
    for room in ROOMS:
        body = ast.parse((PACKAGE / room / "__init__.py").read_text(encoding="utf-8")).body
        assert len(body) == 1 and isinstance(body[0].value, ast.Constant), room
