"""Deleting for good: one call, everything about a person, and calls past the retention.

A deleted call leaves nothing behind: its media, its results (the annotated outputs and the
Parquet store of its library folder), its rows and its jobs, and its self-reviews. SQLite
overwrites the deleted rows and its log is emptied afterwards
(:func:`capstone.app.database.checkpoint`). The audit log keeps only that the call, by its
number, was deleted.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from capstone.app.database import Call, Job, Meta, User, checkpoint, session
from capstone.app.folders import (
    STAGING,
    STAGING_KEPT_S,
    media_folder,
    results_folder,
    staged_by,
)

#: Calls are deleted this many days after the call unless the admin sets otherwise.
DEFAULT_RETENTION_DAYS = 365


def delete_calls(engine: Engine, data: Path, call_ids: list[int]) -> list[int]:
    """Delete calls and their self-reviews: rows, jobs, media and results; returns the ids
    deleted."""
    if not call_ids:
        return []
    with session(engine) as s:
        reviews = s.scalars(select(Call.id).where(Call.review_of.in_(call_ids))).all()
        gone = sorted({*call_ids, *reviews})
        s.execute(delete(Job).where(Job.call_id.in_(gone)))
        s.execute(delete(Call).where(Call.id.in_(gone)))
    for call_id in gone:
        for folder in (media_folder(data, call_id), results_folder(data, call_id)):
            shutil.rmtree(folder, ignore_errors=True)
    checkpoint(engine)
    return gone


def delete_call(engine: Engine, data: Path, call_id: int) -> None:
    """Delete one call (see :func:`delete_calls`)."""
    delete_calls(engine, data, [call_id])


def calls_of_person(engine: Engine, name: str) -> list[int]:
    """The calls that record ``name`` (any case): as a named participant, as the rep, or as
    the user the calls belong to."""
    key = name.strip().lower()
    if not key:
        return []
    with session(engine) as s:
        owners = set(s.scalars(select(User.id).where(func.lower(User.name) == key)))
        found = select(Call.id, Call.owner_id, Call.rep, Call.people)
        rows = s.execute(found.where(Call.demo.is_(False))).all()  # the demo records nobody
    return [
        call_id
        for call_id, owner, rep, people in rows
        if owner in owners
        or rep.strip().lower() == key
        or (people is not None and people.named(key))
    ]


def erase_person(engine: Engine, data: Path, name: str) -> list[int]:
    """Delete every call that records ``name``, and the uploads a user of that name staged
    but never saved; returns the calls' ids."""
    key = name.strip().lower()
    with session(engine) as s:
        users = list(s.scalars(select(User.id).where(func.lower(User.name) == key))) if key else []
    for user_id in users:
        for folder in staged_by(data, user_id):
            shutil.rmtree(folder, ignore_errors=True)
    return delete_calls(engine, data, calls_of_person(engine, name))


def retention_days(engine: Engine) -> int:
    """How many days calls are kept (the admin's setting, or the default)."""
    with session(engine) as s:
        kept = s.get(Meta, "retention_days")
    return int(kept.value) if kept else DEFAULT_RETENTION_DAYS


def set_retention_days(engine: Engine, days: int) -> None:
    """Keep calls ``days`` days (at least 1)."""
    if days < 1:
        raise ValueError(f"keep calls at least one day, not {days}")
    with session(engine) as s:
        s.merge(Meta(key="retention_days", value=str(int(days))))


def expired(engine: Engine, today: dt.date | None = None) -> list[int]:
    """The calls older than the retention: by the call's date, or the day it was added."""
    limit = (today or dt.date.today()) - dt.timedelta(days=retention_days(engine))
    with session(engine) as s:
        rows = s.execute(select(Call.id, Call.call_date, Call.created_at)).all()
    return [i for i, day, added in rows if (day or added.date()) < limit]


def apply_retention(engine: Engine, data: Path, today: dt.date | None = None) -> list[int]:
    """Delete the calls past the retention; returns their ids."""
    return delete_calls(engine, data, expired(engine, today))


def sweep_staging(data: Path, older_than_s: float = STAGING_KEPT_S) -> int:
    """Remove uploads staged for a first look but never saved; returns how many folders."""
    removed = 0
    for folder in (data / STAGING).glob("*"):
        if time.time() - folder.stat().st_mtime > older_than_s:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
