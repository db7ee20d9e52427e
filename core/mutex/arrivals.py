"""Arrival order of the waiters of one store-type mutex.

Within a process, waiters are served strictly in arrival order: each gets a ticket, and
only the earliest ticket may try the OS lock. Across processes, each waiter that has to
wait publishes a record named by its ticket in the mutex's ``waiting`` directory; a
waiter defers to every earlier ticket whose owner is alive, so processes, too, take
turns in arrival order and none starves. Records of dead waiters are removed by whoever
finds them; a waiter on another host counts only while its heartbeat is fresh. A waiter
on this host counts only while its process holds the lock on its record
(waiter_files.py), so a forged record blocks nobody.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..identity import Liveness
from .lockdir import LockDirectory
from .records import MalformedRecord, MutexRecord, read_record, remove_record
from .waiter_files import waiter_is_there, write_locked

WAITER_FILE = re.compile(r"(\d{20})-(\d+)-(\d+)\.json")
FOREIGN_WAITER_GRACE = 30.0  # seconds without heartbeat after which a remote waiter is passed over
GARBAGE_GRACE = 10.0  # seconds a malformed waiter file may stay before it is pruned


@dataclass(eq=False)
class Waiter:
    """One waiting thread: its ticket, record and (once published) record file."""

    ticket: int
    record: MutexRecord
    mode: int
    path: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    fd: int | None = None  # the published record, locked while this waiter waits

    def beat(self, now: float) -> None:
        """Refresh the published record's heartbeat (no-op once it has left)."""
        with self.lock:
            if self.path is not None:
                self.record = self.record.beating(now)
                self.fd = write_locked(self.path, self.record, self.mode, self.fd)


class ArrivalQueue:
    """The in-process queue of one mutex plus its view of other processes' waiters.

    Callers hold the mutex's condition around ``join``, ``leave`` and ``first_here``.
    """

    _last_ticket = 0
    _ticket_lock = threading.Lock()

    def __init__(self, lockdir: LockDirectory, store_type: str) -> None:
        self._lockdir = lockdir
        self._store_type = store_type
        self._dir = lockdir.waiting_dir(store_type)
        self._here: dict[int, Waiter] = {}
        self._cache: dict[str, tuple[int, MutexRecord | None]] = {}

    @classmethod
    def _next_ticket(cls) -> int:
        # Wall-clock nanoseconds so tickets compare across processes; never repeats here.
        with cls._ticket_lock:
            cls._last_ticket = max(time.time_ns(), cls._last_ticket + 1)
            return cls._last_ticket

    def join(self, fields: dict) -> Waiter:
        """Queue a new waiter whose record has ``fields`` and a fresh ticket."""
        ticket = self._next_ticket()
        waiter = Waiter(ticket, MutexRecord(**fields, ticket=ticket), self._lockdir.file_mode)
        self._here[ticket] = waiter
        return waiter

    def leave(self, waiter: Waiter) -> None:
        self._here.pop(waiter.ticket, None)
        with waiter.lock:
            if waiter.path is not None:
                remove_record(waiter.path)
                waiter.path = None
            if waiter.fd is not None:
                os.close(waiter.fd)
                waiter.fd = None

    def first_here(self, waiter: Waiter) -> bool:
        return min(self._here) == waiter.ticket

    def publish(self, waiter: Waiter) -> None:
        """Make the waiter visible to other processes (once)."""
        with waiter.lock:
            if waiter.path is not None:
                return
            directory = self._lockdir.ensure_waiting_dir(self._store_type)
            path = directory / f"{waiter.ticket:020d}-{waiter.record.pid}-{waiter.record.thread_id}.json"
            waiter.fd = write_locked(path, waiter.record, self._lockdir.file_mode, None)
            waiter.path = path

    def earlier_elsewhere(self, ticket: int) -> MutexRecord | None:
        """The earliest live waiter of another process that arrived before ``ticket``."""
        names = _listing(self._dir)
        for gone in self._cache.keys() - set(names):
            del self._cache[gone]
        me = os.getpid()
        now = time.time()
        for name in names:
            match = WAITER_FILE.fullmatch(name)
            if match is None:
                continue
            if int(match.group(1)) >= ticket:
                break
            if int(match.group(2)) == me:
                continue  # this process's waiters are ordered in memory
            record = self._read(name)
            if record is None:
                continue
            state = counts(record, self._dir / name, now)
            if state is Liveness.DEAD:
                _discard(self._dir / name)
            elif state is not None:
                return record
        return None

    def _read(self, name: str) -> MutexRecord | None:
        path = self._dir / name
        try:
            mtime = os.lstat(path).st_mtime_ns
        except OSError:
            return None
        cached = self._cache.get(name)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            record = read_record(path)
        except MalformedRecord:
            if time.time() - mtime / 1e9 > GARBAGE_GRACE:
                _discard(path)
            record = None
        self._cache[name] = (mtime, record)
        return record


def counts(record: MutexRecord, path: Path, now: float) -> Liveness | None:
    """Whether a waiter record stands for a waiter: its liveness when it does; DEAD for one to remove (its process
    ended, or nobody holds the record's lock); None for one to pass over (a silent remote waiter)."""
    state = record.liveness()
    if state is Liveness.ALIVE:
        return state if waiter_is_there(path) else Liveness.DEAD  # forged, or its waiter is gone
    if state is Liveness.FOREIGN:
        return state if now - record.heartbeat < FOREIGN_WAITER_GRACE else None
    return Liveness.DEAD if state is Liveness.DEAD else None


def _listing(directory: Path) -> list[str]:
    """The waiting folder's record names, sorted; none when it is missing or not a real folder (a planted link)."""
    try:
        if not stat.S_ISDIR(os.lstat(directory).st_mode):
            return []
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _discard(path: Path) -> None:
    try:
        remove_record(path)
    except OSError:
        pass  # not ours to remove (a folder, another user's in a sticky folder): passed over all the same


def clear_dead_waiters(lockdir: LockDirectory, store_type: str) -> int:
    """Remove the records of waiters that are not waiting (ended or forged); how many went."""
    directory = lockdir.waiting_dir(store_type)
    now = time.time()
    removed = 0
    for name in _listing(directory):
        if WAITER_FILE.fullmatch(name) is None:
            continue
        try:
            record = read_record(directory / name)
        except MalformedRecord:
            record = None
        if record is None or counts(record, directory / name, now) is Liveness.DEAD:
            _discard(directory / name)
            removed += not os.path.lexists(directory / name)
    return removed


def read_waiters(lockdir: LockDirectory, store_type: str) -> list[MutexRecord]:
    """Every live waiter of a mutex, in arrival order, as another process sees them."""
    directory = lockdir.waiting_dir(store_type)
    names = _listing(directory)
    now = time.time()
    waiters = []
    for name in names:
        if WAITER_FILE.fullmatch(name) is None:
            continue
        try:
            record = read_record(directory / name)
        except MalformedRecord:
            continue
        if record is None:
            continue
        if counts(record, directory / name, now) in (Liveness.ALIVE, Liveness.FOREIGN):
            waiters.append(record)
    return waiters
