"""Accounts: who signs in, with which roles, and for how long.

Passwords are kept only as argon2 hashes (slow and salted, from ``argon2-cffi``). Signing in
gives a random token; the database keeps its SHA-256 and its expiry, the browser's session
keeps the token, and every page checks it (:func:`viewer_of`).

Five failed sign-ins for a name from one address within :data:`LOCKOUT` lock that name, from
that address, for the rest of it, whether the name exists or not (so the form says nothing
about which names exist); a stranger elsewhere cannot lock a rep out. Fifty from anywhere
lock the name everywhere (a guess spread over many addresses). Each lock is written to the
audit log, and an admin may lift it (:func:`unlock`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from capstone.app.audit import LOCKED, UNLOCKED, record
from capstone.app.database import FailedSignIn, SignIn, User, now, session
from capstone.errors import CapstoneError

ROLES = ("admin", "manager", "rep")
MIN_PASSWORD = 10
MAX_FAILURES = 5  # from one address, within LOCKOUT
MAX_FAILURES_ANYWHERE = 50  # from any address, within LOCKOUT
LOCKOUT = dt.timedelta(minutes=15)
#: How long a sign-in lasts (``CAPSTONE_SESSION_HOURS``, default 8).
SESSION_HOURS = 8.0

_hasher = PasswordHasher()


class AccountError(CapstoneError):
    """A user that cannot be added, or a sign-in that is refused."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person every page and query asks about."""

    id: int
    name: str
    roles: frozenset[str]
    team: str

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def sees_calls(self) -> bool:
        """Managers and reps see calls; an admin alone sees none."""
        return self.has("manager") or self.has("rep")


def parse_roles(text: str) -> frozenset[str]:
    """``"admin,manager"`` -> the roles; refuses an unknown or missing one."""
    roles = frozenset(r.strip().lower() for r in text.split(",") if r.strip())
    unknown = sorted(roles - set(ROLES))
    if not roles or unknown:
        raise AccountError(
            f"{', '.join(unknown) or 'no role'}: a role is one of {', '.join(ROLES)} "
            "(several joined by commas, e.g. admin,manager)"
        )
    return roles


def add_user(engine: Engine, name: str, roles: str, password: str, team: str = "") -> Viewer:
    """Add a user; a manager or a rep needs a ``team`` (a manager sees their team's reps'
    calls)."""
    name, team, wanted = name.strip(), team.strip(), parse_roles(roles)
    if not name:
        raise AccountError("give the user a name")
    if name.lower().endswith("(demo)"):
        raise AccountError(f"{name}: names ending in (demo) are the demo library's; choose another")
    if (wanted & {"manager", "rep"}) and not team:
        raise AccountError(f"{name}: a manager or a rep needs a team (--team)")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    user = User(
        name=name, roles=",".join(sorted(wanted)), team=team, password_hash=_hasher.hash(password)
    )
    try:
        with session(engine) as s:
            s.add(user)
            s.flush()
            return _viewer(user)
    except IntegrityError as err:
        raise AccountError(f"a user named {name} exists already; choose another name") from err


def users(engine: Engine) -> list[Viewer]:
    """Every active user, by name."""
    with session(engine) as s:
        found = s.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        return [_viewer(u) for u in found]


def remove_user(engine: Engine, name: str) -> None:
    """Deactivate a user and end their sessions (their calls stay with their team)."""
    with session(engine) as s:
        user = s.scalars(select(User).where(User.name == name)).first()
        if user is None:
            raise AccountError(f"no user named {name}")
        user.active = False
        s.execute(delete(SignIn).where(SignIn.user_id == user.id))


