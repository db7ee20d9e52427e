"""A job: one backup, restore or verify, with an id, a state machine, progress and cancel.

A job runs in whatever thread calls ``run`` (a QThread worker in the console, a plain
thread in the CLI). It reports to listeners from that thread; it holds the mutex of its
store's type only inside ``hold_store``; and whatever happens, it ends in a terminal
state with a one-line error, and leaves its history row in the catalog.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, ClassVar

from ..catalog import CatalogError, JobRecord, now_text
from ..expected_errors import EXPECTED_ERRORS, os_error_text
from ..identity import this_process
from ..mutex import Hold, MutexCancelled, MutexOwner, mutex_name
from ..remedies import Fix, fix_of
from .progress import Progress, ProgressMeter
from ..job_state import JobState, check_transition

if TYPE_CHECKING:
    from .services import JobServices

log = logging.getLogger(__name__)

DEFAULT_MUTEX_TIMEOUT = 3600.0


class JobCancelled(Exception):
    """Raised inside a job when it has been asked to stop."""


class JobListener:
    """Override what you need; called from the job's thread."""

    def job_state(self, job: Job, state: JobState) -> None: ...

    def job_progress(self, job: Job, progress: Progress) -> None: ...

    def job_log(self, job: Job, line: str) -> None: ...


