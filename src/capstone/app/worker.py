"""An annotation worker, as its own program: ``python -m capstone.app.worker FOLDER [PARENT]``
(``PARENT``: the pid of the app that started it; default, this process's parent). The
database is the folder's (:mod:`capstone.app.settings`: ``CAPSTONE_DATABASE_URL``, which the
app sets, else ``capstone.toml``, else SQLite in the folder).

Started by the app (:func:`capstone.app.jobs.start_workers`); it runs the queued jobs until the
app that started it stops, or a TERM (its job then goes back to the queue).
"""

from __future__ import annotations

import os
import sys

from capstone.app.jobs import work_for
from capstone.app.settings import read_settings
from capstone.progress import show_progress

if __name__ == "__main__":
    show_progress()
    folder = sys.argv[1]
    parent = int(sys.argv[2]) if len(sys.argv) > 2 else os.getppid()
    work_for(read_settings(folder).database_url, folder, parent=parent)
