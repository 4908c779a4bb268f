"""What the pages do besides drawing: finding an upload's participants, saving a call's
details before any work starts, and a call's status in words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from capstone.app.access import NOT_YOURS, AccessDenied, can_self_review
from capstone.app.accounts import Viewer
from capstone.app.database import Call, DatabaseError, Job, enqueue, locked_message, session
from capstone.app.jobs import media_folder
from capstone.app.uploads import Upload, UploadError, check_uploads, stored_name
from capstone.calls.image import reading_order
from capstone.calls.metadata import SELF_REVIEW, CallInfo
from capstone.calls.tracking import Tracker
from capstone.calls.video import find_faces, sample_frames
from capstone.media import load_image


@dataclass(frozen=True)
class Participant:
    """A face found in the first look at an upload: its id and a picture of it."""

    id: str
    tile: np.ndarray  # RGB


def first_look(folder: Path, names: list[str], kind: str) -> list[Participant]:
    """The participants the annotation will call P1, P2, ...: found as it finds them, in the
    first picture or the recording's first frame, with a tile of each face."""
    path = folder / names[0]
    if kind == "screenshots":
        image = load_image(path)
        found = find_faces(image, [], True, 24, "mtcnn")
        boxes = [found[i].box for i in reading_order([d.box for d in found])]
        ids = [f"P{i + 1}" for i in range(len(boxes))]
    else:
        first = next((frame for _, frame in sample_frames(path, 2.0)), None)
        if first is None:
            raise UploadError(f"{path.name}: no frame can be read; the recording may be cut")
        image = first
        found = find_faces(image, [], True, 24, "mtcnn")
        boxes = [d.box for d in found]
        ids = Tracker().assign(boxes, image)
    tiles = []
    for pid, (x, y, w, h) in zip(ids, boxes, strict=True):
        face = image[max(0, y) : y + h, max(0, x) : x + w]
        tiles.append(Participant(pid, cv2.cvtColor(cv2.resize(face, (96, 96)), cv2.COLOR_BGR2RGB)))
    return sorted(tiles, key=lambda p: int(p.id[1:]))


def check_people(people: dict[str, dict[str, str]]) -> None:
    """Refuse who-is-who that cannot be: two reps, or a name given to two roles."""
    reps = [pid for pid, p in people.items() if p["role"] == "rep"]
    if len(reps) > 1:
        raise UploadError(f"{', '.join(reps)} are all marked as the rep; mark one")
    roles_of: dict[str, set[str]] = {}
    for p in people.values():
        if p["role"] and p.get("name"):
            roles_of.setdefault(p["name"].strip().lower(), set()).add(p["role"])
    both = [n for n, roles in roles_of.items() if len(roles) > 1]
    if both:
        raise UploadError(
            f"{', '.join(both)} is named both as {' and as '.join(sorted(roles_of[both[0]]))}; "
            "each person has one role"
        )


def stage_times(text: str) -> dict[str, float]:
    """``intro 0:00, demo 4:30`` (or seconds) -> stage name -> start in seconds."""
    times: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        match = re.fullmatch(r"(.+?)\s*[:=]?\s+(\d+)(?::(\d{1,2}))?", part)
        if not match:
            raise UploadError(f"{part!r}: write each stage as a name and a start, e.g. demo 4:30")
        name, first, second = match.groups()
        times[name.strip()] = int(first) * 60 + int(second) if second else float(first)
    return times


def save_call(engine: Engine, data: Path, call: Call, uploads: list[Upload]) -> int:
    """Save the call's details and media (before any work starts), then queue its annotation;
    returns the call's id. A database locked by another program is a :class:`DatabaseError`
    that says so (the form keeps what was typed)."""
    try:
        return _save_call(engine, data, call, uploads)
    except OperationalError as err:
        raise DatabaseError(locked_message(str(engine.url), err)) from err


def _save_call(engine: Engine, data: Path, call: Call, uploads: list[Upload]) -> int:
    with session(engine) as s:
        s.add(call)
        s.flush()
        call_id = call.id
    folder = media_folder(data, call_id)
    folder.mkdir(parents=True, exist_ok=True)
    names = [stored_name(up, i) for i, up in enumerate(uploads)]
    for name, up in zip(names, uploads, strict=True):
        tmp = folder / f".{name}.part"
        tmp.write_bytes(up.data)
        tmp.replace(folder / name)
    with session(engine) as s:
        stored = s.get(Call, call_id)
        if stored is not None:
            stored.media = names
    enqueue(engine, call_id)
    return call_id


