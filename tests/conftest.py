"""Shared fixtures: small data the tests generate themselves, and the optional shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``, or skip: a user's clone has no shared folder."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the developers' machines have it)")
    return SHARED_DATA
