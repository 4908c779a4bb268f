"""The pipeline's stages, in order: each one's notebook, the files it reads and what it writes.

This table is the one place that names the stages: the pipeline runs and hashes them from
it (:mod:`capstone.pipeline.runner`) and the CLI offers their names. Besides its slice of the
params and the stage before it, a stage *reads* files whose contents decide its result
(local datasets, a model to start from, the extra test sets, the demo's media and call
metadata, the released model): their contents are part of its key, so replacing one
reruns the stage and everything after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from capstone import provenance
from capstone.params import Params, load
from capstone.paths import ProjectPaths
from capstone.progress import show_progress


def _local_datasets(params: Params, paths: ProjectPaths) -> list[Path]:
    sources = [getattr(params.download, name) for name in params.download.datasets()]
    return [Path(s.path) for s in sources if s.source == "local" and s.path]


def _start_files(runs: list) -> list[Path]:
    return [Path(run.init_file) for run in runs if run.init_file]


def _released(paths: ProjectPaths) -> list[Path]:
    from capstone.paths import released_model

    model = released_model(paths.root)
    return [model, model.with_suffix(".json")]


def _evaluation_reads(params: Params, paths: ProjectPaths) -> list[Path]:
    return [Path(p) for p in params.evaluation.extra_test_sets] + _released(paths)


def _results_reads(params: Params, paths: ProjectPaths) -> list[Path]:
    names = ("crowd_agreement", "wild_annotate")
    benchmarks = [provenance.benchmark_file(name, paths.root) for name in names]
    return _released(paths) + [p for p in benchmarks if p.is_file()]


def _demo_reads(params: Params, paths: ProjectPaths) -> list[Path]:
    call = [Path(params.demo.call)] if params.demo.call else []
    return [Path(p) for p in params.demo.media] + call + _released(paths)


@dataclass(frozen=True)
class Stage:
    """One stage: ``name``, its ``notebook`` (under ``notebooks/``), the files it ``reads``
    (from the params and the project folder), the folders it ``writes`` (its build
    folder, and for ``download`` the processed data too) and the ``section`` of the params
    it depends on (by default the one named after it)."""

    name: str
    notebook: str
    reads: Callable[[Params, ProjectPaths], list[Path]]
    writes: Callable[[ProjectPaths], list[Path]]
    section: str = ""

    @property
    def params_section(self) -> str:
        return self.section or self.name


def _build_folder(name: str) -> Callable[[ProjectPaths], list[Path]]:
    return lambda paths: [paths.stage(name)]


TABLE: tuple[Stage, ...] = (
    Stage(
        "download",
        "01_download.ipynb",
        _local_datasets,
        lambda paths: [paths.stage("download"), paths.processed],
    ),
    Stage("eda", "02_eda.ipynb", lambda params, paths: [], _build_folder("eda")),
    Stage(
        "baseline",
        "03_baseline.ipynb",
        lambda params, paths: _start_files(params.baseline.runs),
        _build_folder("baseline"),
    ),
    Stage(
        "merged",
        "04_merged.ipynb",
        lambda params, paths: _start_files(params.merged.runs),
        _build_folder("merged"),
    ),
    Stage("evaluation", "05_evaluation.ipynb", _evaluation_reads, _build_folder("evaluation")),
    Stage("demo", "06_demo.ipynb", _demo_reads, _build_folder("demo")),
    # The released model's results, from its records only: first in the book, run last
    # (it needs no other stage, and a change to it then reruns nothing else).
    # From the params it reads only whether the profile's data are synthetic.
    Stage("results", "00_results.ipynb", _results_reads, _build_folder("results"), "download"),
)
NAMES: tuple[str, ...] = tuple(stage.name for stage in TABLE)
BY_NAME: dict[str, Stage] = {stage.name: stage for stage in TABLE}


@dataclass(frozen=True)
class StageRun:
    """What a stage starts from: its validated ``params``, the project's ``paths``, its
    output folder ``out`` and the ``banner`` that says which profile and data it ran on."""

    params: Params
    paths: ProjectPaths
    out: Path
    banner: str


def open_stage(root: str | Path, params_file: str | Path, name: str) -> StageRun:
    """Start stage ``name`` in the project at ``root`` with the profile ``params_file``
    (relative to ``root``): the params validated, its output folder created.

    TensorFlow's notes on retracing, which predicting with several models in one process
    sets off and which say nothing about the results, are kept out of the stage's output.
    """
    if name not in BY_NAME:
        raise ValueError(f"no stage called {name!r}; stages are {', '.join(NAMES)}")
    params = load(Path(root) / params_file, root)
    paths = ProjectPaths(root)
    out = paths.stage(name)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    show_progress()  # training's and the data sources' progress lines, in the cell's output
    return StageRun(params, paths, out, provenance.banner(params, paths))
