"""The app's cast: users of each role in two sales teams, signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine

from capstone.app.accounts import add_user, sign_in

PASSWORD = "correct horse battery"
#: name -> (roles, team): an admin, managers of two teams, their reps, an admin who manages.
CAST: dict[str, tuple[str, str]] = {
    "Ada": ("admin", ""),
    "Mia": ("manager", "east"),
    "Max": ("manager", "west"),
    "Ana": ("rep", "east"),
    "Ben": ("rep", "east"),
    "Wes": ("rep", "west"),
    "Ola": ("admin,manager", "east"),
}


def cast(engine: Engine) -> dict[str, str]:
    """Add :data:`CAST` and sign each in; name -> session token."""
    tokens = {}
    for name, (roles, team) in CAST.items():
        add_user(engine, name, roles, PASSWORD, team)
        tokens[name] = sign_in(engine, name, PASSWORD)
    return tokens


@pytest.fixture(scope="session")
def add_cast() -> Callable[[Engine], dict[str, str]]:
    """:func:`cast`, for the fixtures that build a library."""
    return cast
