"""Running several jobs at the same time, one thread each (what ``strongroom backup A B`` does)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from .job import Job
from ..job_state import JobState

_POLL = 0.2


def run_simultaneously(jobs: Sequence[Job], *, timeout: float | None = None,
                       cancel: threading.Event | None = None) -> list[JobState]:
    """Start every job in its own thread and wait for all of them.

    A KeyboardInterrupt, ``timeout`` passing or ``cancel`` being set cancels every job and
    still waits for them to end cleanly, so no partial set and no held mutex is left behind.
    """
    threads = [threading.Thread(target=job.run, name=f"job {job.id}", daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for thread in threads:
            while thread.is_alive():
                if cancel is not None and cancel.is_set():
                    for job in jobs:
                        job.cancel()
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError("jobs did not finish in time")
                thread.join(_POLL)
    except (KeyboardInterrupt, TimeoutError):
        for job in jobs:
            job.cancel()
        for thread in threads:
            thread.join(60)
        raise
    return [job.state for job in jobs]
