"""The mutex of one store type, shared by the threads of this process and by other processes.

Two layers make one mutex:

- in this process, a condition variable and an arrival queue let exactly one thread at
  a time (the earliest waiter) go for the OS lock, so threads are served in arrival
  order and a handoff between threads needs no polling;
- across processes, filelock's OS-level lock on ``strongroom.<type>.lock`` (flock on
  Unix) excludes every other process. The OS drops it when its holder dies, so a
  killed holder can never leave the mutex stuck.

Right after taking the OS lock the new holder reads the previous owner record. If one
is there, its owner died while holding the mutex: the hold reports it as *abandoned*
(as Windows reports an abandoned mutex), so a job can warn that the store may be
half-written. A record written on another host is never taken over: such a holder
cannot be checked from here, and only an explicit break clears it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import filelock

from ..identity import Liveness, this_process
from ..invalid_value import InvalidValue
from ..remedies import Remedy, with_fix
from .arrivals import ArrivalQueue, Waiter
from .errors import AlreadyHeldError, MutexCancelled, MutexError, MutexTimeout, NotOwnerError
from .heartbeat import HEARTBEAT
from .lockdir import LockDirectory, mutex_name
from .records import MAX_TEXT, OPERATIONS, MalformedRecord, MutexRecord, read_record, remove_record, write_record

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.005  # between attempts at a contended OS lock (filelock polls)
RECHECK_INTERVAL = 0.02  # between looks at other processes' waiters
ATTEMPT_SLICE = 0.1  # longest single filelock wait before the queue is looked at again

CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class MutexOwner:
    """What a job tells the engine about itself when it asks for a mutex.

    Checked here, so that no record is ever written that a reader would reject.
    """

    job_id: str
    operation: str
    store: str

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise InvalidValue(f"unknown operation {self.operation!r}; use one of: {', '.join(OPERATIONS)}")
        for name in ("job_id", "store"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
                raise InvalidValue(f"{name} must be a non-empty string of at most {MAX_TEXT} characters, not {value!r}")


class Hold:
    """A held mutex. Release it from the thread that took it (or leave the ``with``)."""

    def __init__(self, mutex: StoreTypeMutex, record: MutexRecord, abandoned: MutexRecord | None,
                 notes: tuple[str, ...]) -> None:
        self.mutex = mutex
        self.record = record
        self.abandoned = abandoned
        self.notes = notes
        self.thread_id = record.thread_id
        self.thread = threading.current_thread()
        self.released = False
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        state = "released" if self.released else "held"
        return f"<Hold {self.mutex.name} by job {self.record.job_id} ({state})>"

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        self.mutex.release(self)

    def beat(self, now: float) -> None:
        """Refresh the heartbeat of the owner record while held (called by the heartbeat thread)."""
        with self.lock:
            if self.released:
                return
            path = self.mutex.lockdir.holder_path(self.mutex.store_type)
            try:
                current = read_record(path)
            except MalformedRecord:
                return
            if current is not None and current.same_owner(self.record):
                self.record = self.record.beating(now)
                write_record(path, self.record, self.mutex.lockdir.file_mode)


class _BlockedByForeignHolder(Exception):
    """Internal: the OS lock was free, but a holder on another host still has a record."""


def as_cancel_check(cancel: threading.Event | CancelCheck | None) -> CancelCheck:
    """Accept an Event, a callable returning True to cancel, or None (never cancelled)."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise TypeError(f"cancel must be a threading.Event, a callable or None, not {type(cancel).__name__}")


