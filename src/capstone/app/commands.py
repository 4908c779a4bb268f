"""The app's commands for admins and cron: ``capstone users``, ``capstone retention``,
``capstone erase``, and ``capstone annotate --data`` (calls added to the app from files).

Each opens the app's folder the way the app does (its database migrated first). A password is
read from standard input, never from the command line (which other users of the machine can
see).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capstone.errors import CapstoneError

if TYPE_CHECKING:
    from capstone.calls.request import CallRequest


def register(sub: Any) -> None:
    """Add the commands' parsers to the ``capstone`` command's subparsers."""
    users = sub.add_parser("users", help="add, list or remove the app's users")
    action = users.add_subparsers(dest="action", required=True)
    add = action.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("--data", type=Path, required=True, help="the app's folder")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, help="admin, manager or rep (or e.g. admin,manager)")
    add.add_argument("--team", default="", help="the sales team (managers and reps)")
    listing = action.add_parser("list", help="the users, their roles and teams")
    listing.add_argument("--data", type=Path, required=True)
    remove = action.add_parser("remove", help="remove a user (their calls stay with the team)")
    remove.add_argument("--data", type=Path, required=True)
    remove.add_argument("--name", required=True)
    adopt = action.add_parser(
        "adopt", help="give the calls added before accounts existed to a rep (and their team)"
    )
    adopt.add_argument("--data", type=Path, required=True)
    adopt.add_argument("--name", required=True, help="the rep")
    unlocking = action.add_parser("unlock", help="lift a name's lock after failed sign-ins")
    unlocking.add_argument("--data", type=Path, required=True)
    unlocking.add_argument("--name", required=True)

    keep = sub.add_parser("retention", help="delete the calls older than the retention (cron)")
    keep.add_argument("--data", type=Path, required=True, help="the app's folder")
    keep.add_argument("--days", type=int, help="set the retention to this many days first")

    erase = sub.add_parser("erase", help="delete every call that records a person")
    erase.add_argument("--data", type=Path, required=True, help="the app's folder")
    erase.add_argument("--name", required=True, help="the person's name, as it was given")


def _engine(data: Path) -> Any:
    from capstone.app.database import database_url, open_database

    data.mkdir(parents=True, exist_ok=True)
    return open_database(database_url(data))


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise CapstoneError("the two passwords differ; nothing was saved")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def users(args: argparse.Namespace) -> int:
    from capstone.app.accounts import add_user, remove_user, unlock
    from capstone.app.accounts import users as listed
    from capstone.app.audit import record

    engine = _engine(args.data)
    if args.action == "add":
        user = add_user(engine, args.name, args.role, _password(), args.team)
        record(engine, "capstone users", "users")
        print(f"added {user.name} ({', '.join(sorted(user.roles))}{_team(user.team)})")
    elif args.action == "adopt":
        print(f"gave {len(_adopt(engine, args.name))} call(s) without an owner to {args.name}")
    elif args.action == "unlock":
        unlock(engine, args.name, by="capstone users")
        print(f"unlocked {args.name}: they may sign in again")
    elif args.action == "remove":
        remove_user(engine, args.name)
        record(engine, "capstone users", "users")
        print(f"removed {args.name}; their sessions are ended")
    else:
        for user in listed(engine):
            print(f"{user.name}\t{','.join(sorted(user.roles))}\t{user.team}")
    return 0


def _adopt(engine: Any, name: str) -> list[int]:
    from capstone.app.accounts import users as listed
    from capstone.app.audit import record
    from capstone.app.services import adopt_unowned

    rep = next((u for u in listed(engine) if u.name == name and u.has("rep")), None)
    if rep is None:
        raise CapstoneError(f"{name} is not a rep here; add one with capstone users add")
    adopted = adopt_unowned(engine, rep)
    for call_id in adopted:
        record(engine, "capstone users", "edited", call_id)
    return adopted


def _team(team: str) -> str:
    return f", team {team}" if team else ""


def retention(args: argparse.Namespace) -> int:
    from capstone.app.audit import record
    from capstone.app.erasure import apply_retention, retention_days, set_retention_days

    engine = _engine(args.data)
    if args.days is not None:
        if args.days < 1:
            raise CapstoneError(f"--days {args.days}: keep calls at least one day")
        set_retention_days(engine, args.days)
    gone = apply_retention(engine, args.data)
    for call_id in gone:
        record(engine, "capstone retention", "retention", call_id)
    print(f"deleted {len(gone)} call(s) older than {retention_days(engine)} days")
    return 0


def erase(args: argparse.Namespace) -> int:
    from capstone.app.audit import record
    from capstone.app.erasure import erase_person

    engine = _engine(args.data)
    gone = erase_person(engine, args.data, args.name)
    for call_id in gone:
        record(engine, "capstone erase", "erased", call_id)
    print(f"erased {len(gone)} call(s) that recorded that person")
    return 0


def annotate_into_app(args: argparse.Namespace, request: CallRequest, model_file: Path) -> int:
    """``capstone annotate --data --owner NAME``: the inputs become calls of that rep in the
    app, annotated here by the code the app's workers run."""
    from capstone.app.accounts import users as listed
    from capstone.app.jobs import run_pending
    from capstone.app.services import add_files, states

    if request.use == "research":
        raise CapstoneError(
            "--use research is for faces not at work; the app's calls are sales calls, read "
            "with --use customers (the prospects) or self-review (a rep's own, for them alone)"
        )
    engine = _engine(args.data)
    owner = next((u for u in listed(engine) if u.name == args.owner), None)
    if owner is None or not owner.has("rep"):
        raise CapstoneError(
            f"say whose calls these are: --owner NAME, a rep of {args.data} (add one with "
            "capstone users add --role rep)"
        )
    ids = add_files(engine, args.data, list(args.inputs), request, owner=owner)
    run_pending(engine, args.data, model_file)
    said = states(engine)
    for call_id in ids:
        print(f"call {call_id}: {said.get(call_id, '')}")
    failed = [i for i in ids if said.get(i, "").startswith("failed")]
    print(
        f"added {len(ids)} call(s) to {args.data}; open them with: capstone app --data {args.data}"
    )
    return 1 if failed else 0
