from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from capstone.evaluation import (
    bootstrap_indices,
    classification_metrics,
    compare,
    intervals,
    macro_f1,
    majority_probs,
    paired_difference,
    per_class_table,
    predict,
    remembered,
    resampled_scores,
    shift_faces,
)


def noisy_labels(n: int, right: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels and one-hot predictions that are right about ``right`` of the time."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 7, n)
    pred = np.where(rng.random(n) < right, y, rng.integers(0, 7, n))
    return y, np.eye(7)[pred]


def test_perfect_and_wrong_predictions() -> None:
    y = np.array([0, 1, 2, 3, 4, 5, 6, 3])
    perfect = classification_metrics(y, np.eye(7)[y])
    assert perfect["accuracy"] == 1.0
    assert perfect["macro_f1"] == 1.0
    shifted = classification_metrics(y, np.eye(7)[(y + 1) % 7])
    assert shifted["accuracy"] == 0.0
    rows = np.asarray(shifted["confusion"]).sum(axis=1)
    assert np.allclose(rows, 1.0)


def test_majority_baseline_always_answers_the_most_common_class() -> None:
    probs = majority_probs(np.array([3, 3, 3, 1]), 5)
    assert (probs.argmax(axis=1) == 3).all()
    m = classification_metrics(np.array([3, 3, 1, 0, 3]), probs)
    assert m["accuracy"] == pytest.approx(0.6)
    assert per_class_table(m).loc["happy", "recall"] == 1.0


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="probs must have shape"):
        classification_metrics(np.array([0, 1]), np.ones((2, 3)))


def test_confusion_pairs_read_both_directions() -> None:
    from capstone.evaluation import confusion_pairs

    matrix = np.eye(7)
    matrix[4] = 0
    matrix[4, 5], matrix[4, 4] = 0.25, 0.75  # neutral read as sad a quarter of the time
    rows = confusion_pairs({"confusion": matrix.tolist()}, [("neutral", "sad")])
    assert rows == [
        {"pair": "neutral / sad", "neutral read as sad": 0.25, "sad read as neutral": 0.0}
    ]


def test_confident_mistakes_are_wrong_and_sorted() -> None:
    from capstone.evaluation import confident_mistakes

    y = np.array([0, 0, 0, 1])
    probs = np.full((4, 7), 0.01)
    probs[0, 3], probs[1, 0], probs[2, 5], probs[3, 1] = 0.6, 0.9, 0.8, 0.9
    picks = confident_mistakes(probs, y, per_class=5)
    assert picks["angry"].tolist() == [2, 0]  # image 1 is right; 2 is the surer mistake
    assert picks["disgust"].tolist() == []


def test_throughput_counts_the_preparation(monkeypatch) -> None:
    from capstone.evaluation import throughput
    from capstone.models import compact_cnn

    x = np.zeros((8, 48, 48), np.uint8)
    speed = throughput(compact_cnn(4), x, batch_size=8, single=2)
    assert speed["batched_images_per_s"] > 0
    assert speed["single_images_per_s"] > 0


class Recorder:
    """A stand-in model: records the images it is shown, answers from their left half."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def predict(self, inputs: np.ndarray, batch_size: int, verbose: int) -> np.ndarray:
        self.seen.append(inputs[..., 0].copy())
        left = inputs[:, :, :24, 0].mean(axis=(1, 2))
        return np.stack([left, 1 - left, *([np.full_like(left, 0.5)] * 5)], axis=1) / 3.5


def test_shift_faces_moves_the_face_and_repeats_the_border() -> None:
    x = np.arange(2 * 5 * 5, dtype=np.uint8).reshape(2, 5, 5)
    down = shift_faces(x, 2, 0)
    assert (down[:, 2:] == x[:, :-2]).all() and (down[:, :2] == x[:, :1]).all()
    left = shift_faces(x, 0, -1)
    assert (left[:, :, :-1] == x[:, :, 1:]).all() and (left[:, :, -1] == x[:, :, -1]).all()
    assert (shift_faces(x, 0, 0) == x).all()
    with pytest.raises(ValueError, match="leaves nothing"):
        shift_faces(x, 5, 0)


@pytest.mark.parametrize(("flip", "shift", "views"), [(False, 0, 1), (True, 0, 2), (True, 2, 10)])
def test_predict_averages_the_logits_of_every_view(flip: bool, shift: int, views: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 48, 48), dtype=np.uint8)
    model = Recorder()
    probs = predict(model, x, tta_flip=flip, tta_shift=shift)
    assert len(model.seen) == views
    assert np.allclose(probs.sum(axis=1), 1.0)
    shown = [Recorder().predict(v[..., None], 1, 0) for v in model.seen]
    logits = np.mean([np.log(p) for p in shown], axis=0)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.allclose(probs, expected)
    if flip:
        assert np.allclose(model.seen[views // 2], x[:, :, ::-1] / 255.0, atol=1e-6)
    if shift:
        assert np.allclose(model.seen[1], shift_faces(x, shift, 0) / 255.0, atol=1e-6)


def test_a_negative_shift_is_refused() -> None:
    with pytest.raises(ValueError, match="tta_shift must be 0"):
        predict(Recorder(), np.zeros((1, 48, 48), np.uint8), tta_shift=-1)


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
    scores = resampled_scores(y, pred, indices)
    for row, accuracy, f1 in zip(indices, scores["accuracy"], scores["macro_f1"], strict=True):
        assert accuracy == pytest.approx((y[row] == pred[row]).mean())
        expected = f1_score(y[row], pred[row], labels=range(7), average="macro", zero_division=0)
        assert f1 == pytest.approx(expected)


def test_intervals_hold_the_score_and_narrow_with_more_images() -> None:
    small, large = noisy_labels(200, 0.7, seed=2), noisy_labels(5000, 0.7, seed=2)
    for y, probs in (small, large):
        m = classification_metrics(y, probs)
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


def test_compare_gives_one_row_per_test_set() -> None:
    sets = {
        name: (np.zeros((100, 48, 48), np.uint8), noisy_labels(100, 0.5, seed)[0])
        for name, seed in (("a", 4), ("b", 5))
    }
    rows = compare(
        ("one", lambda x: np.full((len(x), 7), 1 / 7)),
        ("two", lambda x: np.eye(7)[np.zeros(len(x), int)]),
        sets,
    )
    assert [(r["a"], r["b"], r["test_set"]) for r in rows] == [
        ("one", "two", "a"),
        ("one", "two", "b"),
    ]


@pytest.mark.parametrize(("n", "resamples"), [(0, 10), (10, 0)])
def test_bootstrap_needs_images_and_resamples(n: int, resamples: int) -> None:
    with pytest.raises(ValueError, match="at least one image"):
        bootstrap_indices(n, resamples)


def test_resampled_scores_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        resampled_scores(np.zeros(3, int), np.zeros(2, int), np.zeros((1, 3), int))


def test_remembered_predicts_each_array_once() -> None:
    calls = []

    def predict_fn(x):
        calls.append(len(x))
        return np.full((len(x), 7), 1 / 7)

    a, b = np.zeros((3, 48, 48), np.uint8), np.zeros((5, 48, 48), np.uint8)
    once = remembered(predict_fn)
    assert once(a) is once(a)
    assert once(b).shape == (5, 7)
    assert calls == [3, 5]
