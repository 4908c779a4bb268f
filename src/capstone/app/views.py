"""What the pages do besides drawing: saving an upload, finding its participants, saving a
call's details before any work starts, a call's status in words, and deleting a call."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from capstone.app.database import Call, DatabaseError, Job, enqueue, locked_message, session
from capstone.app.jobs import media_folder, results_folder
from capstone.calls.image import reading_order
from capstone.calls.metadata import CallInfo
from capstone.calls.tracking import Tracker
from capstone.calls.video import find_faces, sample_frames
from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, VIDEO_SUFFIXES, listed
from capstone.media import MAX_PIXELS, load_image


class UploadError(CapstoneError):
    """An upload the app cannot take: empty, too large, not media, unreadable, or mixed."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Participant:
    """A face found in the first look at an upload: its id and a picture of it."""

    id: str
    tile: np.ndarray  # RGB


def check_uploads(uploads: list[Upload], max_mb: int) -> str:
    """``recording`` or ``screenshots``; refuses, saying what to do, an empty upload, one over
    ``max_mb``, one that is not media, and a recording mixed with other files."""
    if not uploads:
        raise UploadError("choose a recording or one or more screenshots to upload")
    suffixes = [Path(up.name).suffix.lower() for up in uploads]
    videos = [s in VIDEO_SUFFIXES for s in suffixes]
    if any(videos) and len(uploads) > 1:
        raise UploadError("upload one recording at a time, or screenshots only")
    for up, suffix in zip(uploads, suffixes, strict=True):
        _check_one(up, suffix, max_mb)
    return "recording" if any(videos) else "screenshots"


def _check_one(up: Upload, suffix: str, max_mb: int) -> None:
    if not up.data:
        raise UploadError(f"{up.name} is empty (0 bytes); upload the file again")
    if len(up.data) > max_mb * 1_000_000:
        raise UploadError(
            f"{up.name} is {len(up.data) / 1e6:.0f} MB, over the {max_mb} MB the app takes; "
            "cut the recording shorter or lower its resolution"
        )
    if suffix in IMAGE_SUFFIXES:
        image = cv2.imdecode(np.frombuffer(up.data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise UploadError(f"{up.name} is not a picture that can be read; export it again")
        if image.shape[0] * image.shape[1] > MAX_PIXELS:
            raise UploadError(f"{up.name} is too large a picture; resize it under 40 megapixels")
    elif suffix in VIDEO_SUFFIXES:
        if not _plays(up.data, suffix):
            raise UploadError(
                f"{up.name} is not a recording that can be read (or it is cut short); "
                "export it again from the call app"
            )
    else:
        raise UploadError(
            f"{up.name} is not a screenshot or a recording; the app takes pictures "
            f"({listed(IMAGE_SUFFIXES)}) and recordings ({listed(VIDEO_SUFFIXES)})"
        )


def _plays(data: bytes, suffix: str) -> bool:
    """Whether a recording's bytes decode to at least one frame (read from the content)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        capture = cv2.VideoCapture(str(path))
        try:
            return bool(capture.isOpened() and capture.read()[0])
        finally:
            capture.release()


def safe_name(name: str, index: int) -> str:
    """A stored file name that never comes from the user's path: a number and the suffix."""
    suffix = Path(name).suffix.lower()
    kept = suffix if re.fullmatch(r"\.[a-z0-9]{2,5}", suffix) else ""
    return f"{index + 1:02d}{kept}"


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
    names = [safe_name(up.name, i) for i, up in enumerate(uploads)]
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


def delete_call(engine: Engine, data: Path, call_id: int) -> None:
    """Delete a call: its rows, its media and its results."""
    with session(engine) as s:
        s.execute(delete(Job).where(Job.call_id == call_id))
        s.execute(delete(Call).where(Call.id == call_id))
    for folder in (media_folder(data, call_id), results_folder(data, call_id)):
        shutil.rmtree(folder, ignore_errors=True)


def add_files(engine: Engine, data: Path, files: list[Path], info: CallInfo, use: str) -> list[int]:
    """Add each media file as a call (``capstone annotate --data``): titled by its name, with
    ``info``'s who-is-who and stages; returns the calls' ids, their jobs queued."""
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
        )
        ids.append(save_call(engine, data, call, [upload]))
    return ids
