"""The Results chapter's figures: read from the released model's records, never made up."""

from __future__ import annotations

import json
import shutil

import matplotlib as mpl
import pytest
from conftest import REPO

mpl.use("Agg")

from capstone.provenance import load_benchmark
from capstone.release import figures
from capstone.release.results import OURS, PEER, ReleasedResults, build_note


@pytest.fixture(scope="module")
def released() -> ReleasedResults:
    return ReleasedResults.load(REPO)


def test_the_headline_is_the_records_own_figure(released) -> None:
    record = json.loads((REPO / "models/fer_cnn.json").read_text())
    assert released.majority_accuracy == record["test"]["ferplus"]["crowd"]["majority_accuracy"]


def test_the_confusion_counts_give_back_every_recorded_rate(released) -> None:
    counts = released.confusion_counts()
    crowd = released.crowd_test
    assert counts.sum() == crowd["n"]
    for i, row in enumerate(crowd["confusion"]):
        assert counts[i] / counts[i].sum() == pytest.approx(row, abs=5e-5)
    hits = sum(c.hits for c in released.per_class())
    assert hits / crowd["n"] == pytest.approx(released.majority_accuracy, abs=1e-9)


def test_the_benchmark_records_agree_with_the_models_record(released) -> None:
    """The same model read on the same faces twice, by the release and by the benchmark: the
    benchmark's figures for it must be the record's, or one of them is stale."""
    assert released.crowd is not None, released.missing
    ours = released.crowd.results["readers"]["ours"]
    test = released.record["test"]
    assert ours["crowd"]["n"] == test["ferplus"]["crowd"]["n"]
    for name in ("majority_accuracy", "cross_entropy", "total_variation"):
        assert ours["crowd"][name] == pytest.approx(test["ferplus"]["crowd"][name], abs=5e-4)
    for name in ("accuracy", "macro_f1"):
        assert ours["fer2013"][name] == pytest.approx(test["fer2013"][name], abs=5e-4)
    if released.wild is not None:
        annotate = released.record["annotate"]["wild"]
        assert released.wild.results["capstone annotate"]["accuracy"] == pytest.approx(
            annotate["accuracy"], abs=5e-4
        )


def test_the_peer_table_shows_where_fer_wins_too(released) -> None:
    table = released.against_peer().set_index("test")
    better = table["reads better"].tolist()
    assert better[0] == OURS  # the crowd
    fer2013 = next(t for t in table.index if "its own labels: accuracy" in t)
    assert table.loc[fer2013, "reads better"] == PEER  # FER2013's own labels


def test_where_it_fails_is_said_in_plain_words(released) -> None:
    lines = released.failures()
    assert lines[0].startswith("**Negative faces read as neutral**")
    sad = next(line for line in lines if line.startswith("**sad**"))
    assert "as neutral" in sad and "%" in sad
    assert released.uncertain_share < 0.01


def test_a_benchmark_of_another_model_file_is_not_shown(tmp_path) -> None:
    shutil.copytree(REPO / "models", tmp_path / "models")
    (tmp_path / "benchmarks/results").mkdir(parents=True)
    stale = json.loads((REPO / "benchmarks/results/crowd_agreement.json").read_text())
    stale["model_sha256"] = "0" * 64
    (tmp_path / "benchmarks/results/crowd_agreement.json").write_text(json.dumps(stale))
    results = ReleasedResults.load(tmp_path)
    assert results.crowd is None
    assert any("measured another model file" in m for m in results.missing)
    assert figures.reading_meaning(results) is None
    peer = results.against_peer()
    assert (peer[PEER].head(4) == "not measured").all()


def test_every_figure_draws(released) -> None:
    assert load_benchmark("crowd_agreement") is not None
    for fig in (
        figures.reading_meaning(released),
        figures.where_readings_go(released),
        figures.agreement_per_class(released.per_class()),
        figures.against_peer(released),
    ):
        assert fig is not None and fig.axes


def test_the_build_note_says_a_smoke_run_is_not_results() -> None:
    assert "smoke run" in build_note("sample", synthetic=True)
    assert "smoke run" not in build_note("shared", synthetic=False)
