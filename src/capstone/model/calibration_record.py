"""What calibration chose for a model, as one typed, versioned record.

:func:`capstone.model.calibration.calibrate` makes a :class:`CalibrationRecord`; the finished
model's ``final.json`` (and ``metrics.json``, and ``models/fer_cnn.json``) hold it as JSON
(:meth:`CalibrationRecord.to_json`); every reader turns the JSON back into the record with
:meth:`CalibrationRecord.from_json`, which checks it and fills in what records written
before version 1 left out. Nothing here needs numpy or Keras.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from capstone.errors import CapstoneError

VERSION = 1

#: The validation scores of each step, keyed by step name (:data:`STEPS`).
Scores = dict[str, dict[str, float]]

# What capstone.model.calibration.calibrate measures on validation, in the order it applies the steps.
STEPS = {
    "trained": "as trained",
    "head_refit": "+ head refitted on clean training images",
    "flip_tta": "+ flip test-time augmentation",
    "shift_tta": "+ shifted copies (test-time augmentation)",
    "temperature": "+ temperature",
    "class_offsets": "+ class offsets",
}

# What records from before version 1 (no "version" key) meant by the keys they lack.
_BEFORE_VERSION_1 = {"tta_shift": 0, "validation_faces": None}


@dataclass(frozen=True)
class HeadRefit:
    """The last layer refitted on clean training images: ``kept`` if it raised validation
    accuracy; ``c``, the logistic regression's inverse L2 strength; ``seconds`` it took."""

    kept: bool
    c: float
    seconds: float


@dataclass(frozen=True)
class OffsetsHeldOut:
    """Macro-F1 and accuracy on held-out halves of validation, without and with the class
    offsets; the offsets are ``kept`` only if they raised macro-F1 there."""

    kept: bool
    f1_without: float
    f1_with: float
    acc_without: float | None = None
    acc_with: float | None = None


@dataclass(frozen=True)
class CalibrationRecord:
    """Each post-hoc choice (:mod:`capstone.model.calibration`) and what it scored on validation."""

    temperature: float
    class_offsets: list[float]
    uncertain_below: float
    shown_share: float
    validation: Scores
    tta_flip: bool = False
    tta_shift: int = 0
    head_refit: HeadRefit | None = None
    class_offsets_heldout: OffsetsHeldOut | None = None
    validation_faces: dict[str, dict[str, int]] | None = None
    version: int = VERSION

    def kept(self, step: str) -> bool:
        """Whether ``step`` (a key of ``validation``) is part of the final model."""
        if step == "head_refit":
            return self.head_refit is not None and self.head_refit.kept
        if step == "flip_tta":
            return self.tta_flip
        if step == "shift_tta":
            return self.tta_shift > 0
        if step == "class_offsets":
            return self.class_offsets_heldout is None or self.class_offsets_heldout.kept
        return True

    def with_validation_faces(self, faces: dict[str, dict[str, int]]) -> CalibrationRecord:
        """A copy that also says which validation faces it was fitted on."""
        return dataclasses.replace(self, validation_faces=faces)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any, source: str = "the record") -> CalibrationRecord:
        """The record in ``data`` (from :meth:`to_json`, or a record from before version 1).

        Raises :class:`~capstone.errors.CapstoneError` naming ``source`` and the key when
        a key is missing or of the wrong kind.
        """
        if not isinstance(data, dict):
            raise CapstoneError(f"{source}: calibration must be a mapping, got {data!r}")
        data = dict(data)
        version = data.pop("version", 0)
        if version not in (0, VERSION):
            raise CapstoneError(
                f"{source}: calibration record version {version} is newer than this code "
                f"reads ({VERSION}); update capstone"
            )
        if version == 0:
            data = _BEFORE_VERSION_1 | data
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "version"}
        missing = sorted(n for n, f in fields.items() if n not in data and _required(f))
        unknown = sorted(set(data) - set(fields))
        if missing or unknown:
            raise CapstoneError(
                f"{source}: calibration record has missing keys {missing} or unknown keys "
                f"{unknown}; was it written by another version of capstone?"
            )
        try:
            head, heldout = data.pop("head_refit", None), data.pop("class_offsets_heldout", None)
            return cls(
                **data,
                head_refit=HeadRefit(**head) if head else None,
                class_offsets_heldout=OffsetsHeldOut(**heldout) if heldout else None,
                version=VERSION,
            )
        except TypeError as err:
            raise CapstoneError(f"{source}: calibration record does not read ({err})") from None


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def steps_table(record: CalibrationRecord) -> list[tuple[str, dict[str, float]]]:
    """``(label, scores)`` of each step in a :func:`calibrate` record, in the order applied.

    Saved records sort their keys alphabetically; this puts the steps back in order. A step
    that was tried but not kept is labelled so; the steps after it start from the last kept one.
    """
    done = record.validation
    return [
        (label if record.kept(step) else f"{label} (not kept)", done[step])
        for step, label in STEPS.items()
        if step in done
    ]
