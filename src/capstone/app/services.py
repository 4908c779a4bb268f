"""The services behind the pages (and ``capstone annotate --data``): the first look at an
upload's participants, saving a call's details before any work starts, a call's status in
words, a rep's self-review, and a call's readings to download."""

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
from capstone.app.findings import Findings
from capstone.app.folders import media_folder
from capstone.app.uploads import Upload, UploadError, check_uploads, stored_name
from capstone.calls.metadata import SELF_REVIEW, People, StageTimes
from capstone.calls.numbering import first_look as look
from capstone.calls.request import CallRequest, ReadingOptions
from capstone.media import MediaError


@dataclass(frozen=True)
class FaceTile:
    """A participant found in the first look at an upload: their id and a picture of them."""

    id: str
    tile: np.ndarray  # RGB, 96 x 96
    box: tuple[int, int, int, int]  # where the face is in the first picture


def first_look(
    folder: Path, names: list[str], options: ReadingOptions | None = None
) -> list[FaceTile]:
    """The participants the annotation will call P1, P2, ...: numbered by the annotation's
    own numbering (:func:`capstone.calls.numbering.first_look`) in the first picture or the
    recording's first frame, with a tile of each face."""
    try:
        image, faces = look(folder / names[0], options)
    except MediaError as err:
        raise UploadError(str(err)) from None
    tiles = []
    for face in faces:
        x, y, w, h = face.box
        crop = cv2.resize(image[max(0, y) : y + h, max(0, x) : x + w], (96, 96))
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        tiles.append(FaceTile(face.participant, rgb, face.box))
    return sorted(tiles, key=lambda p: int(p.id[1:]))


def stage_times(text: str) -> StageTimes:
    """``intro 0:00, demo 4:30`` (or seconds) -> stage name -> start in seconds."""
    times: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,\n]", text))):
        match = re.fullmatch(r"(.+?)\s*[:=]?\s+(\d+)(?::(\d{1,2}))?", part)
        if not match:
            raise UploadError(f"{part!r}: write each stage as a name and a start, e.g. demo 4:30")
        name, first, second = match.groups()
        times[name.strip()] = int(first) * 60 + int(second) if second else float(first)
    return StageTimes(times)


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
    engine: Engine, data: Path, files: list[Path], request: CallRequest, *, owner: Viewer
) -> list[int]:
    """Add each media file as a call of ``owner`` (``capstone annotate --data``): titled by
    its name, with the request's who-is-who, stages, use and reading options; returns the
    calls' ids, their jobs queued."""
    info = request.info
    ids = []
    for path in files:
        upload = Upload(path.name, path.read_bytes())
        kind = check_uploads([upload], 10**6)
        call = Call(
            title=path.stem,
            people=People.of(info),
            stage_times=StageTimes(info.stages),
            informed=info.informed,
            use=request.use,
            options=request.options,
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
    if call.people.rep is None:
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
        options=call.options,
        kind=call.kind,
        use=SELF_REVIEW,
        share=False,
        owner_id=viewer.id,
        sales_team=call.sales_team,
        review_of=call.id,
    )
    uploads = [Upload(n, (media_folder(data, call.id) / n).read_bytes()) for n in call.media]
    return save_call(engine, data, review, uploads)


def export(data: Path, results: Findings) -> tuple[str, bytes]:
    """A call's readings to download: the timelines of a recording (CSV), or the readings of
    its screenshots (JSON); the file's name and its bytes."""
    timelines = [data / str(o.timeline) for o in results.recordings]
    if timelines:
        return "readings.csv", b"".join(t.read_bytes() for t in timelines if t.is_file())
    records = [json.loads((data / str(o.record)).read_text()) for o in results.screenshots]
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
