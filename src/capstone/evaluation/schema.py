"""The documented schema of ``build/evaluation/metrics.json``, and its validation.

``metrics.json`` is the single source of the evaluation chapter's tables: every figure the
book shows about model quality is read from it. The schema below is JSON Schema (draft
2020-12); each property carries its description, which :func:`describe` lists for the book.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from capstone.errors import CapstoneError
from capstone.evaluation.scores import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED
from capstone.labels import CLASSES

VERSION = 1

_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_RANGE = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}
_BOOTSTRAP = (
    f"95% bootstrap interval ({BOOTSTRAP_RESAMPLES:,} resamples of the test images, "
    f"seed {BOOTSTRAP_SEED})"
)

_PER_CLASS = {
    "type": "object",
    "description": "Per class: precision, recall, F1 and the number of test images.",
    "required": list(CLASSES),
    "additionalProperties": False,
    "properties": {
        c: {
            "type": "object",
            "required": ["precision", "recall", "f1", "support"],
            "properties": {
                "precision": _UNIT,
                "recall": _UNIT,
                "f1": _UNIT,
                "support": {"type": "integer", "minimum": 0},
            },
        }
        for c in CLASSES
    },
}

_SCORES = {
    "type": "object",
    "description": "One model on one test set.",
    "required": [
        "n",
        "accuracy",
        "accuracy_95ci",
        "macro_f1",
        "macro_f1_95ci",
        "per_class",
        "confusion",
    ],
    "properties": {
        "n": {"type": "integer", "minimum": 1, "description": "test images"},
        "accuracy": {**_UNIT, "description": "share of images whose top class is the label"},
        "macro_f1": {**_UNIT, "description": "unweighted mean of the per-class F1 scores"},
        "accuracy_95ci": {**_RANGE, "description": f"accuracy's {_BOOTSTRAP}"},
        "macro_f1_95ci": {**_RANGE, "description": f"macro-F1's {_BOOTSTRAP}"},
        "ece": {**_UNIT, "description": "expected calibration error, 15 equal-width bins"},
        "crowd": {
            "type": "object",
            "description": "on a crowd-labelled test set (FER+): agreement with the taggers' "
            "votes; the scores above are then of the crowd's majority",
            "required": ["n", "majority_accuracy", "cross_entropy", "total_variation"],
            "properties": {
                "n": {"type": "integer", "minimum": 1},
                "majority_accuracy": {
                    **_UNIT,
                    "description": "share of faces whose top reading is the crowd's most-voted class",
                },
                "per_class": {"type": "object", "additionalProperties": _UNIT},
                "cross_entropy": {
                    "type": "number",
                    "minimum": 0,
                    "description": "of the readings against the crowd's vote shares, in nats",
                },
                "total_variation": {
                    **_UNIT,
                    "description": "half the summed difference between readings and vote shares",
                },
                "crowd_entropy": {
                    "type": "number",
                    "minimum": 0,
                    "description": "the crowd's own disagreement: the lowest cross-entropy possible",
                },
                "fer2013_labels_agree": {
                    **_UNIT,
                    "description": "share of the same faces whose FER2013 label (one annotator's) "
                    "is the crowd's majority",
                },
            },
        },
        "per_class": _PER_CLASS,
        "confusion": {
            "type": "array",
            "description": "row-normalised confusion matrix: rows true class, columns predicted",
            "minItems": len(CLASSES),
            "maxItems": len(CLASSES),
            "items": {
                "type": "array",
                "minItems": len(CLASSES),
                "maxItems": len(CLASSES),
                "items": _UNIT,
            },
        },
    },
}

_MODEL = {
    "type": "object",
    "required": ["kind", "test_sets"],
    "properties": {
        "kind": {
            "enum": ["reference", "trained", "final", "released", "peer"],
            "description": "reference: majority class; trained: a run of the profile; final: "
            "the calibrated pick; released: models/fer_cnn.keras; peer: another project's model",
        },
        "description": {"type": "string"},
        "file": {"type": "string", "description": "model file, relative to the project"},
        "parameters": {"type": "integer", "minimum": 0},
        "size_bytes": {"type": "integer", "minimum": 0},
        "tta_flip": {"type": "boolean", "description": "flip test-time augmentation used"},
        "tta_shift": {
            "type": "integer",
            "minimum": 0,
            "description": "shift test-time augmentation used: pixels (0: none)",
        },
        "speed": {
            "type": "object",
            "description": "inference throughput on this machine, images per second",
            "required": ["batched_images_per_s", "single_images_per_s"],
            "properties": {
                "batched_images_per_s": {"type": "number", "exclusiveMinimum": 0},
                "single_images_per_s": {"type": "number", "exclusiveMinimum": 0},
            },
        },
        "calibration": {
            "type": "object",
            "description": "see capstone.model.calibration.calibrate",
        },
        "test_sets": {
            "type": "object",
            "description": "scores by test set name",
            "additionalProperties": _SCORES,
        },
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Show Me The Money evaluation metrics",
    "type": "object",
    "required": ["schema_version", "profile", "seed", "classes", "test_sets", "models"],
    "properties": {
        "schema_version": {"const": VERSION},
        "profile": {"type": "string", "description": "the params profile of the run"},
        "seed": {"type": "integer"},
        "classes": {"const": list(CLASSES), "description": "class order of every vector"},
        "test_sets": {
            "type": "object",
            "description": "test set name -> number of images and where it comes from",
            "additionalProperties": {
                "type": "object",
                "required": ["images", "source"],
                "properties": {
                    "images": {"type": "integer", "minimum": 1},
                    "source": {"type": "string"},
                },
            },
        },
        "models": {
            "type": "object",
            "description": "model name -> what it is and how it scores",
            "additionalProperties": _MODEL,
        },
        "comparisons": {
            "type": "array",
            "description": "model a minus model b on one test set, by a paired bootstrap "
            "(both scored on the same resamples): an interval above 0 means a is better",
            "items": {
                "type": "object",
                "required": [
                    "a",
                    "b",
                    "test_set",
                    "accuracy_difference",
                    "accuracy_difference_95ci",
                    "macro_f1_difference",
                    "macro_f1_difference_95ci",
                ],
                "properties": {
                    "a": {"type": "string"},
                    "b": {"type": "string"},
                    "test_set": {"type": "string"},
                    "accuracy_difference": {"type": "number"},
                    "accuracy_difference_95ci": _RANGE,
                    "macro_f1_difference": {"type": "number"},
                    "macro_f1_difference_95ci": _RANGE,
                },
            },
        },
        "quoted": {
            "type": "array",
            "description": "published figures quoted for reference, never measured here",
            "items": {"type": "object"},
        },
    },
}


def validate(metrics: dict[str, Any], where: str = "metrics.json") -> None:
    """Raise :class:`~capstone.errors.CapstoneError` naming the first field that is wrong."""
    try:
        jsonschema.validate(metrics, SCHEMA)
    except jsonschema.ValidationError as err:
        field = "/".join(str(p) for p in err.absolute_path) or "top level"
        raise CapstoneError(f"{where}: {field}: {err.message}") from None


def describe() -> list[dict[str, str]]:
    """The documented fields, as rows ``field``, ``description`` (for the book)."""
    rows = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, sub in node.get("properties", {}).items():
            if name in CLASSES:
                continue
            path = f"{prefix}{name}"
            if "description" in sub:
                rows.append({"field": path, "description": sub["description"]})
            walk(sub, path + ".")
            if isinstance(sub.get("additionalProperties"), dict):
                walk(sub["additionalProperties"], path + ".<name>.")

    walk(SCHEMA, "")
    return rows