class StoreTypeMutex:
    """The mutex ``strongroom.<store_type>`` in one lock directory, for this process."""

    def __init__(self, lockdir: LockDirectory, store_type: str, on_change: Callable[[str], None]) -> None:
        self.name = mutex_name(store_type)
        self.store_type = store_type
        self.lockdir = lockdir
        self._on_change = on_change
        self._cond = threading.Condition()
        self._queue = ArrivalQueue(lockdir, store_type)
        self._hold: Hold | None = None
        self._holder_path = str(lockdir.holder_path(store_type))
        # Not thread-local: the in-process queue lets one thread at a time near the OS lock,
        # owner-only release is checked here, and a hold left by a thread that ended can
        # then still be given back by another thread.
        self._file_lock = filelock.FileLock(
            lockdir.lock_path(store_type),
            thread_local=False,
            preserve_lock_file=True,
            mode=lockdir.file_mode,
        )

    # -- acquire ------------------------------------------------------------------------------

    def acquire(self, owner: MutexOwner, *, timeout: float,
                cancel: threading.Event | CancelCheck | None = None) -> Hold:
        """Wait at most ``timeout`` seconds (0 = one try) for the mutex, in arrival order.

        Raises MutexTimeout (naming the holder), MutexCancelled, AlreadyHeldError, or
        MutexError when the owner record cannot be written.
        """
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or math.isnan(timeout) or timeout < 0:
            raise InvalidValue(f"timeout must be a number of seconds >= 0, not {timeout!r}")
        cancelled = as_cancel_check(cancel)
        deadline = time.monotonic() + timeout
        me = threading.current_thread()
        now = time.time()
        identity = this_process()
        fields = dict(
            store_type=self.store_type, job_id=owner.job_id, operation=owner.operation, store=owner.store,
            host=identity.host, pid=identity.pid, process_start=identity.start,
            pid_namespace=identity.pid_namespace, thread=me.name[:MAX_TEXT] or "?", thread_id=me.ident or 0,
            since=now, heartbeat=now,
        )
        with self._cond:
            if self._hold is not None and self._hold.thread_id == me.ident:
                raise AlreadyHeldError(
                    f"thread {me.name} already holds mutex {self.name} (job {self._hold.record.job_id}); "
                    "release it before asking again"
                )
            waiter = self._queue.join(fields)
        try:
            hold = self._wait_for_turn_and_lock(waiter, deadline, timeout, cancelled)
        finally:
            with self._cond:
                self._queue.leave(waiter)
                self._cond.notify_all()
            HEARTBEAT.discard(waiter)
        self._on_change(self.store_type)
        return hold

    def _wait_for_turn_and_lock(self, waiter: Waiter, deadline: float, timeout: float,
                                cancelled: CancelCheck) -> Hold:
        while True:
            self._wait_first_here(waiter, deadline, timeout, cancelled)
            if self._queue.earlier_elsewhere(waiter.ticket) is None:
                try:
                    hold = self._try_os_lock(waiter, deadline, timeout, cancelled)
                except _BlockedByForeignHolder:
                    pass
                else:
                    if hold is not None:
                        return hold
                    self._publish(waiter)  # contended: become visible, then wait in slices
                    continue
            self._publish(waiter)
            self._pause(deadline, timeout, cancelled)

    def _wait_first_here(self, waiter: Waiter, deadline: float, timeout: float, cancelled: CancelCheck) -> None:
        """Block until no thread of this process holds the mutex or arrived earlier."""
        with self._cond:
            while self._hold is not None or not self._queue.first_here(waiter):
                if self._hold is not None and not self._hold.thread.is_alive():
                    self._free_hold_of_ended_thread(self._hold)
                    continue
                self._publish(waiter)
                self._check_wait(deadline, timeout, cancelled)
                self._cond.wait(min(RECHECK_INTERVAL, max(0.0, deadline - time.monotonic())))

    def _pause(self, deadline: float, timeout: float, cancelled: CancelCheck) -> None:
        self._check_wait(deadline, timeout, cancelled)
        with self._cond:
            self._cond.wait(min(RECHECK_INTERVAL, max(0.0, deadline - time.monotonic())))
        self._check_wait(deadline, timeout, cancelled)

    def _publish(self, waiter: Waiter) -> None:
        if waiter.path is None:
            self._queue.publish(waiter)
            HEARTBEAT.add(waiter)
            self._on_change(self.store_type)

    def _check_wait(self, deadline: float, timeout: float, cancelled: CancelCheck) -> None:
        if cancelled():
            raise MutexCancelled(self.name)
        if time.monotonic() >= deadline:
            raise self._timeout_error(timeout)

    def _try_os_lock(self, waiter: Waiter, deadline: float, timeout: float, cancelled: CancelCheck) -> Hold | None:
        """One bounded attempt at the OS lock; the new Hold, or None to look at the queue again."""
        first_try = waiter.path is None  # nobody was waiting: do not publish for an uncontended take
        remaining = max(0.0, deadline - time.monotonic())
        try:
            self._file_lock.acquire(
                timeout=0 if first_try else min(remaining, ATTEMPT_SLICE),
                poll_interval=POLL_INTERVAL,
                cancel_check=cancelled,
            )
        except filelock.Timeout:
            self._check_wait(deadline, timeout, cancelled)
            return None
        except OSError as error:
            raise MutexError(
                f"cannot lock {self.lockdir.lock_path(self.store_type)} ({error.strerror}); "
                "check that the lock directory is writable and on a local file system"
            ) from None
        try:
            return self._take_over(waiter)
        except BaseException:
            self._file_lock.release()
            raise

    def _take_over(self, waiter: Waiter) -> Hold:
        """With the OS lock held: judge the previous record, write ours, become the holder."""
        path = self._holder_path
        abandoned = None
        notes: list[str] = []
        try:
            previous = read_record(path)
        except MalformedRecord as error:
            previous = None
            notes.append(f"replaced an unreadable owner record ({error.reason})")
            log.warning("mutex %s: %s", self.name, notes[-1])
        if previous is not None:
            state = previous.liveness()
            if state is Liveness.FOREIGN:
                raise _BlockedByForeignHolder()
            abandoned = previous
            if state is Liveness.DEAD:
                why = "its process has died"
            elif previous.pid == this_process().pid:
                why = f"its thread {previous.thread} ended without releasing it"
            else:
                why = "its process no longer held the lock"
            notes.append(f"mutex {self.name} was abandoned by {previous.describe()}: {why}")
            log.warning("%s", notes[-1])
        record = waiter.record
        if waiter.path is not None:  # it waited: it holds from now on
            now = time.time()
            record = replace(record, since=now, heartbeat=now)
        try:
            write_record(path, record, self.lockdir.file_mode)
        except OSError as error:
            raise MutexError(f"cannot write the owner record {path} ({error.strerror})") from None
        hold = Hold(self, record, abandoned, tuple(notes))
        with self._cond:
            self._hold = hold
        HEARTBEAT.add(hold)
        return hold

    def _timeout_error(self, timeout: float) -> MutexTimeout:
        path = self.lockdir.holder_path(self.store_type)
        try:
            holder = read_record(path)
        except MalformedRecord as error:
            return MutexTimeout(self.name, timeout, None, f"held by an unknown owner ({error.reason})")
        if holder is not None:
            if holder.liveness() is Liveness.FOREIGN:
                return with_fix(MutexTimeout(self.name, timeout, holder, f"held by {holder.describe()} -- a holder on "
                                             "another host is never broken automatically"),
                                Remedy.BREAK_LOCK, type=self.store_type)
            return MutexTimeout(self.name, timeout, holder, f"held by {holder.describe()}")
        earlier = self._queue.earlier_elsewhere(2**63)
        if earlier is not None:
            return MutexTimeout(self.name, timeout, None, f"queued behind {earlier.describe()}")
        return MutexTimeout(self.name, timeout, None,
                            f"held by a process that left no owner record (lock file {self.lockdir.lock_path(self.store_type)})")

    def _free_hold_of_ended_thread(self, hold: Hold) -> None:
        """A thread ended while holding (it did not use ``with``): give the OS lock back.

        Its record stays, so the next holder is told whose hold it takes over. Called
        with the condition held.
        """
        with hold.lock:
            if not hold.released:
                hold.released = True
                self._file_lock.release()  # not thread-local: any thread of this process may
                log.warning("thread %s ended while holding mutex %s for job %s",
                            hold.record.thread, self.name, hold.record.job_id)
        HEARTBEAT.discard(hold)
        self._hold = None

    # -- release ------------------------------------------------------------------------------

    def release(self, hold: Hold) -> None:
        """Release ``hold``; only the thread that acquired it may, and only once."""
        me = threading.current_thread()
        if hold.mutex is not self:
            raise NotOwnerError(f"{hold!r} does not belong to mutex {self.name}")
        if me.ident != hold.thread_id:
            raise NotOwnerError(
                f"thread {me.name} cannot release mutex {self.name}: it is held by thread "
                f"{hold.record.thread} for job {hold.record.job_id}"
            )
        with hold.lock:
            if hold.released:
                raise NotOwnerError(f"mutex {self.name} was already released by job {hold.record.job_id}")
            hold.released = True
            try:
                # Only a holder of the OS lock writes this record, so it is ours (or was broken).
                # It goes before the OS lock does, so no successor takes it for abandoned.
                remove_record(self._holder_path)
            finally:
                self._file_lock.release()
        HEARTBEAT.discard(hold)
        with self._cond:
            if self._hold is hold:
                self._hold = None
            self._cond.notify_all()
        self._on_change(self.store_type)
