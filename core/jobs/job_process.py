"""Running a job in a process of its own, mirrored onto the Job object of the process that started it.

The console runs its jobs this way. In its own process a job's Python work (walking a tree,
building the manifest, its garbage) takes turns with the window on one interpreter lock: with
four backups the window stood still for up to 235 ms. Here the job is pickled (without its
engine, listeners and flags, see ``Job.__getstate__``) into a new interpreter that builds
an engine of the same class on the same paths, lowers its own priority and runs it; every state, progress report
and log line comes back through a socket and is applied to the caller's Job, whose listeners
hear them as if the job ran in the caller's thread (the child is started by child_process.py).

A cancel goes down the connection. When the connection closes because the caller died, the child cancels
its job too: a job is never killed half-way on purpose, so it leaves no partial set and gives
its mutex back. A child that dies all the same (killed, out of memory) fails its job with a
message that says so; its flock went with it, and its lock record names a dead process.
"""

from __future__ import annotations

import subprocess
import threading
import time
from multiprocessing.connection import Connection, wait

from ..child_process import ChildError, start_child
from .job import Job, JobListener
from .progress import Progress
from ..job_state import JobState

JOB_NICENESS = 10  # how much lower than the window a job process runs (Unix nice increment)
CANCEL_GRACE = 60.0  # seconds a cancelled job process has to end before it is killed
_POLL = 0.1


class JobProcessError(Exception):
    """A job process could not be started; the caller may run the job in its own process."""


def run_in_process(job: Job) -> JobState:
    """Run ``job`` in a new process and wait for it (in the calling thread), mirroring it onto ``job``."""
    engine = job.engine
    # The engine's class goes by name (pickle), so that this package need not import the Engine that makes jobs.
    work = (job, type(engine), engine.paths, engine.settings, engine.registry.lockdir.path,
            engine.registry.lockdir.scope)
    try:
        process, connection = start_child(f"{__name__}:_child", work, niceness=JOB_NICENESS)
    except ChildError as error:
        raise JobProcessError(f"no process for job {job.id}: {error}") from error
    try:
        return _follow(job, process, connection)
    finally:
        connection.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _follow(job: Job, process: subprocess.Popen, connection: Connection) -> JobState:
    """Apply the child's reports to ``job`` until it ends; pass a cancel on; fail the job if the child dies."""
    cancel_sent: float | None = None
    while True:
        if cancel_sent is None and job.cancel_requested:
            cancel_sent = time.monotonic()
            _send(connection, ("cancel",))
        if cancel_sent is not None and time.monotonic() - cancel_sent > CANCEL_GRACE:
            process.kill()
            return _lost(job, process, f"it did not stop within {CANCEL_GRACE:.0f} s of being cancelled and was "
                                       "killed; a later backup of this store removes what it left")
        if wait([connection], _POLL):
            try:
                message = connection.recv()
            except (EOFError, OSError):
                return _lost(job, process, "")
            if message[0] == "done":  # the final state, which came before, carried the whole saved outcome
                return job.state
            _apply(job, message)
        elif process.poll() is not None:  # it ended, yet its socket is still open (held by a child of its own)
            return _lost(job, process, "")


def _apply(job: Job, message: tuple) -> None:
    kind = message[0]
    if kind == "log":
        _, line, when = message
        job.log(line, when)
    elif kind == "progress":
        job.mirror(None, {}, message[1])
    elif kind == "state":
        _, state, outcome, lines, times = message
        if lines is not None:  # the whole log, as the job saved it
            job.log_lines[:], job.log_times[:] = lines, times
        job.mirror(JobState(state), outcome)


def _lost(job: Job, process: subprocess.Popen, why: str) -> JobState:
    """The child ended before its job did: end the job here, failed, with its history row."""
    try:
        code = process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait(5)
    if not why:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        why = f"its process {how} before the job ended"
    if job.state.terminal:
        return job.state
    return job.fail_outside(f"the job stopped: {why}")


def _send(connection: Connection, message: tuple) -> None:
    try:
        connection.send(message)
    except (OSError, ValueError):
        pass  # the child is gone: the next read or poll says so


# -- the child -----------------------------------------------------------------------------------

class _Reporter(JobListener):
    """Sends the job's events to the parent, from whichever thread they happen in."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.lock = threading.Lock()

    def send(self, message: tuple) -> None:
        with self.lock:
            try:
                self.connection.send(message)
            except (OSError, ValueError):
                pass  # the parent is gone: the listener below cancels the job

    def job_state(self, job: Job, state: JobState) -> None:
        whole_log = (list(job.log_lines), list(job.log_times)) if state.terminal else (None, None)
        self.send(("state", state.value, job.outcome(), *whole_log))

    def job_progress(self, job: Job, progress: Progress) -> None:
        self.send(("progress", progress))

    def job_log(self, job: Job, line: str) -> None:
        self.send(("log", line, job.log_times[-1]))


def _listen_for_cancel(connection: Connection, job: Job) -> None:
    """Cancel the job when the parent asks, or when the parent is gone (the connection closed)."""
    try:
        while True:
            if connection.recv()[0] == "cancel":
                break
    except (EOFError, OSError):
        pass
    job.cancel()


def _child(connection: Connection, work: tuple) -> None:
    """The job process: build an engine like the caller's on its paths, run the job, report everything."""
    from ..mutex import LockDirectory, MutexRegistry

    job, engine_class, paths, settings, lock_path, lock_scope = work

    reporter = _Reporter(connection)
    try:
        job.engine = engine_class(paths, registry=MutexRegistry.for_directory(LockDirectory(lock_path, lock_scope)),
                                  settings=settings)
    except Exception as error:  # the catalog cannot be opened here: the parent ends the job with this
        reporter.send(("log", f"error: the job process could not open the catalog: {error}", time.time()))
        raise
    job.add_listener(reporter)
    threading.Thread(target=_listen_for_cancel, args=(connection, job), name="cancel listener", daemon=True).start()
    threading.current_thread().name = f"{job.operation} {job.store_name}"[:64]
    job.run()
    reporter.send(("done",))
