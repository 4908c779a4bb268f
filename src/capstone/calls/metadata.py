"""A call's metadata, and whose perceived expressions the law lets this call's analysis read.

The metadata names the participants (``P1``, ``P2``, ... as ``participants.png`` shows
them): the ``rep``, the deployer's other ``staff``, the ``prospects`` (customers) by name,
the pitch ``stages``, and whether the participants were ``informed`` that their
expressions are analysed.

Since 2 February 2025 the EU AI Act, Art. 5(1)(f), prohibits inferring the emotions of
people at work; the Commission's guidelines on prohibited practices (4 February 2025) say
that tracking customers' emotions is not covered. So a use of the product decides whose faces are classified:

``customers`` (the default)
    only the participants the metadata names as prospects. The rep, the staff and every
    face the metadata does not name are tracked and their speaking is measured, but their
    expressions are never classified and appear in no expression output. Without metadata
    nobody's expressions are read: an unnamed face may be a colleague.
``self-review``
    a rep reviews their own call for themselves: the rep (who must be named) and the
    prospects are read; other staff never are. The outputs say they are for the rep alone.
``research``
    faces that are not at work (datasets, film stills): every face is read. Refused when
    the metadata names a rep or staff, since that makes it a work call.

Art. 50(3) obliges the deployer to inform the people exposed; the summary records what the
metadata says (``informed: true``), and says so when it is not recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from capstone.errors import CapstoneError
from capstone.reading.face_reading import ROLES, Role, role_words

#: Whose expressions a call's analysis may read (the module docstring says what each allows).
Use = Literal["customers", "self-review", "research"]
USES: tuple[str, ...] = get_args(Use)
SELF_REVIEW: Use = "self-review"  # a rep's review of their own call, for the rep alone
DEFAULT_USE: Use = "customers"
KEYS = ("rep", "staff", "prospects", "stages", "informed")
CALL_EXAMPLE = (
    "rep: P1\nstaff: [P3]\nprospects: {P2: Dana}\ninformed: true\n"
    "stages: {intro: 0, demo: 60, pricing: 300}"
)


class CallInfoError(CapstoneError):
    """Call metadata that is unreadable, wrongly shaped, or that does not fit the use."""


@dataclass(frozen=True)
class CallInfo:
    """Optional metadata of a call: who is the rep, the other staff, the prospects' names,
    the pitch stages, and whether the participants were informed.

    ``stages`` maps a stage name to its start time in seconds, in order. ``informed`` is
    ``None`` when the metadata does not say.
    """

    rep: str | None = None
    prospects: dict[str, str] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    staff: tuple[str, ...] = ()
    informed: bool | None = None

    def __post_init__(self) -> None:
        both = sorted(set(self.prospects) & {*self.staff, *([self.rep] if self.rep else [])})
        if both:
            raise CallInfoError(
                f"{', '.join(both)} named both as staff (or the rep) and as a prospect; "
                "name each participant once"
            )

    def role(self, participant: str) -> Role:
        """``rep``, ``staff``, ``prospect``, or ``""`` for a participant the metadata does not name."""
        if participant == self.rep:
            return "rep"
        if participant in self.staff:
            return "staff"
        if participant in self.prospects:
            return "prospect"
        return ""

    def name(self, participant: str) -> str:
        """A prospect's name, or ``""``."""
        return self.prospects.get(participant, "")

    def describe(self, participant: str) -> str:
        """The participant's role in words: ``rep``, ``staff``, ``prospect (Dana)``, or ``""``."""
        return role_words(self.role(participant), self.name(participant))

    def stage_at(self, t: float) -> str:
        """The name of the stage running at ``t`` seconds (``""`` before the first)."""
        current = ""
        for name, start in self.stages.items():
            if t >= start:
                current = name
        return current

    def reads(self, participant: str, use: str = DEFAULT_USE) -> bool:
        """Whether ``use`` may classify this participant's perceived expressions."""
        if use == "research":
            return True
        if participant in self.prospects:
            return True
        return use == SELF_REVIEW and participant == self.rep


@dataclass(frozen=True)
class Person:
    """One participant as a manager named them: their ``role`` and ``name`` (both may be empty)."""

    role: Role = ""
    name: str = ""


