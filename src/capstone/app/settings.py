"""The app's server settings, given once for every command.

Where each setting comes from, first found first:

1. the command line (``capstone app --database-url ... --scheduler ...``);
2. the environment: ``CAPSTONE_DATABASE_URL`` and ``CAPSTONE_SCHEDULER``;
3. the settings file ``capstone.toml`` in the app's folder::

       [server]
       database_url = "postgresql://capstone@db.example.com/capstone"
       scheduler = "tcp://10.0.0.5:8786"    # a Dask cluster for the annotation jobs
       workers = 2                          # worker processes on this machine, without one

4. the defaults: SQLite in the folder (``capstone.sqlite``), worker processes on this machine.

So ``capstone app``, ``users``, ``retention``, ``erase``, ``annotate --data`` and the workers
all reach the same database. A password belongs in PostgreSQL's own password file
(``~/.pgpass``) or ``PGPASSWORD``, not in the URL: URLs are shown with the password hidden,
but a file is easier to leak than an environment.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from capstone.app.folders import DATABASE_FILE
from capstone.errors import CapstoneError

SETTINGS_FILE = "capstone.toml"
ENVIRONMENT = {"database_url": "CAPSTONE_DATABASE_URL", "scheduler": "CAPSTONE_SCHEDULER"}
KNOWN = ("database_url", "scheduler", "workers")


class SettingsError(CapstoneError):
    """A settings file that cannot be read, or a setting that cannot be."""


@dataclass(frozen=True)
class Settings:
    """Where the app's folder keeps its calls, and how they are annotated.

    Attributes
    ----------
    data : Path
        The app's folder: media, results, uploads being named (and SQLite's database).
    database_url : str
        A SQLAlchemy URL: ``sqlite:///...`` or ``postgresql://user@host/name``.
    scheduler : str or None
        A Dask scheduler's address: annotation jobs run on its cluster; ``None``: on worker
        processes of this machine.
    workers : int
        How many worker processes this machine starts (without a scheduler).
    """

    data: Path
    database_url: str
    scheduler: str | None = None
    workers: int = 1


def default_url(folder: str | Path) -> str:
    """SQLite in the folder: ``<folder>/capstone.sqlite``."""
    return f"sqlite:///{Path(folder).resolve() / DATABASE_FILE}"


def read_settings(
    data: str | Path,
    *,
    database_url: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Settings:
    """The settings of the app's folder ``data``: the arguments given, else the environment,
    else ``capstone.toml`` in it, else the defaults.

    Raises
    ------
    SettingsError
        If ``capstone.toml`` is not TOML, names a setting that does not exist, or gives one
        of the wrong kind.
    """
    folder = Path(data).resolve()
    written = _settings_file(folder / SETTINGS_FILE)
    given: dict[str, object] = {
        "database_url": database_url,
        "scheduler": scheduler,
        "workers": workers,
    }
    found: dict[str, object] = {}
    for name in KNOWN:
        env = os.environ.get(ENVIRONMENT[name], "") if name in ENVIRONMENT else ""
        found[name] = given[name] if given[name] is not None else (env or written.get(name))
    count = found["workers"] if found["workers"] is not None else 1
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise SettingsError(
            f"{folder / SETTINGS_FILE}: workers = {count!r}; give a whole number, 0 or more"
        )
    url, address = found["database_url"], found["scheduler"]
    return Settings(
        folder, str(url or default_url(folder)), str(address) if address else None, count
    )


def _settings_file(path: Path) -> dict[str, object]:
    """The ``[server]`` table of ``path``, or nothing if there is no such file."""
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SettingsError(f"{path} is not a TOML file ({err}); fix it or remove it") from err
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [server] must be a table of settings")
    unknown = sorted(set(table) - set(KNOWN))
    if unknown:
        raise SettingsError(
            f"{path}: no setting called {', '.join(unknown)}; the settings are {', '.join(KNOWN)}"
        )
    for name in ("database_url", "scheduler"):
        if name in table and not isinstance(table[name], str):
            raise SettingsError(f'{path}: {name} must be a string in quotes, e.g. {name} = "..."')
    return table
