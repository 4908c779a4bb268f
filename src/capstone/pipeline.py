"""The stage graph: run the six notebooks in order with papermill, skip what is up to date, build the book.

A stage is *up to date* when its completion marker (``build/<stage>/.done.json``) records
the same input key and its outputs still have the recorded hashes. The key covers the
stage's slice of the params, its notebook, the package modules it imports, and the marker
of the stage before it, so a change reruns that stage and every stage after it, and
nothing else.
A stage that fails writes no marker; its partly executed notebook is kept under
``build/notebooks/failed/`` for inspection.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import capstone
from capstone import provenance
from capstone.artefacts import (
    read_json,
    sha256_contents,
    sha256_file,
    sha256_json,
    write_json,
    write_text,
)
from capstone.errors import StageError
from capstone.params import Params, load
from capstone.paths import ProjectPaths
from capstone.stages import BY_NAME, NAMES

MARKER = ".done.json"


@dataclass
class StageResult:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float


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
    of the files it reads (:mod:`capstone.stages`), and the stage before it."""
    notebook = paths.notebooks / BY_NAME[stage].notebook
    reads = BY_NAME[stage].reads(params, paths)
    return {
        "params": params.stage(stage),
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
            print(f"  {rel} is missing or changed since it was written; rerunning")
            return False
    return True


def run(
    params_file: str | Path = "params/sample.yaml",
    root: str | Path = ".",
    *,
    force: bool = False,
    from_stage: str | None = None,
    to_stage: str | None = None,
    only: str | None = None,
    book: bool = True,
) -> list[StageResult]:
    """Run every stage that is not up to date, then build the book.

    Parameters
    ----------
    params_file
        The profile, relative to ``root`` or absolute.
    root
        The project folder: ``notebooks/`` and ``book/`` are read from it, ``data/``,
        ``build/`` and ``book/_build/`` are written to it.
    force
        Rerun every stage.
    from_stage
        Rerun this stage and every stage after it.
    to_stage
        Stop after this stage (the book is not built then).
    only
        Run just this stage on the outputs the stages before it left, without checking
        that those are up to date (for development: e.g. re-evaluating after an evaluation
        change without retraining). The book is not built then.
    book
        Build the Jupyter Book afterwards.
    """
    paths = ProjectPaths(root)
    if not paths.notebooks.is_dir():
        raise StageError(
            f"no notebooks/ folder in {paths.root.resolve()}; run from the project folder "
            "or pass --root"
        )
    params_path = Path(params_file)
    params = load(params_path if params_path.is_absolute() else paths.root / params_path, root)
    for option, stage in (("--from", from_stage), ("--to", to_stage), ("--only", only)):
        if stage is not None and stage not in NAMES:
            raise StageError(f"{option} {stage!r}: no such stage; stages are {', '.join(NAMES)}")
    last = NAMES.index(to_stage) if to_stage else len(NAMES) - 1
    rerun_from = 0 if force else NAMES.index(from_stage) if from_stage else len(NAMES)
    with run_lock(paths):
        if only is not None:
            return [_run_only(paths, params, params_path, only)]
        return _run_stages(paths, params, params_path, rerun_from=rerun_from, last=last, book=book)


@contextlib.contextmanager
def run_lock(paths: ProjectPaths) -> Iterator[None]:
    """Hold ``build/.pipeline.lock`` for one pipeline run, so that a second run on the same
    project folder stops at once instead of racing the first. The operating system drops
    the lock when the run ends, however it ends."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    paths.build.mkdir(parents=True, exist_ok=True)
    with (paths.build / ".pipeline.lock").open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StageError(
                f"another pipeline run is using {paths.build} ({holder}); wait for it to "
                "finish, or stop it, then run this again"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        yield


def _run_stages(
    paths: ProjectPaths,
    params: Params,
    params_path: Path,
    *,
    rerun_from: int,
    last: int,
    book: bool,
) -> list[StageResult]:
    results, upstream = [], None
    for index, stage in enumerate(NAMES[: last + 1]):
        inputs = stage_inputs(paths, params, stage, upstream)
        key = sha256_json(inputs)
        marker = read_marker(paths, stage)
        label = f"[{index + 1}/{len(NAMES)}] {stage}"
        if index < rerun_from and is_current(paths, marker, key):
            print(f"{label}: up to date, skipped")
            results.append(StageResult(stage, "skipped", 0.0))
        else:
            print(f"{label}: running notebooks/{BY_NAME[stage].notebook}", flush=True)
            marker = _run_stage(paths, params_path, stage, key, inputs)
            print(f"{label}: done in {marker['seconds']:.0f} s", flush=True)
            results.append(StageResult(stage, "ran", marker["seconds"]))
        upstream = marker
    if book and last == len(NAMES) - 1:
        build_book(paths, params)
    return results


def _run_only(paths: ProjectPaths, params: Params, params_path: Path, stage: str) -> StageResult:
    index = NAMES.index(stage)
    upstream = None
    if index > 0:
        upstream = read_marker(paths, NAMES[index - 1])
        if upstream is None:
            raise StageError(
                f"--only {stage}: stage {NAMES[index - 1]!r} has not completed in "
                f"{paths.build}; run the pipeline up to it first"
            )
    print(f"[{index + 1}/{len(NAMES)}] {stage}: running alone (earlier stages not checked)")
    inputs = stage_inputs(paths, params, stage, upstream)
    marker = _run_stage(paths, params_path, stage, sha256_json(inputs), inputs)
    print(f"[{index + 1}/{len(NAMES)}] {stage}: done in {marker['seconds']:.0f} s", flush=True)
    return StageResult(stage, "ran", marker["seconds"])


def _run_stage(
    paths: ProjectPaths, params_file: Path, stage: str, key: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir = paths.stage(stage)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)  # from here on, the stage counts as not done
    paths.executed.mkdir(parents=True, exist_ok=True)
    final = paths.executed / BY_NAME[stage].notebook
    partial = paths.executed / f".{stage}.part.ipynb"
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(paths.notebooks / BY_NAME[stage].notebook),
            str(partial),
            parameters={"root": ".", "params_file": params_file.as_posix()},
            cwd=str(paths.root),
            kernel_name="python3",
            progress_bar=True,
            stdout_file=sys.stdout,  # what cells print (e.g. Keras' epoch lines) shows live
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        failed = paths.executed / "failed" / BY_NAME[stage].notebook
        failed.parent.mkdir(exist_ok=True)
        partial.replace(failed)
        raise StageError(
            f"stage {stage!r} failed in notebooks/{BY_NAME[stage].notebook}, cell {err.exec_count}:\n"
            f"  {err.ename}: {err.evalue}\n"
            f"  The executed notebook, with the full traceback, is {failed}"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fold_parameter_cells(partial)
    partial.replace(final)
    outputs = {
        p.relative_to(paths.root).as_posix(): sha256_file(p) for p in outputs_of(paths, stage)
    }
    marker = {
        "stage": stage,
        "key": key,
        "inputs": inputs,
        "outputs": outputs,
        "outputs_hash": sha256_json(outputs),
        "seconds": round(time.perf_counter() - start, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(out_dir / MARKER, marker)
    return marker


def fold_parameter_cells(notebook: Path) -> None:
    """Tag an executed notebook's parameters cells for the book: the notebook's defaults,
    which the run replaced, are removed, and the values it ran with are folded away."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags:
            tags.append("remove-cell")
        elif "injected-parameters" in tags:
            tags.append("hide-input")
    nbformat.write(nb, notebook)


def build_book(paths: ProjectPaths, params: Params) -> Path:
    """Build the Jupyter Book into ``book/_build/html`` from ``book/`` and the executed notebooks.

    Skipped when neither the book sources, any stage, nor the code that writes its generated
    pages changed since the last build.
    Sphinx warnings are errors.
    """
    sources = sorted(p for p in paths.book.rglob("*") if p.is_file() and "_build" not in p.parts)
    markers = {s: (read_marker(paths, s) or {}).get("key") for s in NAMES}
    if None in markers.values():
        missing = [s for s, k in markers.items() if k is None]
        raise StageError(f"cannot build the book: stages {', '.join(missing)} have not run")
    key = sha256_json(
        {
            "book": {p.relative_to(paths.book).as_posix(): sha256_file(p) for p in sources},
            "stages": markers,
            "params": params.to_dict(),
            "model_card": model_card_page(paths),
            "pages": sha256_file(Path(__file__)),  # the code that writes the generated pages
        }
    )
    done = paths.build / "book.done.json"
    index = paths.book_html / "index.html"
    if done.is_file() and read_json(done).get("key") == key and index.is_file():
        print(f"book: up to date, skipped ({index})")
        return index

    start = time.perf_counter()
    staging = paths.build / "book"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(paths.book, staging, ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(
        paths.executed, staging / "notebooks", ignore=shutil.ignore_patterns("failed", ".*")
    )
    write_text(staging / "reproducibility.md", reproducibility_page(paths, params))
    write_text(staging / "model_card.md", model_card_page(paths))
    done.unlink(missing_ok=True)
    print("book: building with jupyter-book (Sphinx warnings are errors)", flush=True)
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(staging),
        "--path-output",
        str(paths.book),
        "-W",
        "-n",
        "--keep-going",
        "-q",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not index.is_file():
        raise StageError(
            "the book did not build (Sphinx warnings count as errors):\n"
            + (proc.stdout + proc.stderr).strip()[-4000:]
        )
    write_json(done, {"key": key, "seconds": round(time.perf_counter() - start, 1)})
    print(f"book: built in {time.perf_counter() - start:.0f} s -> {index}")
    return index


def model_card_page(paths: ProjectPaths) -> str:
    """The released model's card (``models/README.md``), which the book shows as a page."""
    card = paths.root / "models" / "README.md"
    if card.is_file():
        return card.read_text(encoding="utf-8")
    return (
        "# Model card\n\nNo model has been released in `models/` yet: run the full profile, "
        "then `capstone release --params params/full.yaml`.\n"
    )


def reproducibility_page(paths: ProjectPaths, params: Params) -> str:
    """The book's appendix: params, commit, packages, data manifests and stage timings."""
    rows = []
    for stage in NAMES:
        marker = read_marker(paths, stage) or {}
        rows.append(f"| {stage} | {marker.get('seconds', '?')} | {marker.get('finished', '?')} |")
    read = [
        f"| {stage} | `{file}` | `{digest[:16]}` |"
        for stage in NAMES
        for file, digest in (
            (read_marker(paths, stage) or {}).get("inputs", {}).get("reads") or {}
        ).items()
    ]
    versions = "\n".join(f"| {k} | {v} |" for k, v in provenance.package_versions().items())
    manifests = yaml.safe_dump(provenance.manifests(paths), sort_keys=False)
    profile = yaml.safe_dump(params.to_dict(), sort_keys=False)
    return f"""# Reproducibility

Everything in this book was produced by one run of `nox -s pipeline` with the profile
`{params.profile}` ({params.source_file}) at commit `{provenance.git_commit(paths.root)}`.

## Stage timings

The time each stage took when it last ran (a skipped stage keeps its earlier timing).

| stage | seconds | finished |
|---|---|---|
{chr(10).join(rows)}

## Files the stages read

Besides its params, notebook and code, each stage's key holds the contents of the files it
read (`capstone.stages`): a new file there reruns that stage and the ones after it.

| stage | file | sha256 (first 16) |
|---|---|---|
{chr(10).join(read) or "| (none) | | |"}

## Packages

| package | version |
|---|---|
{versions}

## Data manifests

```yaml
{manifests}```

## Params

```yaml
{profile}```
"""
