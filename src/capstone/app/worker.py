"""An annotation worker, as its own program: ``python -m capstone.app.worker URL FOLDER``.

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
    work_for(sys.argv[1], sys.argv[2], parent=os.getppid())
