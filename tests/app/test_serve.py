"""``capstone app``: it binds to this machine unless told otherwise, warns before serving
beyond it without TLS, asks for the first account at a terminal and will not start a folder
nobody can sign in to without one, and stops cleanly."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from capstone.app.accounts import add_user
from capstone.app.database import database_url, open_database
from capstone.cli import main

PASSWORD = "correct horse battery"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    commands: list[list[str]] = []

    class Server:  # the Streamlit server, not started: its command is kept
        def __init__(self, command: list[str], env: dict) -> None:
            commands.append(command)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr("capstone.app.serve.subprocess.Popen", Server)
    return commands


def _address(command: list[str]) -> str:
    return command[command.index("--server.address") + 1]


def test_the_app_serves_on_this_machine_unless_told_and_warns_beyond_it(
    tmp_path: Path, started: list, capsys: pytest.CaptureFixture
) -> None:
    add_user(open_database(database_url(tmp_path)), "Ada", "admin", "correct horse battery")
    assert main(["app", "--data", str(tmp_path)]) == 0
    assert _address(started[-1]) == "127.0.0.1" and "TLS" not in capsys.readouterr().err
    assert main(["app", "--data", str(tmp_path), "--host", "0.0.0.0"]) == 0
    assert _address(started[-1]) == "0.0.0.0"
    assert "without TLS" in capsys.readouterr().err


def test_a_folder_nobody_can_sign_in_to_is_not_served_without_a_terminal(
    tmp_path: Path, started: list, capsys: pytest.CaptureFixture
) -> None:
    assert main(["app", "--data", str(tmp_path)]) == 2  # stdin is not a terminal here
    said = capsys.readouterr().err
    assert "capstone users add" in said and "from a terminal" in said and not started


def test_at_a_terminal_the_first_run_asks_for_the_first_account(
    tmp_path: Path, started: list, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import io

    from capstone.app.accounts import sign_in, users

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["Ada", "east", "short", "short", "Ada", "east", PASSWORD, "different"])
    answers = iter([*answers, "Ada", "east", PASSWORD, PASSWORD])
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    assert main(["app", "--data", str(tmp_path)]) == 0 and started
    said = capsys.readouterr().out
    assert "at least 10 characters; once more" in said and "differ; once more" in said
    engine = open_database(database_url(tmp_path))
    (ada,) = users(engine)
    assert (ada.name, ada.roles, ada.team) == ("Ada", {"admin", "manager"}, "east")
    assert sign_in(engine, "Ada", PASSWORD)


def test_three_refused_first_accounts_start_nothing(
    tmp_path: Path, started: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capstone.app.accounts import users
    from capstone.app.serve import first_account
    from capstone.errors import CapstoneError

    engine = open_database(database_url(tmp_path))
    with pytest.raises(CapstoneError, match="no account was made"):
        first_account(engine, ask=lambda _: "", ask_secret=lambda _: PASSWORD, say=lambda _: None)
    assert users(engine) == []


def test_a_term_to_capstone_app_stops_its_server_and_queues_its_job_again(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from capstone.app.database import Job, session

    engine = open_database(database_url(tmp_path))
    add_user(engine, "Ada", "admin", "correct horse battery")
    log, port = tmp_path / "app.log", str(_free_port())
    demo = {"CAPSTONE_APP_DEMO_CALLS": "2", "CAPSTONE_APP_DEMO_SECONDS": "60"}
    with log.open("wb") as out:  # a file, not a pipe nobody empties: the server never blocks
        app = subprocess.Popen(
            [sys.executable, "-m", "capstone.cli", "app", "--data", str(tmp_path), "--port", port],
            env={**os.environ, **demo, "CAPSTONE_APP_WORKERS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def states() -> list[str]:
        with session(engine) as s:
            return [job.state for job in s.query(Job).all()]

    started = time.monotonic()
    while "running" not in states() and time.monotonic() - started < 90:
        time.sleep(0.5)  # until the worker is at work on a demo call
    assert "running" in states(), log.read_text()
    app.send_signal(signal.SIGTERM)  # to `capstone app` alone, as a process manager does
    try:
        assert app.wait(timeout=30) == 0  # a stop asked for: a clean end
        assert "running" not in states()  # the job in flight is queued again (or done)
        deadline = time.monotonic() + 20
        with pytest.raises(ProcessLookupError):  # nothing of its group is left: the server too
            while time.monotonic() < deadline:
                os.killpg(app.pid, 0)
                time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.pid, signal.SIGKILL)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
