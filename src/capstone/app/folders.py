"""The app's folder, in one place: where its database, each call's media and results, and
the uploads still being named are kept.

    <data>/capstone.sqlite          the database (SQLite, unless a URL names another)
    <data>/media/<call id>/         a call's uploaded recording or screenshots
    <data>/results/<call id>/       its annotated outputs (a library folder of its own)
    <data>/staging/<token>/         an upload at first look, before its details are saved
"""

from __future__ import annotations

from pathlib import Path

DATABASE_FILE = "capstone.sqlite"
STAGING = "staging"


def media_folder(data: Path, call_id: int) -> Path:
    """Where a call's uploaded media are kept."""
    return data / "media" / str(call_id)


def results_folder(data: Path, call_id: int) -> Path:
    """Where a call's annotated outputs go (a library folder of its own)."""
    return data / "results" / str(call_id)


def staging_folder(data: Path, token: str) -> Path:
    """Where an upload waits between the first look and saving its details."""
    return data / STAGING / token
