"""An annotation worker, as its own program: ``python -m capstone.app.worker URL FOLDER
[PARENT]`` (``PARENT``: the pid of the app that started it; default, this process's parent).

Started by the app (:func:`capstone.app.jobs.start_workers`); it runs the queued jobs until the
app that started it stops.
"""

from __future__ import annotations

import os
import sys

from capstone.app.jobs import work_for
from capstone.progress import show_progress

if __name__ == "__main__":
    show_progress()
    parent = int(sys.argv[3]) if len(sys.argv) > 3 else os.getppid()
    work_for(sys.argv[1], sys.argv[2], parent=parent)
