"""Who may see and do what: the rules every page, query and file of the app goes through.

- **admin** manages users, retention and erasure; sees no call unless also a manager.
- **manager** sees the calls of their team's reps, with the prospects' readings; never a
  rep's self-review (staff faces are never read in the calls they see: EU AI Act,
  Art. 5(1)(f)).
- **rep** sees their own calls, and may review their own expressions on one: that
  self-review is theirs alone; no benchmark or export includes it.

The demo calls (composed from a painted portrait: nobody's data) are open to managers and
reps. A refusal never says whether the call exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from capstone.app.accounts import Viewer
from capstone.app.database import Call, session
from capstone.calls.metadata import SELF_REVIEW
from capstone.errors import CapstoneError


@dataclass(frozen=True)
class Page:
    """One page of the app: its ``script`` under ``screens/``, its ``title`` and ``icon`` in
    the navigation, and the ``roles`` that may open it."""

    script: str
    title: str
    icon: str
    roles: frozenset[str]


EVERYONE, CALLS, ADMIN = (
    frozenset({"admin", "manager", "rep"}),
    frozenset({"manager", "rep"}),
    frozenset({"admin"}),
)
#: Every page, in the navigation's order: the one table the navigation and the rules read.
PAGES: tuple[Page, ...] = (
    Page("home.py", "Home", ":material/home:", EVERYONE),
    Page("new_call.py", "New call", ":material/upload:", CALLS),
    Page("calls.py", "Calls", ":material/table:", CALLS),
    Page("benchmarks.py", "Benchmarks", ":material/insights:", CALLS),
    Page("users.py", "Users", ":material/group:", ADMIN),
    Page("privacy.py", "Retention and erasure", ":material/delete_sweep:", ADMIN),
)
BY_SCRIPT: dict[str, Page] = {page.script: page for page in PAGES}
NOT_YOURS = "There is no call with that number that you may see."


class AccessDenied(CapstoneError):
    """Something the signed-in person may not see or do."""


def may_open(viewer: Viewer | None, page: str) -> bool:
    """Whether ``viewer`` may open the page script ``page`` (one of :data:`PAGES`)."""
    if page not in BY_SCRIPT:
        raise ValueError(f"no page {page!r} in capstone.app.access.PAGES")
    return viewer is not None and bool(viewer.roles & BY_SCRIPT[page].roles)


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """The calls ``viewer`` may see, as a condition for a query (so a refused call is never
    even read)."""
    rules = []
    if viewer.has("rep"):
        rules.append(Call.owner_id == viewer.id)
    if viewer.has("manager") and viewer.team:
        rules.append(
            and_(Call.sales_team == viewer.team, Call.use != SELF_REVIEW, Call.demo.is_(False))
        )
    if viewer.sees_calls:
        rules.append(Call.demo.is_(True))
    return or_(*rules) if rules else false()


def can_see(viewer: Viewer | None, call: Call) -> bool:
    """Whether ``viewer`` may see this call (the same rule as :func:`visible`)."""
    if viewer is None:
        return False
    if viewer.has("rep") and call.owner_id == viewer.id:
        return True
    if not viewer.sees_calls:
        return False
    if call.demo:
        return True
    return (
        viewer.has("manager")
        and call.use != SELF_REVIEW
        and bool(viewer.team)
        and call.sales_team == viewer.team
    )


def can_change(viewer: Viewer | None, call: Call) -> bool:
    """Edit the details or delete the call: whoever may see it, never a demo call (an admin
    removes the demo library whole: :func:`capstone.app.demo.remove_demo`)."""
    return can_see(viewer, call) and not call.demo


def can_export(viewer: Viewer | None, call: Call) -> bool:
    """Download the readings: whoever may see it, never of a self-review."""
    return can_see(viewer, call) and call.use != SELF_REVIEW


def can_self_review(viewer: Viewer | None, call: Call) -> bool:
    """Start a review of one's own expressions: the rep whose call it is."""
    return (
        viewer is not None
        and viewer.has("rep")
        and call.owner_id == viewer.id
        and call.use != SELF_REVIEW
        and not call.demo
    )


def calls_for(engine: Engine, viewer: Viewer) -> list[Call]:
    """The calls ``viewer`` may see, newest first."""
    with session(engine) as s:
        query = select(Call).where(visible(viewer))
        return list(s.scalars(query.order_by(Call.created_at.desc(), Call.id.desc())))


def call_for(engine: Engine, viewer: Viewer | None, call_id: int) -> Call:
    """One call, if ``viewer`` may see it; otherwise :class:`AccessDenied`, in the same words
    whether it exists or not."""
    with session(engine) as s:
        call = s.get(Call, call_id)
    if call is None or not can_see(viewer, call):
        raise AccessDenied(NOT_YOURS)
    return call