@dataclass(frozen=True)
class People:
    """Who is who on a call, as the app's form or the call metadata says it: participant id
    -> :class:`Person`. Unlike :class:`CallInfo`, it keeps the names of the staff too (a
    person's erasure finds their calls by name). One rep at most, and a name in one role."""

    by_id: Mapping[str, Person] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reps = [pid for pid, p in self.by_id.items() if p.role == "rep"]
        if len(reps) > 1:
            raise CallInfoError(f"{', '.join(reps)} are all marked as the rep; mark one")
        roles_of: dict[str, set[str]] = {}
        for p in self.by_id.values():
            if p.role and p.name.strip():
                roles_of.setdefault(p.name.strip().lower(), set()).add(p.role)
        both = [n for n, roles in roles_of.items() if len(roles) > 1]
        if both:
            raise CallInfoError(
                f"{', '.join(both)} is named both as "
                f"{' and as '.join(sorted(roles_of[both[0]]))}; each person has one role"
            )

    @classmethod
    def of(cls, info: CallInfo) -> People:
        """The people a :class:`CallInfo` names."""
        named = {info.rep: Person("rep")} if info.rep else {}
        named |= {pid: Person("staff") for pid in info.staff}
        named |= {pid: Person("prospect", name) for pid, name in info.prospects.items()}
        return cls(named)

    @property
    def rep(self) -> str | None:
        """The participant marked as the rep, if any."""
        return next((pid for pid, p in self.by_id.items() if p.role == "rep"), None)

    def call_info(self, stages: Mapping[str, float], informed: bool | None) -> CallInfo:
        """The :class:`CallInfo` the annotation reads (a prospect with no name is called by
        their id), with the pitch ``stages`` in order of their start."""
        return CallInfo(
            rep=self.rep,
            staff=tuple(pid for pid, p in self.by_id.items() if p.role == "staff"),
            prospects={pid: p.name or pid for pid, p in self.by_id.items() if p.role == "prospect"},
            stages=dict(sorted(stages.items(), key=lambda item: item[1])),
            informed=informed,
        )

    def named(self, name: str) -> bool:
        """Whether anyone on the call has this name (case and spaces aside)."""
        key = name.strip().lower()
        return any(p.name.strip().lower() == key for p in self.by_id.values())

    def to_json(self) -> dict[str, Any]:
        return {pid: {"role": p.role, "name": p.name} for pid, p in self.by_id.items()}

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> People:
        people = {}
        for pid, p in (record or {}).items():
            role = p.get("role") or ""
            if role not in ROLES:
                raise CallInfoError(f"{pid}: unknown role {role!r}; use {', '.join(ROLES[:3])}")
            people[str(pid)] = Person(cast(Role, role), str(p.get("name") or ""))
        return cls(people)


@dataclass(frozen=True)
class StageTimes:
    """The pitch's stages: stage name -> its start in seconds, in order, none negative."""

    starts: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, start in self.starts.items():
            if not (math.isfinite(start) and start >= 0):
                raise CallInfoError(f"stage {name!r} starts at {start}: give seconds, 0 or more")

    def to_json(self) -> dict[str, float]:
        return dict(self.starts)

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> StageTimes:
        return cls({str(k): float(v) for k, v in (record or {}).items()})


def as_use(text: str) -> Use:
    """``text`` as a :data:`Use`, or a :class:`CallInfoError` that lists the uses."""
    if text not in USES:
        raise CallInfoError(f"unknown use {text!r}; choose one of {', '.join(USES)}")
    return cast(Use, text)


def check_use(call: CallInfo, use: str) -> None:
    """Refuse a ``use`` that the call's metadata does not allow, saying what to do."""
    if use not in USES:
        raise CallInfoError(f"unknown use {use!r}; choose one of {', '.join(USES)}")
    if use == SELF_REVIEW and call.rep is None:
        raise CallInfoError(
            "self-review reads the rep's own expressions, so the call metadata must name the "
            "rep (for example `rep: P1`; participants.png shows the ids)"
        )
    if use == "research" and (call.rep is not None or call.staff):
        raise CallInfoError(
            "the call metadata names a rep or staff, so this is a work call: research use "
            "is for faces not at work. Use customers (the default) or self-review"
        )


@dataclass(frozen=True)
class UseRecord:
    """What a result records of its use: the ``mode``, whether the participants were
    ``informed`` (``None``: not recorded), whose expressions were ``read`` and ``not_read``,
    and a ``note`` in words."""

    mode: str
    informed: bool | None
    read: list[str]
    not_read: list[str]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "informed": self.informed,
            "read": self.read,
            "not_read": self.not_read,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> UseRecord:
        return cls(**{k: record[k] for k in ("mode", "informed", "read", "not_read", "note")})


