"""Progress for people: every module logs to its ``capstone.*`` logger, and the CLI and the
stage notebooks show those lines as they are, on standard output (no level, no logger name).

Library code never prints (ruff's T20 rule): a caller that wants the lines quiet, or in a
file, configures the ``capstone`` logger as it likes.
"""

from __future__ import annotations

import logging
import sys


class _Stdout(logging.StreamHandler):
    """A handler writing to whatever ``sys.stdout`` is when a line is logged (a notebook's
    cell, a test's capture), flushed at once so that progress shows while work goes on."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def show_progress() -> None:
    """Show the ``capstone`` loggers' progress lines (INFO and above) on standard output.
    Calling it again changes nothing."""
    logger = logging.getLogger("capstone")
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, _Stdout) for h in logger.handlers):
        handler = _Stdout()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
