from __future__ import annotations

import math

from capstone.evaluation import plots


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


def test_the_sizes_of_each_source_are_drawn_as_bars_on_a_log_scale() -> None:
    """seaborn's own log_scale drew no bars at all; every count must show as a bar."""
    import pandas as pd

    table = pd.DataFrame(
        {
            "source": ["fer2013"] * 30 + ["wild"] * 3,
            "height": [48] * 30 + [181] * 3,
            "width": [48] * 30 + [143] * 3,
            "brightness": 100.0,
            "contrast": 30.0,
        }
    )
    fig = plots.source_differences(table)
    fig.canvas.draw()
    sizes = fig.axes[0]
    bars = [p for p in sizes.patches if p.get_width() > 0]
    assert sizes.get_xscale() == "log"
    assert sorted(round(p.get_width()) for p in bars) == [3, 30]
    assert all(math.isfinite(p.get_window_extent().width) for p in bars)  # drawn on the page
