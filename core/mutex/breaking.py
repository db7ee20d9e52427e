"""Breaking a mutex record by hand: for stale, unreadable and foreign-host holders.

The engine clears a record of a provably dead local holder by itself when the next job
takes the mutex. A record from another host is never cleared automatically (its owner
may be alive); an administrator who knows it is gone breaks it here. A record whose
owner is alive on this host is never broken: stop that job instead.
"""

from __future__ import annotations

import filelock

from ..identity import Liveness
from ..remedies import Remedy, with_fix
from .errors import BreakRefused
from .lockdir import LockDirectory, mutex_name
from .arrivals import clear_dead_waiters
from .records import MalformedRecord, MutexRecord, NotARecordFile, read_record, remove_record
from ..units import counted


def break_record(lockdir: LockDirectory, store_type: str, expected: MutexRecord | None = None) -> str:
    """Break the holder record (see ``_break_holder``) and clear the records of waiters that are not waiting."""
    said = _break_holder(lockdir, store_type, expected)
    cleared = clear_dead_waiters(lockdir, store_type)
    if cleared:
        said += f"; cleared {counted(cleared, 'record')} of waiters that were not waiting (ended, or forged)"
    return said


def _break_holder(lockdir: LockDirectory, store_type: str, expected: MutexRecord | None) -> str:
    """Remove the holder record of ``store_type``; returns a sentence saying what was done.

    ``expected`` is the record that was shown to the administrator: if the record has
    changed since, nothing is removed (BreakRefused), so a new holder is never broken
    by a confirmation given for an old one.
    """
    name = mutex_name(store_type)
    path = lockdir.holder_path(store_type)
    try:
        record = read_record(path)
    except MalformedRecord as error:
        try:
            remove_record(path)
        except NotARecordFile:
            raise BreakRefused(f"{path} is a folder, not a holder record: someone made it there — look at it and "
                               f"remove it yourself (rm -r {path})") from None
        return f"removed the unreadable record of {name} ({error.reason})"
    if record is None:
        return f"{name} has no holder record; nothing to break"
    if expected is not None and not record.same_owner(expected):
        raise with_fix(BreakRefused(f"the holder of {name} changed while you were asked"),
                           Remedy.LOOK_AT_LOCKS_AGAIN)
    state = record.liveness()
    if state is Liveness.ALIVE:
        raise BreakRefused(
            f"{name} is held by {record.describe()}, a live process on this host; "
            f"stop that job (or kill pid {record.pid}) instead of breaking its mutex"
        )
    if state is Liveness.DEAD:
        # Make sure no process holds the OS lock before removing the record under it.
        probe = filelock.FileLock(lockdir.lock_path(store_type), thread_local=True, preserve_lock_file=True,
                                  mode=lockdir.file_mode)
        try:
            probe.acquire(timeout=0)
        except filelock.Timeout:
            raise with_fix(BreakRefused(f"{name} is being taken by another job right now"),
                           Remedy.LOOK_AT_LOCKS_AGAIN) from None
        try:
            remove_record(path)
        finally:
            probe.release()
        return f"cleared the stale record of {name}: {record.describe()} (pid {record.pid} has ended)"
    remove_record(path)
    return f"broke the record of {name} held from host {record.host}: {record.describe()}"
