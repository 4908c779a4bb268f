"""A face read in a picture, as a typed object: where it is, who it is, and what was read.

Like supervision's ``Detections``, a :class:`FaceReading` travels from stage to stage: the
classifier makes it, a call gives it a participant and a role, drawing and the timeline
read it, and it is written as JSON (and read back) in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from capstone.faces.boxes import Box

#: ``ok`` read; ``uncertain`` read, but its top probability is under the threshold;
#: ``too_small`` not read (under the smallest face side); ``not_read`` not read (the use
#: does not allow it: :mod:`capstone.calls.metadata`).
Status = Literal["ok", "uncertain", "too_small", "not_read"]
STATUSES: tuple[str, ...] = get_args(Status)

#: Who a participant is on a call; ``""`` when the call's metadata does not say.
Role = Literal["rep", "staff", "prospect", ""]
ROLES: tuple[str, ...] = get_args(Role)


def role_words(role: str, name: str = "") -> str:
    """A role as the outputs write it: ``rep``, ``staff``, ``prospect (Dana)``, or ``""``."""
    return f"{role} ({name})" if role and name else role


def parse_role(words: str) -> tuple[str, str]:
    """``(role, name)`` of :func:`role_words`' text (for summaries written before schema 2)."""
    role, _, name = words.partition(" (")
    return role, name.removesuffix(")")


@dataclass(frozen=True)
class FaceReading:
    """One face in one picture.

    ``expression`` is the most likely perceived expression and ``probability`` its share,
    for a face that was read (``ok`` or ``uncertain``); ``probs`` holds every class's. A face
    on a call also has its ``participant`` (``P1``, ``P2``, ...), ``role`` and ``name``.
    """

    box: Box
    status: Status
    expression: str | None = None
    probability: float | None = None
    probs: Mapping[str, float] = field(default_factory=dict)
    participant: str = ""
    role: Role = ""
    name: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {self.role!r}")
        if self.read != (self.probability is not None):
            raise ValueError(
                f"a face with status {self.status!r} has probability {self.probability}"
            )

    @property
    def read(self) -> bool:
        """Whether the face's expression was read (``ok`` or ``uncertain``)."""
        return self.status in ("ok", "uncertain")

    @property
    def label(self) -> str:
        """The word the outputs show: the expression, ``uncertain``, ``too small``, ``not read``."""
        if self.status == "ok" and self.expression:
            return self.expression
        return self.status.replace("_", " ")

    @property
    def who(self) -> str:
        """The participant's role in words (:func:`role_words`)."""
        return role_words(self.role, self.name)

    def caption(self) -> str:
        """What a picture shows above the face: ``P2 happy 62%``, ``P1 not read``."""
        text = f"{self.participant} {self.label}" if self.participant else self.label
        return text if self.probability is None else f"{text} {self.probability:.0%}"

    def on_call(self, participant: str, role: Role = "", name: str = "") -> FaceReading:
        """This reading as participant ``participant`` of a call."""
        return dataclasses.replace(self, participant=participant, role=role, name=name)

    def to_json(self) -> dict[str, Any]:
        """The JSON record of the face (``role`` in words, as :attr:`who`)."""
        return {
            "box": list(self.box),
            "status": self.status,
            "label": self.label,
            "probability": self.probability,
            "probs": dict(self.probs),
            "participant": self.participant,
            "role": self.who,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> FaceReading:
        """The reading :meth:`to_json` wrote."""
        role, name = parse_role(record.get("role", ""))
        probs = dict(record.get("probs") or {})
        expression = max(probs, key=probs.__getitem__) if probs else None
        return cls(
            box=tuple(record["box"]),
            status=record["status"],
            expression=expression,
            probability=record.get("probability"),
            probs=probs,
            participant=record.get("participant", ""),
            role=role,  # type: ignore[arg-type]
            name=name,
        )
