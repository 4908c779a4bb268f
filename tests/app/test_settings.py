"""One configuration for every command: the command line, then the environment, then the
folder's capstone.toml, then the defaults; a bad file is refused saying where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstone.app.settings import SettingsError, default_url, read_settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAPSTONE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CAPSTONE_SCHEDULER", raising=False)


def test_an_empty_folder_is_sqlite_in_it_with_one_worker_here(tmp_path: Path) -> None:
    settings = read_settings(tmp_path)
    assert settings.database_url == default_url(tmp_path) == f"sqlite:///{tmp_path}/capstone.sqlite"
    assert (settings.scheduler, settings.workers) == (None, 1)


def test_the_command_line_then_the_environment_then_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "capstone.toml").write_text(
        '[server]\ndatabase_url = "postgresql://file@db/calls"\nscheduler = "tcp://file:8786"\n'
        "workers = 3\n"
    )
    from_file = read_settings(tmp_path)
    assert (from_file.database_url, from_file.scheduler, from_file.workers) == (
        "postgresql://file@db/calls",
        "tcp://file:8786",
        3,
    )
    monkeypatch.setenv("CAPSTONE_DATABASE_URL", "postgresql://env@db/calls")
    from_env = read_settings(tmp_path)
    assert (from_env.database_url, from_env.scheduler) == (
        "postgresql://env@db/calls",
        "tcp://file:8786",  # the file adds what the environment does not say
    )
    given = read_settings(tmp_path, database_url="sqlite:///x.sqlite", workers=0)
    assert (given.database_url, given.workers) == ("sqlite:///x.sqlite", 0)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("[server\n", r"capstone\.toml is not a TOML file .*; fix it or remove it"),
        ('[server]\ndatabase = "x"\n', r"no setting called database; the settings are"),
        ("[server]\nworkers = -1\n", r"workers = -1; give a whole number, 0 or more"),
        ('[server]\nworkers = "2"\n', r"workers = '2'; give a whole number"),
        ("[server]\ndatabase_url = 5\n", r"database_url must be a string in quotes"),
    ],
)
def test_a_bad_settings_file_is_refused_saying_where_and_why(
    tmp_path: Path, written: str, says: str
) -> None:
    (tmp_path / "capstone.toml").write_text(written)
    with pytest.raises(SettingsError, match=says) as refused:
        read_settings(tmp_path)
    assert str(tmp_path / "capstone.toml") in str(refused.value)


def test_every_command_reaches_the_database_the_environment_names(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A team's PostgreSQL, given once: users, retention and erase reach it, and nothing is
    written in the folder but what is asked."""
    import io
    import sys

    from capstone.app.accounts import users
    from capstone.app.database import open_database
    from capstone.cli import main

    monkeypatch.setenv("CAPSTONE_DATABASE_URL", postgres_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    data = tmp_path / "app"
    add = ["users", "add", "--data", str(data), "--name", "Ada", "--role", "admin,manager"]
    assert main([*add, "--team", "east"]) == 0
    assert [u.name for u in users(open_database(postgres_url))] == ["Ada"]
    assert main(["retention", "--data", str(data)]) == 0
    assert main(["erase", "--data", str(data), "--name", "Dana"]) == 0
    assert "erased 0 call(s)" in capsys.readouterr().out
    assert not (data / "capstone.sqlite").exists()


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        (["--database-url", "postgresql://capstone@127.0.0.1:9/calls"], "cannot be reached"),
        (["--database-url", "mysql-ish:/nowhere"], "is not a database URL"),
        ([], "capstone.toml is not a TOML file"),
    ],
)
def test_a_command_given_a_bad_database_says_so_in_one_sentence(
    tmp_path: Path, setting: list[str], says: str, capsys
) -> None:
    from capstone.cli import main

    (tmp_path / "capstone.toml").write_text("[server]\n" if setting else "[server\n")
    assert main(["app", "--data", str(tmp_path), *setting]) == 2
    said = capsys.readouterr().err
    assert says in said and "bug" not in said and len(said.strip().splitlines()) == 1
