"""What annotating a call gives back, as typed objects: a screenshot's :class:`ScreenshotResult`
and a recording's :class:`CallResult`, like pyannote's ``Annotation``.

The library, the report, the store, the CLI and the notebooks read these objects; JSON is
written from them (with :data:`SCHEMA_VERSION`) and read back into them in one place, here.
Summaries written before there was a schema version (version 1) still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from capstone.calls.metadata import UseRecord
from capstone.reading.face_reading import FaceReading, Role, parse_role, role_words

#: The version of the JSON written for a screenshot or a call. 1: no ``schema_version`` key
#: (read as such); 2: the key, and nothing else changed.
SCHEMA_VERSION = 2
NOTE = "labels are perceived facial expressions, not felt emotions"

#: Perceived expression -> share of a participant's readings.
Shares = dict[str, float]


def _version(record: Mapping[str, Any], where: str) -> int:
    version = int(record.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"{where} was written by a newer version of capstone (schema {version}; this one "
            f"reads up to {SCHEMA_VERSION}); upgrade capstone to read it"
        )
    return version


@dataclass(frozen=True)
class ScreenshotResult:
    """One annotated picture: its size, the use it was read under, and its faces."""

    input: str
    width: int
    height: int
    use: UseRecord
    faces: list[FaceReading]
    reading_means: str = ""
    note: str = NOTE

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "input": self.input,
            "width": self.width,
            "height": self.height,
            "note": self.note,
            "reading_means": self.reading_means,
            "use": self.use.to_json(),
            "faces": [f.to_json() for f in self.faces],
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> ScreenshotResult:
        _version(record, record.get("input", "a screenshot's record"))
        return cls(
            input=record["input"],
            width=record["width"],
            height=record["height"],
            use=UseRecord.from_json(record["use"]),
            faces=[FaceReading.from_json(f) for f in record["faces"]],
            reading_means=record.get("reading_means", ""),
            note=record.get("note", NOTE),
        )


@dataclass(frozen=True)
class Moment:
    """Where a participant's smoothed top reading changed (``was`` -> ``now``)."""

    participant: str
    time: float
    change: float
    was: str
    now: str

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "time": self.time,
            "change": self.change,
            "from": self.was,
            "to": self.now,
        }


@dataclass(frozen=True)
class ReactionMoment(Moment):
    """A prospect's reading changing just after an ``event`` (``rep speaks``, ``stage demo``);
    ``at`` is the time of the sample its thumbnail shows."""

    event: str = ""
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "event": self.event, "at": self.at}


@dataclass(frozen=True)
class Reactions:
    """A prospect's readings while the rep speaks and while they speak themselves: shares
    over the call (``all``) and per stage."""

    while_rep_speaks: dict[str, Shares] = field(default_factory=dict)
    while_speaking: dict[str, Shares] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"while_rep_speaks": self.while_rep_speaks, "while_speaking": self.while_speaking}


@dataclass(frozen=True)
class Metric:
    """A call metric as a manager reads it: its field, its ``words``, and how it is
    ``shown`` (``percent``, ``seconds`` or ``number``)."""

    name: str
    words: str
    shown: str

    def show(self, value: float) -> str:
        """``0.43`` -> ``43%``, ``2.04`` -> ``2.0 s``, ``3.14`` -> ``3.1``."""
        return {"percent": f"{value:.0%}", "seconds": f"{value:.1f} s"}.get(
            self.shown, f"{value:.1f}"
        )


def _metric(words: str, shown: str) -> Any:
    return field(default=None, metadata={"words": words, "shown": shown})


@dataclass(frozen=True)
class Talk:
    """The call's talk metrics (:func:`capstone.calls.talk.talk_metrics`); ``None`` where
    nothing in the call could measure one. A metric is a field made by ``_metric`` with its
    words: the summary, the report, the store and the app's Calls table all list it from here.
    """

    talk_listen_ratio: float | None = _metric("the rep's share of the talk", "percent")
    patience_s: float | None = _metric("the rep's pause before answering a prospect", "seconds")
    speaker_switches_per_min: float | None = _metric(
        "turns a minute (who speaks changes)", "number"
    )
    known_share: float = 0.0

    @classmethod
    def metrics(cls) -> list[Metric]:
        """The call metrics, in the order a manager reads them."""
        return [
            Metric(f.name, f.metadata["words"], f.metadata["shown"])
            for f in fields(cls)
            if "words" in f.metadata
        ]

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> Talk:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (record or {}).items() if k in known})