def use_record(call: CallInfo, use: str, participants: list[str]) -> UseRecord:
    """The :class:`UseRecord` of reading ``participants`` of ``call`` under ``use``."""
    read = [p for p in participants if call.reads(p, use)]
    notes = {
        "customers": "expressions read only for the participants named as prospects; "
        "staff and unnamed faces are tracked but never classified (EU AI Act Art. 5(1)(f))",
        "self-review": f"self-review: for the rep ({call.rep}) alone, not for their employer "
        "or a team report; other staff are never classified",
        "research": "research use: every face is read; not for calls with staff",
    }
    return UseRecord(
        mode=use,
        informed=call.informed,
        read=read,
        not_read=[p for p in participants if p not in read],
        note=notes[use],
    )


def use_lines(use: UseRecord, roles: dict[str, str]) -> list[str]:
    """Markdown lines on whose expressions this use read, whether the participants were
    informed, and what to do about the unnamed faces (``roles``: participant -> role)."""
    lines = [f"Use: **{use.mode}**: {use.note}."]
    if use.mode != "research" and use.informed is not True:
        said = "says they were not" if use.informed is False else "does not say they were"
        lines.append(
            f"The call metadata {said} informed that their expressions are analysed; the EU "
            "AI Act, Art. 50(3), asks for that. Add `informed: true` once they are."
        )
    unnamed = [p for p in use.not_read if not roles.get(p)]
    if unnamed:
        lines.append(
            f"Not named in the call metadata, so not read: {', '.join(unnamed)} (an unnamed "
            "face may be a colleague). To read a prospect's expressions, name them with "
            f"--call (for example `prospects: {{{unnamed[0]}: Dana}}`), by the ids the "
            "annotated image or participants.png shows."
        )
    return lines


def load_call_info(path: str | Path | None) -> CallInfo:
    """Read call metadata YAML; see :data:`CALL_EXAMPLE` and the module docstring."""
    if path is None:
        return CallInfo()
    import yaml

    path = Path(path)
    if path.is_dir():
        raise CallInfoError(f"{path}: is a folder; --call takes a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise CallInfoError(f"{path}: cannot read the call metadata ({err})") from None

    def wrong(what: str) -> CallInfoError:
        return CallInfoError(f"{path}: {what}. A call metadata file looks like:\n{CALL_EXAMPLE}")

    if not isinstance(data, dict):
        raise wrong(f"expected a mapping of {', '.join(KEYS)}, found {type(data).__name__}")
    unknown = sorted(map(str, set(data) - set(KEYS)))
    if unknown:
        raise wrong(f"unknown keys {unknown}; use {', '.join(KEYS)}")
    rep, informed = data.get("rep"), data.get("informed")
    if rep is not None and (isinstance(rep, bool) or not isinstance(rep, str | int)):
        raise wrong(f"rep must be one participant id such as P1, found {rep!r}")
    if informed is not None and not isinstance(informed, bool):
        raise wrong(f"informed must be true or false, found {informed!r}")
    prospects, stages = data.get("prospects") or {}, data.get("stages") or {}
    for key, value in (("prospects", prospects), ("stages", stages)):
        if not isinstance(value, dict):
            raise wrong(f"{key} must be a mapping, found {type(value).__name__}")
    staff = data.get("staff") or []
    if isinstance(staff, str | int) and not isinstance(staff, bool):
        staff = [staff]
    if not isinstance(staff, list) or any(isinstance(s, bool | dict | list) for s in staff):
        raise wrong(f"staff must be a list of participant ids such as [P3, P4], found {staff!r}")
    try:
        return CallInfo(
            None if rep is None else str(rep),
            {str(k): str(v) for k, v in prospects.items()},
            _stage_times(stages, wrong),
            tuple(str(s) for s in staff),
            informed,
        )
    except CallInfoError as err:
        raise wrong(str(err)) from None


def _stage_times(stages: dict, wrong: Any) -> dict[str, float]:
    """Stage name -> start time: finite, not negative, in order."""
    times = {}
    for name, start in stages.items():
        if (
            isinstance(start, bool)
            or not isinstance(start, int | float)
            or not math.isfinite(start)
        ):
            raise wrong(f"stage {name!r} starts at {start!r}: give a number of seconds")
        if start < 0:
            raise wrong(f"stage {name!r} starts at {start} s: times cannot be negative")
        times[str(name)] = float(start)
    if list(times.values()) != sorted(times.values()):
        raise wrong("stages must be listed in order of their start times")
    return times
