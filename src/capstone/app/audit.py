"""The audit log: who viewed, exported, edited or deleted which call, and when.

An entry holds a user's name, an action and a call's number: never a call's title, a
participant's name, a reading or a secret.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from capstone.app.database import AuditEntry, session
from capstone.calls.metadata import SELF_REVIEW

LOCKED = "locked out"  # too many failed sign-ins for a name (the name is the entry's user)
UNLOCKED = "unlocked"  # an admin lifted a name's lock
DEMO_REMOVED = "removed the demo library"

ACTIONS = (
    "signed in",
    "signed out",
    "viewed",
    "exported",
    "edited",
    "deleted",
    "added",
    SELF_REVIEW,  # a rep started a review of their own call
    "erased",
    "retention",
    "users",
    LOCKED,
    UNLOCKED,
    DEMO_REMOVED,
)


def record(
    engine: Engine, user: str, action: str, call_id: int | None = None, *, about: str = ""
) -> None:
    """Add one entry; ``action`` is one of :data:`ACTIONS`, ``about`` the name it concerns
    (a lock, an unlock)."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an audit action; one of {ACTIONS}")
    with session(engine) as s:
        s.add(AuditEntry(user=user, action=action, call_id=call_id, about=about))


def log_table(engine: Engine, limit: int = 1000) -> pd.DataFrame:
    """The latest entries, newest first, in words."""
    with session(engine) as s:
        found = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
    return pd.DataFrame(
        [
            {"when": e.at, "who": e.user, "did": e.action, "call": e.call_id, "about": e.about}
            for e in found
        ],
        columns=["when", "who", "did", "call", "about"],
    )
