"""``capstone app``: it binds to this machine unless told otherwise, warns before serving
beyond it without TLS, and will not start a folder nobody can sign in to."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from capstone.app.accounts import add_user
from capstone.app.database import database_url, open_database
from capstone.cli import main


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


def test_a_folder_nobody_can_sign_in_to_is_not_served(
    tmp_path: Path, started: list, capsys: pytest.CaptureFixture
) -> None:
    assert main(["app", "--data", str(tmp_path)]) == 2
    assert "capstone users add" in capsys.readouterr().err and not started


def test_a_term_to_capstone_app_stops_its_server(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    add_user(open_database(database_url(tmp_path)), "Ada", "admin", "correct horse battery")
    log, port = tmp_path / "app.log", str(_free_port())
    with log.open("wb") as out:  # a file, not a pipe nobody empties: the server never blocks
        app = subprocess.Popen(
            [sys.executable, "-m", "capstone.cli", "app", "--data", str(tmp_path), "--port", port],
            env={**os.environ, "CAPSTONE_APP_DEMO": "0", "CAPSTONE_APP_WORKERS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = time.monotonic()
    while b"URL:" not in log.read_bytes() and time.monotonic() - started < 60:
        time.sleep(0.5)  # until the server says where it serves
    app.send_signal(signal.SIGTERM)  # to `capstone app` alone, as a process manager does
    try:
        assert app.wait(timeout=30) == 0  # a stop asked for: a clean end
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