@dataclass(frozen=True)
class Participant:
    """One participant of a call: who they are, whether their expressions were read, their
    readings' shares over the call and per stage, and how much they spoke."""

    id: str
    role: Role
    name: str
    expressions_read: bool
    samples: int
    classified: int
    shares: Shares
    per_stage: dict[str, Shares]
    talk_seconds: float = 0.0
    talk_share: float | None = None
    longest_monologue_s: float = 0.0

    @property
    def who(self) -> str:
        """The role in words: ``rep``, ``staff``, ``prospect (Dana)``, or ``""``."""
        return role_words(self.role, self.name)

    @property
    def called(self) -> str:
        """What to call them in a sentence: their name, else their id."""
        return self.name or self.id

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.who,
            "expressions_read": self.expressions_read,
            "samples": self.samples,
            "classified": self.classified,
            "shares": self.shares,
            "per_stage": self.per_stage,
            "talk_seconds": self.talk_seconds,
            "talk_share": self.talk_share,
            "longest_monologue_s": self.longest_monologue_s,
        }

    @classmethod
    def from_json(cls, pid: str, record: Mapping[str, Any]) -> Participant:
        role, name = parse_role(record.get("role", ""))
        return cls(
            id=pid,
            role=role,  # type: ignore[arg-type]
            name=name,
            expressions_read=record["expressions_read"],
            samples=record["samples"],
            classified=record["classified"],
            shares=record["shares"],
            per_stage=record["per_stage"],
            talk_seconds=record.get("talk_seconds", 0.0),
            talk_share=record.get("talk_share"),
            longest_monologue_s=record.get("longest_monologue_s", 0.0),
        )


@dataclass
class CallResult:
    """A recording read: its participants, moments, talk and reactions, the use it was read
    under, and (when just annotated) its ``timeline`` and the ``folder`` of its outputs."""

    input: str
    duration_s: float
    participants: dict[str, Participant]
    stages: dict[str, float]
    moments: list[Moment]
    talk: Talk
    reactions: dict[str, Reactions]
    reaction_moments: list[ReactionMoment]
    use: UseRecord
    audio_track: bool | None = None
    reading_means: str = ""
    note: str = NOTE
    timeline: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    folder: Path | None = field(default=None, compare=False)

    @property
    def prospects(self) -> list[Participant]:
        """The participants named as prospects, in id order."""
        return [p for p in self.participants.values() if p.role == "prospect"]

    def roles(self) -> dict[str, str]:
        """Participant id -> role in words."""
        return {pid: p.who for pid, p in self.participants.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "input": self.input,
            "note": self.note,
            "use": self.use.to_json(),
            "duration_s": self.duration_s,
            "participants": {pid: p.to_json() for pid, p in self.participants.items()},
            "stages": self.stages,
            "moments": [m.to_json() for m in self.moments],
            "talk": self.talk.to_json(),
            "reactions": {pid: r.to_json() for pid, r in self.reactions.items()},
            "reaction_moments": [m.to_json() for m in self.reaction_moments],
            "audio_track": self.audio_track,
            "reading_means": self.reading_means,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any], folder: Path | None = None) -> CallResult:
        """The result :meth:`to_json` wrote (schema 1 or 2)."""
        _version(record, record.get("input", "a call's summary"))
        return cls(
            input=record["input"],
            duration_s=record["duration_s"],
            participants={
                pid: Participant.from_json(pid, p) for pid, p in record["participants"].items()
            },
            stages=record.get("stages", {}),
            moments=[moment(m) for m in record.get("moments", [])],
            talk=Talk.from_json(record.get("talk")),
            reactions={pid: Reactions(**r) for pid, r in (record.get("reactions") or {}).items()},
            reaction_moments=[reaction_moment(m) for m in record.get("reaction_moments", [])],
            use=UseRecord.from_json(record["use"]),
            audio_track=record.get("audio_track"),
            reading_means=record.get("reading_means", ""),
            note=record.get("note", NOTE),
            folder=folder,
        )


def moment(record: Mapping[str, Any]) -> Moment:
    """A :class:`Moment` from its JSON."""
    return Moment(
        record["participant"], record["time"], record["change"], record["from"], record["to"]
    )


def reaction_moment(record: Mapping[str, Any]) -> ReactionMoment:
    """A :class:`ReactionMoment` from its JSON."""
    return ReactionMoment(
        record["participant"],
        record["time"],
        record["change"],
        record["from"],
        record["to"],
        event=record["event"],
        at=record["at"],
    )
