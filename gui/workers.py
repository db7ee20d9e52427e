"""QThread workers: each runs one core job and reports to the GUI only through Qt signals.

The job's listener methods run in the worker's thread; emitting a signal from there to
objects living in the GUI thread queues the call, so widgets are only ever touched by
the GUI thread, and the GUI thread never waits for a job (or for a mutex).
"""

from __future__ import annotations

import os
import sys
import threading

from PySide6.QtCore import QThread, Signal

from ..core.jobs import Job, JobState
from ..core.jobs.job import JobListener
from ..core.jobs.job_process import JOB_NICENESS, JobProcessError, run_in_process
from ..core.jobs.progress import Progress


class JobWorker(QThread):
    """Runs one job: in a process of its own (``isolated``, the console's way) or in this thread."""

    state_changed = Signal(str, str)  # job id, JobState value
    progressed = Signal(str, object)  # job id, Progress
    logged = Signal(str, str)  # job id, line

    def __init__(self, job: Job, parent=None, *, isolated: bool = True) -> None:
        super().__init__(parent)
        self.job = job
        self.isolated = isolated
        self.setObjectName(f"worker {job.id}")
        job.add_listener(_SignalBridge(self))

    def run(self) -> None:  # in the worker thread
        # Python sees a QThread as a "Dummy-N" thread; name it so lock records say whose it is.
        threading.current_thread().name = f"{self.job.operation} {self.job.store_name}"[:64]
        if self.isolated:
            try:
                run_in_process(self.job)  # this thread only applies what the job process reports
                return
            except JobProcessError as error:
                self.job.log(f"warning: {error}; the job runs inside the console instead")
        lower_this_threads_priority()
        self.job.run()  # ends in a terminal state whatever happens; QThread.finished follows

    def cancel(self) -> None:
        """Ask the job to stop; it ends on its own, cleanly, soon after (any thread)."""
        self.job.cancel()


def lower_this_threads_priority() -> None:
    """Run this thread (and the threads it starts: compression) below the GUI thread.

    On 2 cores, two backups keep every core busy; at equal priority the GUI thread waited
    up to 58 ms for a core (bench/gui_bench.py). Linux applies nice per thread and new
    threads inherit it. Elsewhere this does nothing; lowering priority is always allowed.
    """
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICENESS)
    except OSError:
        pass  # a sandbox may refuse; jobs then run at normal priority


class _SignalBridge(JobListener):
    """Turns a job's listener calls into the worker's signals."""

    def __init__(self, worker: JobWorker) -> None:
        self.worker = worker

    def job_state(self, job: Job, state: JobState) -> None:
        self.worker.state_changed.emit(job.id, state.value)

    def job_progress(self, job: Job, progress: Progress) -> None:
        self.worker.progressed.emit(job.id, progress)

    def job_log(self, job: Job, line: str) -> None:
        self.worker.logged.emit(job.id, line)
