"""``capstone app``: it binds to this machine unless told otherwise, warns before serving
beyond it without TLS, and will not start a folder nobody can sign in to."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstone.app.accounts import add_user
from capstone.app.database import database_url, open_database
from capstone.cli import main


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    commands: list[list[str]] = []
    monkeypatch.setattr(
        "capstone.app.serve.subprocess.call", lambda command, env: commands.append(command) or 0
    )
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
