"""Accounts: slow salted hashes, sign-ins that expire, failed sign-ins rate-limited, and the
``capstone users`` command that reads the password from standard input."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import update

from capstone.app.accounts import (
    MAX_FAILURES,
    AccountError,
    add_user,
    remove_user,
    sign_in,
    sign_out,
    users,
    viewer_of,
)
from capstone.app.database import SignIn, database_url, now, open_database, session
from capstone.cli import main

PASSWORD = "correct horse battery"


@pytest.fixture
def engine(tmp_path: Path):
    return open_database(database_url(tmp_path))


def test_passwords_are_kept_as_salted_argon2_hashes_only(tmp_path: Path, engine) -> None:
    add_user(engine, "Ana", "rep", PASSWORD, "east")
    add_user(engine, "Ben", "rep", PASSWORD, "east")
    with sqlite3.connect(tmp_path / "capstone.sqlite") as db:
        hashes = [h for (h,) in db.execute("SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted: the same password, two hashes
    assert not any(PASSWORD.encode() in p.read_bytes() for p in tmp_path.iterdir() if p.is_file())


def test_a_sign_in_gives_a_session_that_ends_when_it_expires_or_is_signed_out(engine) -> None:
    add_user(engine, "Ana", "rep", PASSWORD, "east")
    token = sign_in(engine, "ana", PASSWORD)  # names are not case-sensitive
    viewer = viewer_of(engine, token)
    assert viewer is not None and viewer.name == "Ana" and viewer.roles == {"rep"}
    assert viewer_of(engine, token + "x") is None and viewer_of(engine, None) is None
    with session(engine) as s:
        s.execute(update(SignIn).values(expires_at=now()))
    assert viewer_of(engine, token) is None  # expired
    token = sign_in(engine, "Ana", PASSWORD)
    sign_out(engine, token)
    assert viewer_of(engine, token) is None
    token = sign_in(engine, "Ana", PASSWORD)
    remove_user(engine, "Ana")
    assert viewer_of(engine, token) is None and users(engine) == []


def test_failed_sign_ins_are_rate_limited_and_say_nothing_of_which_names_exist(engine) -> None:
    add_user(engine, "Ana", "rep", PASSWORD, "east")
    said = set()
    for name in ("Ana", "Nobody"):
        for _ in range(MAX_FAILURES):
            with pytest.raises(AccountError) as err:
                sign_in(engine, name, "wrong password")
            said.add(str(err.value))
    assert said == {"that name and password do not match"}
    with pytest.raises(AccountError, match="too many failed sign-ins"):
        sign_in(engine, "Ana", PASSWORD)  # locked, even with the right password


@pytest.mark.parametrize(
    ("roles", "team", "password", "says"),
    [
        ("boss", "east", PASSWORD, "a role is one of admin, manager, rep"),
        ("manager", "", PASSWORD, "needs a team"),
        ("rep", "east", "short", "at least 10 characters"),
    ],
)
def test_a_user_that_cannot_be_is_refused(engine, roles, team, password, says) -> None:
    with pytest.raises(AccountError, match=says):
        add_user(engine, "Ana", roles, password, team)


def test_the_users_command_reads_the_password_from_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "--data", str(tmp_path), "--name", "Ada", "--role", "admin"]) == 0
    assert "added Ada (admin)" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["users", "add", "--data", str(tmp_path), "--name", "Ada", "--role", "admin"]
    assert main(args) == 2
    assert "exists already" in capsys.readouterr().err
    assert sign_in(open_database(database_url(tmp_path)), "Ada", PASSWORD)


def test_a_stranger_locks_a_name_only_from_their_own_address_and_an_admin_unlocks(
    engine,
) -> None:
    from capstone.app.accounts import MAX_FAILURES_ANYWHERE, locked_names, unlock
    from capstone.app.audit import log_table

    add_user(engine, "Ana", "rep", PASSWORD, "east")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccountError):
            sign_in(engine, "ana", "a guess", address="203.0.113.9")
    with pytest.raises(AccountError, match="ask your admin to unlock it"):
        sign_in(engine, "Ana", PASSWORD, address="203.0.113.9")  # the stranger's address
    assert sign_in(engine, "Ana", PASSWORD, address="198.51.100.2")  # Ana, elsewhere
    assert locked_names(engine) == ["ana"]
    log = log_table(engine)
    locks = log[log["did"] == "locked out"]
    assert locks[["who", "about"]].values.tolist() == [["203.0.113.9", "ana"]]  # once
    unlock(engine, "Ana", by="Ada")
    assert locked_names(engine) == [] and sign_in(engine, "Ana", PASSWORD, address="203.0.113.9")
    log = log_table(engine)
    assert log[log["did"] == "unlocked"][["who", "about"]].values.tolist() == [["Ada", "ana"]]
    for i in range(MAX_FAILURES_ANYWHERE):  # a guess spread over many addresses
        with pytest.raises(AccountError):
            sign_in(engine, "Ana", "a guess", address=f"10.0.{i // 250}.{i % 250}")
    with pytest.raises(AccountError, match="too many failed sign-ins"):
        sign_in(engine, "Ana", PASSWORD, address="198.51.100.2")


def test_a_name_ending_in_demo_is_the_demo_librarys(engine) -> None:
    with pytest.raises(AccountError, match=r"names ending in \(demo\) are the demo library's"):
        add_user(engine, "Ana (Demo)", "rep", PASSWORD, "east")