class JobCallbacks:
    """Progress and cancel, bound to a job: what drivers and the restore code call back into."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def advance(self, size: int) -> None:
        self.job.check_cancelled()
        self.job.meter.advance(size)

    def file_done(self, path: str, size: int = 0) -> None:
        """A file is done; ``size`` bytes of it were not yet counted with ``advance``."""
        self.job.check_cancelled()
        self.job.meter.advance(size, files=1, path=path)

    def check_cancelled(self) -> None:
        self.job.check_cancelled()


def new_id(prefix: str) -> str:
    return f"{prefix}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


class Job(ABC):
    operation: ClassVar[str]

    def __init__(self, engine: JobServices, store_name: str, store_type: str, *,
                 mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT, plan: str | None = None) -> None:
        self.engine = engine
        self.id = new_id(self.operation)
        self.store_name = store_name
        self.store_type = store_type
        self.mutex_timeout = mutex_timeout
        self.state = JobState.QUEUED
        self.warnings: list[str] = []
        self.log_lines: list[str] = []
        self.fix: Fix | None = None
        self.log_times: list[float] = []  # when each line was logged (the saved log is stamped with them)
        self.error: str | None = None
        self.set_id: str | None = None
        self.excluded: dict[str, list[int]] = {}  # rule -> [items, bytes] a backup left out
        self.progress = Progress()
        self.store_intervals: list[tuple[float, float]] = []  # (took, gave back) the mutex, time.time()
        self._cancel = threading.Event()
        self._listeners: list[JobListener] = []
        self._hold: Hold | None = None
        self.meter = ProgressMeter(self._progressed)
        me = this_process()
        self.record = JobRecord(self.id, self.operation, store_name, self.state.value, now_text(), host=me.host,
                                pid=me.pid, process_start=me.start, plan=plan)

    # -- listening and control ------------------------------------------------------------

    def add_listener(self, listener: JobListener) -> None:
        self._listeners.append(listener)

    def cancel(self) -> None:
        """Ask the job to stop at the next check (any thread)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled(f"job {self.id} was cancelled")

    @property
    def mutex_name(self) -> str:
        return mutex_name(self.store_type)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log(f"warning: {message}")

    def log(self, line: str, when: float | None = None) -> None:
        """Add a line to the log (``when``: the time it was logged, if not now)."""
        self.log_times.append(time.time() if when is None else when)
        self.log_lines.append(line)
        for listener in list(self._listeners):
            listener.job_log(self, line)

    def stamped_log(self) -> list[str]:
        """The log as it is saved and shown: each line after the local time it was logged at."""
        return [f"{log_stamp(when)}  {line}" for when, line in zip(self.log_times, self.log_lines)]

    # -- run in another process (job_process.py) -----------------------------------------

    MIRRORED: ClassVar[tuple[str, ...]] = ("warnings", "error", "fix", "set_id", "excluded", "progress",
                                          "store_intervals", "record")

    def __getstate__(self) -> dict:
        """What a job process needs to run this job: everything but this process's engine, listeners and flags."""
        state = self.__dict__.copy()
        for name in ("engine", "_listeners", "_cancel", "_hold", "meter"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.engine = None  # the job process gives it one of its own
        self._cancel = threading.Event()
        self._listeners = []
        self._hold = None
        self.meter = ProgressMeter(self._progressed)

    def outcome(self) -> dict:
        """What this job has found out so far, for the process that mirrors it."""
        return {name: getattr(self, name) for name in self.MIRRORED}

    def mirror(self, state: JobState | None, outcome: dict, progress: Progress | None = None) -> None:
        """Take on what the job process reported: its outcome, then its new state or progress (listeners hear it)."""
        self.__dict__.update(outcome)
        if progress is not None:
            self._progressed(progress)
        if state is not None and state != self.state:
            self._set_state(state)

    def _progressed(self, progress: Progress) -> None:
        self.progress = progress
        for listener in list(self._listeners):
            listener.job_progress(self, progress)

    def _set_state(self, state: JobState) -> None:
        check_transition(self.state, state)
        self.state = state
        self.record.state = state.value
        if state == JobState.RUNNING and self.record.started is None:
            self.record.started = now_text()
        for listener in list(self._listeners):
            listener.job_state(self, state)

    # -- running --------------------------------------------------------------------------

    def run(self) -> JobState:
        """Run to a terminal state; never raises for a job's own failure.

        The history row is first written here, in the job's own thread, so that creating a
        job (in the console's GUI thread) does no disk I/O.
        """
        try:
            self.engine.catalog.save_job(self.record)
            self.check_cancelled()
            self._execute()
            final = JobState.WARNINGS if self.warnings else JobState.SUCCEEDED
        except (JobCancelled, MutexCancelled):
            final, self.error = JobState.CANCELLED, "cancelled; nothing partial was kept"
        except EXPECTED_ERRORS as error:
            final, self.error = JobState.FAILED, str(error)
            self.fix = fix_of(error)  # what to do, for each front end to word (core/remedies.py)
        except OSError as error:
            final, self.error = JobState.FAILED, os_error_text(error)
        except Exception as error:  # a bug: still end the job cleanly, with the details in the log
            log.exception("job %s failed unexpectedly", self.id)
            final, self.error = JobState.FAILED, f"unexpected error: {error!r} (please report this)"
        finally:
            if self._hold is not None and not self._hold.released:
                self.release_store()
        return self._end(final)

    def fail_outside(self, message: str) -> JobState:
        """End the job as failed for a reason outside its run, with its history row: it never ran (a plan's
        "before" command failed) or the process running it died (job_process.py)."""
        self.error = message
        return self._end(JobState.FAILED)

    def _end(self, final: JobState) -> JobState:
        """Complete the history row and save it, then announce the end: whoever hears the final state
        (a view, the process mirroring a job process) finds the row whole, here and in the catalog."""
        if self.error:
            self.log(f"error: {self.error}")
        self.meter.finish()
        check_transition(self.state, final)
        self.record.state = final.value
        self.record.finished = now_text()
        self.record.warnings = list(self.warnings)
        self.record.log = self.stamped_log()
        self.record.holds = [[took, gave] for took, gave in self.store_intervals]
        self.record.error = self.error
        self.record.set_id = self.set_id
        self.record.excluded = dict(self.excluded)
        self.record.bytes, self.record.files = self.progress.bytes_done, self.progress.files_done
        try:
            self.engine.catalog.save_job(self.record)
        except CatalogError as error:
            self.log(f"warning: the job history could not be saved: {error}")
        self._set_state(final)
        return final

    def add_after_end(self, lines: list[str], warning: str | None = None) -> None:
        """Lines (and a warning) about an ended job, from what ran after it (a plan's "after" command)."""
        now = time.time()
        self.log_lines.extend(lines)
        self.log_times.extend([now] * len(lines))
        if warning is not None:
            self.warnings.append(warning)
            self.log_lines.append(f"warning: {warning}")
            self.log_times.append(now)
            if self.state == JobState.SUCCEEDED:
                self.state = JobState.WARNINGS  # both are ends: no listener waits for this move
        self.record.state = self.state.value
        self.record.warnings, self.record.log = list(self.warnings), self.stamped_log()
        try:
            self.engine.catalog.save_job(self.record)
        except CatalogError:
            pass  # the lines are still in this process's job, and in the agent's log

    @abstractmethod
    def _execute(self) -> None:
        """Do the work; raise to fail, call ``warn`` for what the administrator should know."""

    def _running(self) -> None:
        if self.state != JobState.RUNNING:
            self._set_state(JobState.RUNNING)
            self.engine.catalog.save_job(self.record)

    @contextmanager
    def hold_store(self) -> Iterator[Hold]:
        """Hold the mutex of the store's type inside the block (waiting visibly for it first)."""
        self._set_state(JobState.WAITING)
        self.log(f"waiting for the mutex {self.mutex_name}")
        self.engine.catalog.save_job(self.record)  # other consoles and `strongroom jobs` see it waiting
        owner = MutexOwner(self.id, self.operation, self.store_name)
        asked = time.monotonic()
        hold = self.engine.registry.acquire(self.store_type, owner, timeout=self.mutex_timeout, cancel=self._cancel)
        self._hold = hold
        self.log(f"acquired the mutex {self.mutex_name} after {time.monotonic() - asked:.1f} s")
        self.store_intervals.append((time.time(), 0.0))
        if hold.abandoned is not None:
            self.warn(f"the mutex {self.mutex_name} had been abandoned by {hold.abandoned.describe()}; "
                      "that job ended without finishing — check what it left behind")
        for note in hold.notes:
            self.log(note)
        self._running()
        try:
            yield hold
        finally:
            self.release_store()

    def release_store(self) -> None:
        """Give the mutex back as soon as the store is no longer touched (idempotent)."""
        hold = self._hold
        if hold is None or hold.released:
            return
        took, _ = self.store_intervals[-1]
        self.store_intervals[-1] = (took, time.time())  # read before releasing: the next holder may take it at once
        hold.release()
        self.log(f"released the mutex {self.mutex_name}")


def log_stamp(when: float) -> str:
    """A log line's time: local, to the millisecond (the job's date is in its record)."""
    return time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"
