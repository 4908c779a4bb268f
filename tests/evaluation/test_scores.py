from __future__ import annotations

import numpy as np
import pytest

from capstone.evaluation import schema, scores
from capstone.evaluation.scores import (
    classification_metrics,
    compare,
    majority_probs,
    per_class_table,
    remembered,
)
from capstone.labels import CLASSES


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
    from capstone.evaluation.scores import confusion_pairs

    matrix = np.eye(7)
    matrix[4] = 0
    matrix[4, 5], matrix[4, 4] = 0.25, 0.75  # neutral read as sad a quarter of the time
    rows = confusion_pairs({"confusion": matrix.tolist()}, [("neutral", "sad")])
    assert rows == [
        {"pair": "neutral / sad", "neutral read as sad": 0.25, "sad read as neutral": 0.0}
    ]


def test_confident_mistakes_are_wrong_and_sorted() -> None:
    from capstone.evaluation.scores import confident_mistakes

    y = np.array([0, 0, 0, 1])
    probs = np.full((4, 7), 0.01)
    probs[0, 3], probs[1, 0], probs[2, 5], probs[3, 1] = 0.6, 0.9, 0.8, 0.9
    picks = confident_mistakes(probs, y, per_class=5)
    assert picks["angry"].tolist() == [2, 0]  # image 1 is right; 2 is the surer mistake
    assert picks["disgust"].tolist() == []


def test_throughput_counts_the_preparation(monkeypatch) -> None:
    from capstone.evaluation.scores import throughput
    from capstone.model.architectures import compact_cnn

    x = np.zeros((8, 48, 48), np.uint8)
    speed = throughput(compact_cnn(4), x, batch_size=8, single=2)
    assert speed["batched_images_per_s"] > 0
    assert speed["single_images_per_s"] > 0


def test_compare_gives_one_row_per_test_set() -> None:
    sets = {
        name: (np.zeros((100, 48, 48), np.uint8), np.random.default_rng(seed).integers(0, 7, 100))
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


def test_annotation_scores_count_misses_and_uncertain_readings_as_wrong(tmp_path) -> None:
    import cv2
    from matplotlib import cbook

    from capstone.evaluation.scores import annotation_scores

    class Constant:
        def __init__(self, top: int, p: float) -> None:
            self.probs = np.full(7, (1 - p) / 6)
            self.probs[top] = p

        def predict(self, x, batch_size=32, verbose=0):
            return np.tile(self.probs, (len(x), 1))

    photo = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "face.png"), photo)
    cv2.imwrite(str(tmp_path / "blank.png"), np.zeros((120, 100, 3), np.uint8))
    files, y = [tmp_path / "face.png", tmp_path / "blank.png"], np.array([3, 3])
    sure = annotation_scores(Constant(3, 0.9), files, y, progress=False)
    assert sure["face_found"] == 0.5 and sure["accuracy"] == 0.5 and sure["uncertain"] == 0.0
    assert 0 < sure["macro_f1"] < 1
    unsure = annotation_scores(Constant(3, 0.2), files, y, uncertain_below=0.4, progress=False)
    assert unsure["accuracy"] == 0.0 and unsure["uncertain"] == 0.5
    assert unsure["accuracy_every_face"] == 0.5  # the uncertain face's top class, shown
    assert unsure["macro_f1_every_face"] == sure["macro_f1"]


def test_a_crowd_test_set_is_scored_on_its_majority_and_against_its_votes() -> None:
    shares = np.array(
        [[0.7, 0.3, 0, 0, 0, 0, 0], [0, 0.1, 0.9, 0, 0, 0, 0], [0, 0, 0, 0, 0.6, 0.4, 0]]
    )
    probs = np.array(
        [[0.6, 0.4, 0, 0, 0, 0, 0], [0, 0.9, 0.1, 0, 0, 0, 0], [0, 0, 0, 0, 0.5, 0.5, 0]]
    )
    probs = np.clip(probs, 1e-3, None) / np.clip(probs, 1e-3, None).sum(axis=1, keepdims=True)
    scored = scores.score(shares, probs)
    assert scored["accuracy"] == pytest.approx(2 / 3)  # the crowd's majority: 0, 2, 4
    assert scored["crowd"]["majority_accuracy"] == pytest.approx(2 / 3)
    assert scored["crowd"]["n"] == 3 and 0 < scored["crowd"]["total_variation"] < 1
    schema.validate(
        {
            "schema_version": schema.VERSION,
            "profile": "t",
            "seed": 0,
            "classes": list(CLASSES),
            "test_sets": {"ferplus": {"images": 3, "source": "s"}},
            "models": {"m": {"kind": "trained", "test_sets": {"ferplus": scored}}},
        }
    )
