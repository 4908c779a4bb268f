"""The book: the executed notebooks with their parameter cells folded, the narrative pages, the
model card and the reproducibility page, built by Jupyter Book."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from capstone import provenance
from capstone.artefacts import (
    read_json,
    sha256_file,
    sha256_json,
    write_json,
    write_text,
)
from capstone.errors import ModelError, StageError
from capstone.params import Params
from capstone.paths import ProjectPaths, released_model
from capstone.pipeline.cache import read_marker
from capstone.pipeline.stages import NAMES
from capstone.release.archive import INDEX, releases_page

log = logging.getLogger(__name__)


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
            "releases": releases_page_of(paths),
            "pages": sha256_file(Path(__file__)),  # the code that writes the generated pages
        }
    )
    done = paths.build / "book.done.json"
    index = paths.book_html / "index.html"
    if done.is_file() and read_json(done).get("key") == key and index.is_file():
        log.info(f"book: up to date, skipped ({index})")
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
    write_text(staging / "releases.md", releases_page_of(paths))
    done.unlink(missing_ok=True)
    log.info("book: building with jupyter-book (Sphinx warnings are errors)")
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
    log.info(f"book: built in {time.perf_counter() - start:.0f} s -> {index}")
    return index


def model_card_page(paths: ProjectPaths) -> str:
    """The released model's card (``models/README.md`` beside the model the project uses: its
    own, else the package's), which the book shows as a page."""
    try:
        card = released_model(paths.root).with_name("README.md")
    except ModelError:
        card = paths.root / "models" / "README.md"
    if card.is_file():
        return card.read_text(encoding="utf-8")
    return (
        "# Model card\n\nNo model has been released in `models/` yet: run the full profile, "
        "then `capstone release --params params/full.yaml`.\n"
    )


def releases_page_of(paths: ProjectPaths) -> str:
    """The book's "Every release" page, from the project's release index (else the source
    tree's: a test's project folder has no models/ of its own)."""
    for root in (paths.root, Path(__file__).resolve().parents[3]):
        if (root / INDEX).is_file():
            return releases_page(root)
    return (
        "# Every release\n\nThis project has no release index (`models/archive/releases.yaml`).\n"
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
read (`capstone.pipeline.stages`): a new file there reruns that stage and the ones after it.

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