def sign_in(engine: Engine, name: str, password: str, address: str = "") -> str:
    """A session token for ``name``, or :class:`AccountError` (the same words for a wrong
    name and a wrong password; a name with too many recent failures from ``address``, the
    client's, or from anywhere, is locked: the module docstring says when)."""
    key = name.strip().lower()
    here, anywhere = failures(engine, key, address)
    with session(engine) as s:
        user = s.scalars(
            select(User).where(func.lower(User.name) == key, User.active.is_(True))
        ).first()
    if here >= MAX_FAILURES or anywhere >= MAX_FAILURES_ANYWHERE:
        raise AccountError(
            "too many failed sign-ins for this name; wait 15 minutes and try again, or ask "
            "your admin to unlock it"
        )
    stored = user.password_hash if user else _dummy_hash()  # as slow for an unknown name
    if user is None or not _verified(stored, password):
        with session(engine) as s:
            s.add(FailedSignIn(name=key, address=address[:64]))
        if here + 1 == MAX_FAILURES or anywhere + 1 == MAX_FAILURES_ANYWHERE:
            record(engine, address or "unknown address", LOCKED, about=key)  # no password
        raise AccountError("that name and password do not match")
    token = secrets.token_urlsafe(32)
    hours = session_hours()
    with session(engine) as s:  # a success clears its own address's failures, not a stranger's
        mine = (FailedSignIn.name == key, FailedSignIn.address == address[:64])
        s.execute(delete(FailedSignIn).where(*mine))
        s.add(
            SignIn(
                token_hash=_digest(token),
                user_id=user.id,
                expires_at=now() + dt.timedelta(hours=hours),
            )
        )
    return token


def session_hours() -> float:
    """How long a sign-in lasts, in hours: ``CAPSTONE_SESSION_HOURS``, or :data:`SESSION_HOURS`."""
    return float(os.environ.get("CAPSTONE_SESSION_HOURS", SESSION_HOURS))


def failures(engine: Engine, name: str, address: str = "") -> tuple[int, int]:
    """The failed sign-ins for ``name`` within :data:`LOCKOUT`: from ``address``, and from
    anywhere."""
    key = name.strip().lower()
    recent = (FailedSignIn.name == key, FailedSignIn.at > now() - LOCKOUT)
    count = select(func.count(FailedSignIn.id))
    with session(engine) as s:
        here = s.scalar(count.where(*recent, FailedSignIn.address == address[:64])) or 0
        anywhere = s.scalar(count.where(*recent)) or 0
    return here, anywhere


def locked_names(engine: Engine) -> list[str]:
    """The names locked now, from some address or from everywhere."""
    since = now() - LOCKOUT
    with session(engine) as s:
        rows = s.execute(
            select(FailedSignIn.name, FailedSignIn.address, func.count(FailedSignIn.id))
            .where(FailedSignIn.at > since)
            .group_by(FailedSignIn.name, FailedSignIn.address)
        ).all()
    total: dict[str, int] = {}
    locked = set()
    for name, _address, n in rows:
        total[name] = total.get(name, 0) + n
        if n >= MAX_FAILURES:
            locked.add(name)
    return sorted(locked | {n for n, t in total.items() if t >= MAX_FAILURES_ANYWHERE})


def unlock(engine: Engine, name: str, by: str) -> None:
    """Lift every lock on ``name`` (an admin's action, ``by`` them, written to the audit log)."""
    key = name.strip().lower()
    with session(engine) as s:
        s.execute(delete(FailedSignIn).where(FailedSignIn.name == key))
    record(engine, by, UNLOCKED, about=key)


def viewer_of(engine: Engine, token: str | None) -> Viewer | None:
    """The user a session token belongs to, or ``None`` when it is missing, unknown, expired
    or its user removed (one indexed query)."""
    if not token:
        return None
    with session(engine) as s:
        row = s.execute(
            select(User, SignIn.expires_at)
            .join(SignIn, SignIn.user_id == User.id)
            .where(SignIn.token_hash == _digest(token))
        ).first()
        if row is None or row[1] <= now() or not row[0].active:
            return None
        return _viewer(row[0])


def sign_out(engine: Engine, token: str | None) -> None:
    """End a session (and clear expired ones)."""
    with session(engine) as s:
        s.execute(delete(SignIn).where(SignIn.expires_at <= now()))
        if token:
            s.execute(delete(SignIn).where(SignIn.token_hash == _digest(token)))


def _viewer(user: User) -> Viewer:
    return Viewer(user.id, user.name, frozenset(user.roles.split(",")), user.team)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verified(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")