def job_of(engine: Engine, call_id: int) -> Job | None:
    """The call's latest job."""
    with session(engine) as s:
        return s.scalars(select(Job).where(Job.call_id == call_id).order_by(Job.id.desc())).first()


def states(engine: Engine) -> dict[int, str]:
    """Each call's status in words, from its latest job."""
    with session(engine) as s:
        jobs = s.scalars(select(Job).order_by(Job.id)).all()
    said = {}
    for job in jobs:
        said[job.call_id] = {
            "queued": "waiting to start",
            "running": f"annotating ({job.progress:.0%})",
            "done": "done",
            "failed": f"failed: {job.message}",
        }.get(job.state, job.state)
    return said


def add_files(
    engine: Engine, data: Path, files: list[Path], info: CallInfo, *, use: str, owner: Viewer
) -> list[int]:
    """Add each media file as a call of ``owner`` (``capstone annotate --data``): titled by
    its name, with ``info``'s who-is-who and stages; returns the calls' ids, their jobs
    queued."""
    people = {info.rep: {"role": "rep", "name": ""}} if info.rep else {}
    people |= {pid: {"role": "staff", "name": ""} for pid in info.staff}
    people |= {pid: {"role": "prospect", "name": name} for pid, name in info.prospects.items()}
    ids = []
    for path in files:
        upload = Upload(path.name, path.read_bytes())
        kind = check_uploads([upload], 10**6)
        call = Call(
            title=path.stem,
            people=people,
            stage_times=dict(info.stages),
            informed=info.informed,
            use=use,
            kind=kind,
            rep=owner.name,
            owner_id=owner.id,
            sales_team=owner.team,
        )
        ids.append(save_call(engine, data, call, [upload]))
    return ids


def start_self_review(engine: Engine, data: Path, viewer: Viewer, call_id: int) -> int:
    """A rep's review of their own expressions on one of their calls: a call of its own
    (``use="self-review"``), visible to that rep alone, never shared; returns its id."""
    with session(engine) as s:
        call = s.get(Call, call_id)
    if call is None or not can_self_review(viewer, call):
        raise AccessDenied(NOT_YOURS)
    rep = next((pid for pid, p in (call.people or {}).items() if p.get("role") == "rep"), None)
    if rep is None:
        raise UploadError("say which face is yours (the rep) in the call's details first")
    review = Call(
        title=f"Self-review: {call.title}",
        call_date=call.call_date,
        rep=call.rep,
        stage=call.stage,
        outcome=call.outcome,
        people=call.people,
        stage_times=call.stage_times,
        informed=call.informed,
        kind=call.kind,
        use=SELF_REVIEW,
        share=False,
        owner_id=viewer.id,
        sales_team=call.sales_team,
        review_of=call.id,
    )
    uploads = [Upload(n, (media_folder(data, call.id) / n).read_bytes()) for n in call.media]
    return save_call(engine, data, review, uploads)


def export(data: Path, results: dict) -> tuple[str, bytes]:
    """A call's readings to download: the timelines of a recording (CSV), or the readings of
    its screenshots (JSON); the file's name and its bytes."""
    timelines = [(data / f).parent / "timeline.csv" for f in results.get("summaries", [])]
    if timelines:
        return "readings.csv", b"".join(t.read_bytes() for t in timelines if t.is_file())
    records = [json.loads((data / f).read_text()) for f in results.get("records", [])]
    return "readings.json", json.dumps(records, indent=1).encode()


def adopt_unowned(engine: Engine, owner: Viewer) -> list[int]:
    """Give the calls that have no owner (added before accounts existed; the demo calls
    aside) to the rep ``owner`` and their team; returns their ids."""
    with session(engine) as s:
        found = s.scalars(select(Call).where(Call.owner_id.is_(None), Call.demo.is_(False)))
        adopted = []
        for call in found:
            call.owner_id, call.sales_team, call.rep = owner.id, owner.team, owner.name
            adopted.append(call.id)
        return adopted
