"""Restoring several stores at once: which set each one gets, and where each one lands.

After losing a machine an administrator brings every store back as of one moment. For
each store this picks the newest set taken at or before that moment whose verify has not
failed (nor that of a set it stands on), passing over damaged ones and saying so. Under
another folder every store gets a folder of its own name, so two stores never land on
each other; a database store goes into its own database or into a new one named after the
point in time, beside it on the same server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..free_space import Room, room_at
from ..catalog import Catalog, SetRecord, Store
from ..store_types import StoreTypeError
from ..stores import driver_for
from ..stores.database_driver import DatabaseDriver
from ..units import human_bytes, human_time
from .plan import RestoreOptions, RestorePlan

_DATABASE_NAME_BYTES = 63  # PostgreSQL's limit; MariaDB allows 64 characters


@dataclass(frozen=True)
class StorePick:
    """The set chosen to restore one store (``record`` None: nothing restorable, ``problem`` says why)."""

    store: Store
    record: SetRecord | None
    passed_over: tuple[SetRecord, ...] = ()  # newer sets (within the moment) that failed their verify
    problem: str = ""

    @property
    def note(self) -> str:
        """Why the newest set was not taken, when it was not ("" when it was)."""
        if not self.passed_over or self.record is None:
            return ""
        newest = self.passed_over[0]
        others = len(self.passed_over) - 1
        also = f" (and {others} newer set{'s' if others > 1 else ''} after it)" if others else ""
        return (f"set {newest.id} of {human_time(newest.created)}{also} failed its last verify, or stands on a set "
                f"that did; restoring set {self.record.id} of {human_time(self.record.created)} instead")


def pick_sets(catalog: Catalog, stores: Iterable[Store], before: datetime | None = None) -> list[StorePick]:
    """For each store, the newest set taken at or before ``before`` (None: now) that is not damaged."""
    picks = []
    for store in stores:
        sets = [record for record in catalog.list_sets(store.name) if before is None or record.taken <= before]
        passed: list[SetRecord] = []
        chosen = None
        for record in reversed(sets):
            if catalog.damaged_in_chain(record) is None:
                chosen = record
                break
            passed.append(record)
        problem = ""
        if chosen is None:
            when = f" taken by {human_time(before.timestamp())}" if before is not None else ""
            problem = (f"every set{when} failed its last verify, or stands on one that did" if passed
                       else f"no backup set{when}")
        picks.append(StorePick(store, chosen, tuple(passed), problem))
    return picks


def database_name_for(database: str, record: SetRecord) -> str:
    """A new database beside ``database`` named after the point in time: ``crm_20261201_2300``."""
    suffix = record.taken.strftime("_%Y%m%d_%H%M")
    head = database.encode()[:_DATABASE_NAME_BYTES - len(suffix)].decode(errors="ignore")
    return head + suffix


def is_database_store(store: Store) -> bool:
    """A store restored whole into a database on its server, rather than as files into a folder."""
    try:
        return isinstance(driver_for(store.type), DatabaseDriver)
    except StoreTypeError:  # a removed store of a type this Strongroom does not know: its restore says so
        return False


def options_for(pick: StorePick, *, folder: Path | None, new_databases: bool, overwrite: str,
                database_overwrite: str) -> RestoreOptions:
    """The restore of one picked store: into ``folder``/<store name> (None: where it was), or for a
    database into its own database or a new one beside it, under that kind's overwrite policy."""
    if is_database_store(pick.store):
        location = driver_for(pick.store.type).location(pick.store.path)
        return RestoreOptions(overwrite=database_overwrite,
                              to_database=database_name_for(location.database, pick.record) if new_databases else None)
    return RestoreOptions(to=folder / pick.store.name if folder is not None else None, overwrite=overwrite)


def shortfalls(plans: Iterable[RestorePlan]) -> list[str]:
    """Each file system the plans together would overfill, as a sentence (empty: everything fits)."""
    needed: dict[int, tuple[Room, list[RestorePlan]]] = {}
    for plan in plans:
        room = room_at(plan.root)
        if room is not None:
            needed.setdefault(room.device, (room, []))[1].append(plan)
    problems = []
    for room, sharing in needed.values():
        total = sum(plan.bytes_to_write for plan in sharing)
        if total > room.free:
            into = ", ".join(str(plan.root) for plan in sharing)
            problems.append(f"{human_bytes(total)} to write into {into}, but the file system there has "
                            f"{human_bytes(room.free)} free: free space there, or go back and choose a folder on a "
                            "file system with room")
    return problems
