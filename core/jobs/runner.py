"""Running several jobs at the same time, one thread each (what ``strongroom backup A B`` does)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from .job import Job
from .state import JobState


def run_simultaneously(jobs: Sequence[Job], *, timeout: float | None = None) -> list[JobState]:
    """Start every job in its own thread and wait for all of them.

    A KeyboardInterrupt (or ``timeout`` passing) cancels every job and still waits for
    them to end cleanly, so no partial set and no held mutex is left behind.
    """
    threads = [threading.Thread(target=job.run, name=f"job {job.id}", daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError("jobs did not finish in time")
    except (KeyboardInterrupt, TimeoutError):
        for job in jobs:
            job.cancel()
        for thread in threads:
            thread.join(60)
        raise
    return [job.state for job in jobs]
