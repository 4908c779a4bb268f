"""The app's annotation jobs on a Dask cluster, for a team that outgrows one machine
(``capstone app --scheduler tcp://HOST:8786``, the engine ``capstone annotate --scheduler``
uses).

In the app's server, a :class:`Dispatcher` claims queued jobs while the cluster has a free
thread and hands each to it as a task (:func:`run_on_cluster`), then leaves it there: the task
renews its job's lease as it runs and stores the results itself, so a job finishes even if the
app stops meanwhile. The database records every job's state. A task whose worker vanished is
run again by Dask, or its lapsed lease queues the job again (:func:`capstone.app.jobs.recover`,
which the dispatcher runs every minute); a task that finds its job no longer its own does
nothing, so none runs twice to completion.

The workers need the package, the database's URL (it travels with each task) and the app's
folder at the same path (a shared file system): media are read and results written there.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from capstone.app.database import open_database
from capstone.app.jobs import SWEEP_EVERY_S, claim, recover, run_guarded
from capstone.app.settings import Settings
from capstone.errors import CapstoneError

log = logging.getLogger(__name__)
IDLE_S = 1.0  # how often the dispatcher looks for queued jobs


def run_on_cluster(url: str, data: str, job_id: int, owner: str) -> None:
    """A Dask task: run job ``job_id``, claimed as ``owner``, on the cluster's worker."""
    engine = open_database(url)
    try:
        run_guarded(engine, job_id, Path(data), None, owner)
    finally:
        engine.dispose()


class Dispatcher:
    """Hands queued jobs to a Dask cluster, never more at once than it has threads."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="capstone-dispatcher", daemon=True)

    @classmethod
    def start(cls, settings: Settings, timeout_s: float = 10.0) -> Dispatcher:
        """Connect to the scheduler of ``settings`` and start dispatching.

        Raises
        ------
        CapstoneError
            If the scheduler does not answer within ``timeout_s``.
        """
        from dask.distributed import Client

        try:
            client = Client(settings.scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError) as err:
            raise CapstoneError(
                f"the Dask scheduler at {settings.scheduler} does not answer ({err}); start it "
                "(dask scheduler, then dask worker on each machine) or give another address"
            ) from err
        dispatcher = cls(client, settings)
        dispatcher._thread.start()
        return dispatcher

    def stop(self) -> None:
        """Stop handing out jobs; those on the cluster go on to their end."""
        self._stop.set()
        self._thread.join(timeout=30)
        self.client.close()

    def _loop(self) -> None:
        from dask.distributed import fire_and_forget

        engine = open_database(self.settings.database_url)
        handed: list[Any] = []
        recovered = 0.0
        while not self._stop.wait(IDLE_S):
            try:
                if time.monotonic() - recovered > SWEEP_EVERY_S:
                    recover(engine)
                    recovered = time.monotonic()
                handed = [f for f in handed if not f.done()]
                threads = sum(self.client.nthreads().values())
                while len(handed) < threads and not self._stop.is_set():
                    owner = f"dask:{self.settings.scheduler}:{uuid.uuid4().hex[:12]}"
                    job = claim(engine, owner)
                    if job is None:
                        break
                    future = self.client.submit(
                        run_on_cluster,
                        self.settings.database_url,
                        str(self.settings.data),
                        job.id,
                        owner,
                        key=f"capstone-job-{job.id}-{owner[-12:]}",
                        pure=False,
                    )
                    fire_and_forget(future)
                    handed.append(future)
            except Exception:  # the scheduler or the database hiccups: try again
                log.warning("could not hand out jobs", exc_info=True)
        engine.dispose()
