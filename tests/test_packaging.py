"""The package as a user installs it: its subpackages, its released model, its environments."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from matplotlib import cbook
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from capstone.paths import MODEL_NAME

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

#: Names for one package in both files: pyproject installs TensorFlow's CPU-only build on
#: Linux x86-64, where a conda user picks the build in a comment.
SAME_PACKAGE = {"tensorflow-cpu": "tensorflow"}


def test_every_subpackage_is_installed() -> None:
    """pyproject lists the packages by hand (the released model is mapped in as one)."""
    found = {
        ".".join(init.parent.relative_to(REPO / "src").parts)
        for init in (REPO / "src").rglob("__init__.py")
    }
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert found == listed - {"capstone.released_model"}


def _requirements(specs: list[str]) -> set[tuple[str, str]]:
    """``(name, version range)`` of each requirement, extras and platform markers left out."""
    found = set()
    for spec in specs:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        found.add((SAME_PACKAGE.get(name, name), str(req.specifier)))
    return found


def test_the_conda_environment_mirrors_pyproject() -> None:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    own = canonicalize_name(project["name"])
    wanted = [*project["dependencies"], *(s for specs in extras.values() for s in specs)]
    wanted = [s for s in wanted if canonicalize_name(Requirement(s).name) != own]
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = [s for s in conda + pip if not s.startswith("-e")]
    listed = [s for s in listed if canonicalize_name(Requirement(s).name) != "python"]
    assert _requirements(listed) == _requirements(wanted)


def _imported(module: Path) -> set[str]:
    """The top-level names a module imports, at any depth (deferred imports too)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_imported_packages_are_declared() -> None:
    """Each third-party package that ``src/`` imports is a dependency of its own."""
    imported = set().union(*(_imported(m) for m in (REPO / "src").rglob("*.py")))
    declared = {name for name, _ in _requirements(PYPROJECT["project"]["dependencies"])}
    distribution = {
        "cv2": "opencv-python-headless",
        "yaml": "pyyaml",
        "PIL": "pillow",
        "sklearn": "scikit-learn",
        "dask": "distributed",
        "argon2": "argon2-cffi",
    }
    third_party = imported - set(sys.stdlib_module_names) - {"capstone", "__future__"}
    # Optional, each behind a clear message: the ``fer`` peer (installed with --no-deps),
    # and JAX and PyTorch as other Keras backends.
    optional = {"fer", "jax", "torch"}
    missing = {
        name
        for name in third_party - optional
        if canonicalize_name(distribution.get(name, name)) not in declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip install <clone>`` builds, from a copy of the tree (no ``build/`` here)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "src", "models"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, tree / name)
    out = tmp_path_factory.mktemp("wheel")
    build = ["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build, str(tree)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def test_the_released_model_travels_with_the_package(wheel: Path) -> None:
    assert wheel.name.startswith("show_me_the_money_calls-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for suffix in (".keras", ".json", ".params.yaml"):
        packaged = f"capstone/released_model/{MODEL_NAME}{suffix}"
        assert packaged in names
        original = (REPO / "models" / f"{MODEL_NAME}{suffix}").read_bytes()
        assert zipfile.ZipFile(wheel).read(packaged) == original
    assert not any(name.startswith("capstone/released_model/archive") for name in names)


def test_the_shipped_data_files_travel_with_the_package(wheel: Path) -> None:
    """Each file that package-data names, and its licence where it has one."""
    names = set(zipfile.ZipFile(wheel).namelist())
    for package, files in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        if package == "capstone.released_model":
            continue  # mapped in from models/ (the test above)
        for name in files:
            path = "/".join([*package.split("."), name])
            assert path in names, f"{path} is not in the wheel"
            assert zipfile.ZipFile(wheel).read(path) == (REPO / "src" / path).read_bytes()
    migrations = REPO / "src/capstone/app/migrations"
    for script in [migrations / "env.py", *migrations.glob("versions/0*.py")]:
        assert script.relative_to(REPO / "src").as_posix() in names  # the database migrates


def test_an_installed_package_annotates_a_photo_from_any_folder(
    wheel: Path, tmp_path: Path, capstone_cli
) -> None:
    """As after ``pip install <clone>``: the released model is found away from the clone."""
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    photo = elsewhere / "photo.jpg"
    shutil.copy(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photo)
    env = {**os.environ, "PYTHONPATH": str(site)}
    annotate = ["annotate", photo.name, "--use", "research", "--out", "out"]
    proc = capstone_cli(*annotate, env=env, timeout=600, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert "P1:" in proc.stdout
    assert (elsewhere / "out/photo_annotated.png").is_file()
    assert (elsewhere / "out/photo.json").is_file()
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from capstone.paths import released_model as r; print(r())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == site / "capstone/released_model" / f"{MODEL_NAME}.keras"
