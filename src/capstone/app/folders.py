"""The app's folder, in one place: where its database, each call's media and results, and
the uploads still being named are kept.

    <data>/capstone.sqlite          the database (SQLite, unless a URL names another)
    <data>/media/<call id>/         a call's uploaded recording or screenshots
    <data>/results/<call id>/       its annotated outputs (a library folder of its own)
    <data>/staging/<user>-<token>/  an upload at first look, before its details are saved
                                    (removed with the user's erasure, or after an hour)
"""

from __future__ import annotations

from pathlib import Path

DATABASE_FILE = "capstone.sqlite"
STAGING = "staging"
STAGING_KEPT_S = 3600  # an upload never saved is removed after this long


def media_folder(data: Path, call_id: int) -> Path:
    """Where a call's uploaded media are kept."""
    return data / "media" / str(call_id)


def results_folder(data: Path, call_id: int) -> Path:
    """Where a call's annotated outputs go (a library folder of its own)."""
    return data / "results" / str(call_id)


def staging_folder(data: Path, user_id: int, token: str) -> Path:
    """Where user ``user_id``'s upload waits between the first look and saving its details."""
    return data / STAGING / f"{user_id}-{token}"


def staged_by(data: Path, user_id: int) -> list[Path]:
    """The uploads user ``user_id`` staged and has not saved."""
    return sorted((data / STAGING).glob(f"{user_id}-*"))
