"""Progress lines: logged by the library, shown as plain lines by the CLI and the notebooks."""

from __future__ import annotations

import logging

from capstone.progress import show_progress


def test_progress_lines_reach_whatever_stdout_is_then_and_only_once(capsys) -> None:
    show_progress()
    show_progress()  # a second call adds no second handler
    logging.getLogger("capstone.pipeline.runner").info("[1/6] download: running")
    logging.getLogger("capstone.model.training").debug("not shown")
    assert capsys.readouterr().out == "[1/6] download: running\n"
