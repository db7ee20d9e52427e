"""Who holds and who waits for each store-type mutex, seen without taking any mutex.

A snapshot only reads the lock directory: the holder record and the waiter records of
every known store type. It is cheap enough to poll several times a second, and it
never raises on garbage: an unreadable holder record shows as state ``unknown`` with
the reason, an unreadable waiter record is left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..identity import Liveness
from ..remedies import Fix, Remedy
from .arrivals import read_waiters
from .lockdir import LockDirectory, mutex_name
from .records import MalformedRecord, MutexRecord, read_record


class MutexState(StrEnum):
    """What a mutex is doing, as the lock panel, `strongroom locks` and its JSON say it."""

    FREE = "free"
    HELD = "held"
    STALE = "stale"  # its holder is provably dead
    UNKNOWN = "unknown"  # its holder record cannot be read


@dataclass(frozen=True)
class MutexStatus:
    """The state of one mutex: ``free``, ``held``, ``stale`` (its holder is provably dead)
    or ``unknown`` (its record is unreadable); ``detail`` says more in words, and ``fix`` what the user
    can do about it, for each front end to word (core/remedies.py)."""

    name: str
    store_type: str
    state: MutexState
    holder: MutexRecord | None
    waiters: tuple[MutexRecord, ...]
    detail: str = ""
    foreign: bool = False
    fix: Fix | None = None

    def public_dict(self) -> dict[str, object]:
        """The shape `strongroom locks --json` prints."""
        return {
            "name": self.name,
            "store_type": self.store_type,
            "state": self.state.value,
            "holder": self.holder.public_dict() if self.holder else None,
            "waiters": [waiter.public_dict() for waiter in self.waiters],
        }


def mutex_status(lockdir: LockDirectory, store_type: str) -> MutexStatus:
    """The status of one store type's mutex."""
    name = mutex_name(store_type)
    waiters = tuple(read_waiters(lockdir, store_type))
    try:
        holder = read_record(lockdir.holder_path(store_type))
    except MalformedRecord as error:
        return MutexStatus(name, store_type, MutexState.UNKNOWN, None, waiters,
                           f"{error}; the next job to take this mutex replaces it",
                           fix=Fix(Remedy.CLEAR_LOCK_RECORD, {"type": store_type}))
    if holder is None:
        return MutexStatus(name, store_type, MutexState.FREE, None, waiters)
    state = holder.liveness()
    if state is Liveness.DEAD:
        return MutexStatus(name, store_type, MutexState.STALE, holder, waiters,
                           f"pid {holder.pid} on {holder.host} has ended without releasing; "
                           "the next job to take this mutex clears the record")
    if state is Liveness.FOREIGN:
        age = max(0.0, time.time() - holder.heartbeat)
        return MutexStatus(name, store_type, MutexState.HELD, holder, waiters,
                           f"held from host {holder.host}, which cannot be checked from here "
                           f"(last heartbeat {age:.0f} s ago)", foreign=True,
                           fix=Fix(Remedy.BREAK_LOCK, {"type": store_type}))
    return MutexStatus(name, store_type, MutexState.HELD, holder, waiters)


def snapshot(lockdir: LockDirectory, store_types: Iterable[str] = ()) -> list[MutexStatus]:
    """The status of the given store types and of every type with files in the lock directory."""
    names = set(store_types) | lockdir.store_types_on_disk()
    return [mutex_status(lockdir, store_type) for store_type in sorted(names)]
