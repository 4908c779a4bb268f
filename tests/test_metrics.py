from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from capstone.labels import CLASSES
from capstone.metrics import (
    bootstrap_indices,
    classification_metrics,
    confusion_counts,
    crowd_agreement,
    expected_calibration_error,
    intervals,
    macro_f1,
    paired_difference,
    reliability,
    resampled_scores,
    share_reliability,
    wilson_interval,
)


def noisy_labels(n: int, right: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and one-hot predictions that are right about ``right`` of the time."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 7, n)
    pred = np.where(rng.random(n) < right, y, rng.integers(0, 7, n))
    return y, np.eye(7)[pred]


@pytest.mark.parametrize("n_classes", [7, 3])
def test_macro_f1_matches_sklearn_with_absent_classes(n_classes: int) -> None:
    rng = np.random.default_rng(6)
    y, pred = (
        rng.integers(0, n_classes - 1, 200),
        rng.integers(0, n_classes, 200),
    )  # last class never true
    labels = range(n_classes)
    expected = f1_score(y, pred, labels=labels, average="macro", zero_division=0)
    assert macro_f1(y, pred, n_classes) == pytest.approx(expected)
    assert macro_f1(y, y, n_classes) == pytest.approx((n_classes - 1) / n_classes)  # absent: 0


def test_resampled_scores_match_sklearn_on_each_resample() -> None:
    y, probs = noisy_labels(300, 0.6, seed=1)
    pred = probs.argmax(axis=1)
    indices = bootstrap_indices(len(y), resamples=5)
    scores = resampled_scores(y, pred, indices, 7)
    for row, accuracy, f1 in zip(indices, scores["accuracy"], scores["macro_f1"], strict=True):
        assert accuracy == pytest.approx((y[row] == pred[row]).mean())
        expected = f1_score(y[row], pred[row], labels=range(7), average="macro", zero_division=0)
        assert f1 == pytest.approx(expected)


def test_intervals_hold_the_score_and_narrow_with_more_images() -> None:
    small, large = noisy_labels(200, 0.7, seed=2), noisy_labels(5000, 0.7, seed=2)
    for y, probs in (small, large):
        m = classification_metrics(y, probs, CLASSES)
        ranges = intervals(y, probs)
        assert ranges["accuracy_95ci"][0] < m["accuracy"] < ranges["accuracy_95ci"][1]
        assert ranges["macro_f1_95ci"][0] < m["macro_f1"] < ranges["macro_f1_95ci"][1]
        assert ranges == intervals(y, probs)  # a fixed seed: the same figures every run

    def width(y, probs):
        low, high = intervals(y, probs)["accuracy_95ci"]
        return high - low

    assert width(*large) < width(*small) / 3
    y = np.arange(70) % 7
    assert intervals(y, np.eye(7)[y]) == {"accuracy_95ci": [1.0, 1.0], "macro_f1_95ci": [1.0, 1.0]}


def test_paired_difference_tells_a_better_model_from_noise() -> None:
    y, weak = noisy_labels(2000, 0.6, seed=3)
    strong = weak.copy()
    strong[:200] = np.eye(7)[y[:200]]  # right on 200 more faces at most
    same = paired_difference(y, weak, weak)
    assert same["accuracy_difference"] == 0
    assert same["accuracy_difference_95ci"] == [0.0, 0.0]
    better = paired_difference(y, strong, weak)
    assert better["accuracy_difference"] > 0
    assert better["accuracy_difference_95ci"][0] > 0
    assert better["macro_f1_difference_95ci"][0] > 0


@pytest.mark.parametrize(("n", "resamples"), [(0, 10), (10, 0)])
def test_bootstrap_needs_images_and_resamples(n: int, resamples: int) -> None:
    with pytest.raises(ValueError, match="at least one image"):
        bootstrap_indices(n, resamples)


def test_resampled_scores_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        resampled_scores(np.zeros(3, int), np.zeros(2, int), np.zeros((1, 3), int), 7)


def test_class_names_come_from_the_caller() -> None:
    y, probs = noisy_labels(50, 0.8, 1)
    assert list(classification_metrics(y, probs, CLASSES)["per_class"]) == list(CLASSES)
    with pytest.raises(ValueError, match="probs must have shape"):
        classification_metrics(y, probs, CLASSES[:3])


def test_ece_is_zero_for_calibrated_certainty_and_large_for_overconfidence() -> None:
    y = np.arange(70) % 7
    assert expected_calibration_error(np.eye(7)[y], y) == pytest.approx(0.0)
    wrong = np.eye(7)[(y + 1) % 7]
    assert expected_calibration_error(wrong, y) == pytest.approx(1.0)
    assert sum(row["count"] for row in reliability(wrong, y)) == len(y)


def test_crowd_agreement_of_the_crowds_own_shares_is_its_floor() -> None:
    classes = ("a", "b", "c")
    shares = np.array([[0.6, 0.4, 0.0], [0.1, 0.2, 0.7], [0.0, 1.0, 0.0]])
    same = crowd_agreement(shares, shares, classes)
    assert same.majority_accuracy == 1 and same.total_variation == pytest.approx(0)
    assert same.cross_entropy == pytest.approx(same.crowd_entropy)
    entropy = (
        -(
            0.6 * np.log(0.6)
            + 0.4 * np.log(0.4)
            + 0.1 * np.log(0.1)
            + 0.2 * np.log(0.2)
            + 0.7 * np.log(0.7)
        )
        / 3
    )
    assert same.crowd_entropy == pytest.approx(entropy)
    wrong = np.array([[0.0, 1.0, 0.0], [0.1, 0.2, 0.7], [1.0, 0.0, 0.0]])
    off = crowd_agreement(shares, wrong, classes)
    assert off.majority_accuracy == pytest.approx(1 / 3)
    assert off.per_class == {"a": 0.0, "b": 0.0, "c": 1.0}
    assert off.total_variation == pytest.approx((0.6 + 0 + 1.0) / 3)
    assert off.cross_entropy > same.cross_entropy
    with pytest.raises(ValueError, match="both be"):
        crowd_agreement(shares, wrong[:, :2], classes)


def test_share_reliability_lies_on_the_diagonal_for_readings_equal_to_the_shares() -> None:
    rng = np.random.default_rng(0)
    shares = rng.dirichlet(np.ones(7), size=400)
    table = share_reliability(shares, shares)
    assert sum(row["count"] for row in table) == shares.size
    for row in table:
        assert row["low"] <= row["reading"] <= row["high"]
        assert row["share"] == pytest.approx(row["reading"])
    overconfident = share_reliability(shares, np.eye(7)[shares.argmax(axis=1)])
    assert overconfident[-1]["reading"] == 1.0 and overconfident[-1]["share"] < 0.9
    with pytest.raises(ValueError, match="both be"):
        share_reliability(shares, shares[:, :6])


def test_confusion_counts_count_each_face_once() -> None:
    counts = confusion_counts(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert counts == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="one length"):
        confusion_counts(np.array([0, 1]), np.array([0]), 3)


def test_wilson_interval_holds_the_share_and_narrows_with_more_faces() -> None:
    low, high = wilson_interval(3, 22)
    assert low < 3 / 22 < high
    assert wilson_interval(300, 2200)[1] - wilson_interval(300, 2200)[0] < high - low
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == [0.0, 1.0]
    with pytest.raises(ValueError, match="hits <= n"):
        wilson_interval(5, 4)
