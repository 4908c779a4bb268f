from __future__ import annotations

from capstone import plots


def scores(accuracy: float) -> dict:
    return {
        "accuracy": accuracy,
        "accuracy_95ci": [accuracy - 0.05, accuracy + 0.04],
        "macro_f1": accuracy - 0.1,
        "macro_f1_95ci": [accuracy - 0.17, accuracy - 0.04],
    }


def test_scores_with_intervals_draws_each_model_on_each_of_its_test_sets() -> None:
    models = {
        "final": {"test_sets": {"fer2013": scores(0.7), "wild": scores(0.4)}},
        "peer": {"test_sets": {"fer2013": scores(0.6)}},  # not scored on "wild"
    }
    fig = plots.scores_with_intervals(models, "t")
    accuracy, macro_f1 = fig.axes[:2]
    assert [t.get_text() for t in accuracy.get_yticklabels()] == ["final", "peer"]
    points = {c.get_label(): list(c.lines[0].get_xdata()) for c in accuracy.containers}
    assert points["fer2013"] == [0.7, 0.6]
    assert points["wild"] == [0.4]
    assert macro_f1.get_xlabel() == "macro-F1"
