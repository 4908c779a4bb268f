"""The evaluation stage's record of the final model (finish()), read from the tiny project."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from capstone import provenance
from capstone.params import load

pytestmark = pytest.mark.slow  # every test reads the tiny pipeline's run


def test_the_record_says_what_the_model_learned_from_and_scores_every_test_set(
    tiny_project,
) -> None:
    root, _ = tiny_project
    record = json.loads((root / "build/evaluation/final.json").read_text())
    assert record["faces"] == "ferplus"  # tiny.yaml trains its merged run on the crowd
    assert set(record["test"]) == {"fer2013", "wild", "ferplus"}
    crowd = record["test"]["ferplus"]["crowd"]
    assert 0 <= crowd["fer2013_labels_agree"] <= 1
    assert crowd["cross_entropy"] >= crowd["crowd_entropy"]
    assert set(record["annotate"]) == {"wild"}  # the only dataset cut out of its pictures
    selected = json.loads((root / "build/merged/selected.json").read_text())
    assert record["source_model"] in json.dumps(selected)
    assert record["calibration"]["class_offsets"] == [0.0] * 7  # readings stay the crowd's
    layouts = {r["layout"]: r for r in record["call_layouts"]}
    assert layouts["gallery 2x2"]["faces"] == 4 and layouts["gallery 7x7"]["faces"] == 49
    for r in layouts.values():
        assert r["true_positives"] + r["missed"] == r["faces"]


def test_the_training_time_adds_every_run_and_the_head_refit(tiny_project) -> None:
    root, _ = tiny_project
    params = load(root / "params/tiny.yaml", root)
    record = json.loads((root / "build/evaluation/final.json").read_text())
    runs = [("baseline", r.name) for r in params.baseline.runs]
    runs += [("merged", r.name) for r in params.merged.runs]
    seconds = sum(
        json.loads((root / "build" / stage / f"{name}.json").read_text())["train_seconds"]
        for stage, name in runs
    )
    refit = record["calibration"]["head_refit"]["seconds"]
    assert record["training_seconds"] == pytest.approx(seconds + refit, abs=0.1)
    machines = record["training_machines"]  # this machine, once for each precision used
    assert all(m.startswith(f"{provenance.machine()}, ") for m in machines)
    assert {m.rsplit(", ", 1)[1] for m in machines} <= {"float32", "mixed_bfloat16"}
    assert len(machines) == len(set(machines)) >= 1


def test_the_final_model_reads_as_its_record_scored_it(tiny_project) -> None:
    from capstone.data.splits import load_data
    from capstone.paths import ProjectPaths

    root, _ = tiny_project
    record = json.loads((root / "build/evaluation/final.json").read_text())
    x, y = load_data(ProjectPaths(root)).xy("fer2013", "test")
    probs = keras.models.load_model(root / "build/evaluation/final.keras").predict(x, verbose=0)
    assert np.mean(probs.argmax(axis=1) == y) == pytest.approx(
        record["test"]["fer2013"]["accuracy"]
    )
