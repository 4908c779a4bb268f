"""Every model of a run on every test set, against the peer, in one checked report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capstone.evaluation import schema, scoreboard
from capstone.model.architectures import compact_cnn
from capstone.params import load
from capstone.paths import ProjectPaths


@dataclass
class Split:
    """As much of :class:`capstone.data.splits.SplitData` as scoring reads."""

    stores = ("fer2013",)

    def xy(self, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0 if split == "test" else 1)
        return rng.integers(0, 256, (28, 48, 48), dtype=np.uint8), np.arange(28) % 7


def test_every_model_there_is_scored_and_the_report_is_valid(repo: Path, tmp_path) -> None:
    paths = ProjectPaths(tmp_path)
    params = load(repo / "params/sample.yaml", repo)
    (tmp_path / "build/evaluation").mkdir(parents=True)
    compact_cnn(width=4).save(tmp_path / "build/evaluation/final.keras")
    tests = scoreboard.test_sets_of(paths, params, Split())
    assert tests.table() == [{"test set": "fer2013", "images": 28, "source": "fer2013 test split"}]
    board = scoreboard.score_all(paths, params, Split(), tests, {"temperature": 1.0})
    models = board.report["models"]
    # no trained runs here: the reference, the final model, the released one (and the peer)
    assert {"majority class", "final", "released"} <= set(models)
    assert not {r.name for r in params.baseline.runs} & set(models)
    assert models["final"]["calibration"] == {"temperature": 1.0}
    assert models["majority class"]["test_sets"]["fer2013"]["accuracy"] == 4 / 28
    schema.validate(board.report)
    assert board.predictors["final"](tests.xy["fer2013"][0]).shape == (28, 7)
    if "fer + flip" in models:  # the peer where the fer package is installed
        assert {c["a"] for c in board.report["comparisons"]} == {"final"}
    scores = scoreboard.scores_table(board.report)
    assert scores.loc["majority class", ("accuracy", "fer2013")] == 4 / 28
    sizes = scoreboard.size_speed_table(board.report)
    assert sizes.loc["final", "parameters"] > 0 and "batched_images_per_s" in sizes.columns
