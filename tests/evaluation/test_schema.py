import copy

import numpy as np
import pytest

from capstone.errors import CapstoneError
from capstone.evaluation import schema
from capstone.evaluation.scores import compare, model_entry, score
from capstone.labels import CLASSES


@pytest.fixture
def metrics() -> dict:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 50)
    x = np.zeros((50, 48, 48), np.uint8)

    def uniform(faces):
        return np.full((len(faces), 7), 1 / 7)

    return {
        "schema_version": schema.VERSION,
        "profile": "test",
        "seed": 1,
        "classes": list(CLASSES),
        "test_sets": {"fer2013": {"images": 50, "source": "fer2013 test split"}},
        "models": {"uniform": model_entry("reference", uniform, {"fer2013": (x, y)})},
        "comparisons": compare(("uniform", uniform), ("uniform", uniform), {"fer2013": (x, y)}),
        "quoted": [{"model": "someone", "accuracy": 0.5}],
    }


def test_a_complete_document_validates(metrics) -> None:
    schema.validate(metrics)
    scores = metrics["models"]["uniform"]["test_sets"]["fer2013"]
    assert set(scores) >= {"accuracy", "macro_f1", "ece", "per_class", "confusion"}
    assert set(scores) >= {"accuracy_95ci", "macro_f1_95ci"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["models"]["uniform"]["test_sets"]["fer2013"].update(accuracy=1.5), "accuracy"),
        (lambda m: m["models"]["uniform"]["test_sets"]["fer2013"]["per_class"].pop("fear"), "fear"),
        (lambda m: m["models"]["uniform"]["test_sets"]["fer2013"]["confusion"].pop(), "confusion"),
        (lambda m: m["models"]["uniform"].update(kind="mystery"), "kind"),
        (lambda m: m["models"]["uniform"]["test_sets"]["fer2013"].pop("macro_f1_95ci"), "95ci"),
        (lambda m: m["comparisons"][0].pop("accuracy_difference"), "accuracy_difference"),
        (lambda m: m.update(classes=["happy", "sad"]), "classes"),
        (lambda m: m.pop("seed"), "seed"),
    ],
)
def test_a_wrong_field_is_named(metrics, change, message) -> None:
    broken = copy.deepcopy(metrics)
    change(broken)
    with pytest.raises(CapstoneError, match=message):
        schema.validate(broken, "build/evaluation/metrics.json")


def test_every_documented_field_has_a_description() -> None:
    rows = schema.describe()
    fields = {r["field"] for r in rows}
    assert {"profile", "models", "models.<name>.kind", "models.<name>.test_sets"} <= fields
    assert all(r["description"] for r in rows)


def test_score_adds_calibration_error() -> None:
    y = np.array([0, 1, 2, 3])
    probs = np.eye(7)[y] * 0.9 + 0.1 / 7
    assert score(y, probs)["ece"] == pytest.approx(abs(1 - probs.max(1).mean()), abs=1e-9)
