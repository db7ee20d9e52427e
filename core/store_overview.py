"""What an administrator wants to see per store: its latest set and how its last backup went."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, JobRecord, SetRecord, Store

HISTORY_LOOKBACK = 1000  # jobs looked at to find each store's last backup


@dataclass(frozen=True)
class StoreOverview:
    store: Store
    latest_set: SetRecord | None
    last_backup: JobRecord | None  # the newest backup job, whatever its outcome

    @property
    def result(self) -> str:
        """The last backup's outcome in words ("never backed up" when there was none)."""
        if self.last_backup is None:
            return "never backed up" if self.latest_set is None else "succeeded"
        return self.last_backup.state.replace("-", " ")

    @property
    def size(self) -> int | None:
        """The store's size at its latest set (what it held then)."""
        return self.latest_set.size_of_store if self.latest_set else None


def store_overviews(catalog: Catalog) -> list[StoreOverview]:
    latest: dict[str, SetRecord] = {}
    for record in catalog.list_sets():  # oldest first: the last one seen is the newest
        latest[record.store] = record
    last_backup: dict[str, JobRecord] = {}
    for job in catalog.list_jobs(HISTORY_LOOKBACK):  # newest first
        if job.operation == "backup":
            last_backup.setdefault(job.store, job)
    return [StoreOverview(store, latest.get(store.name), last_backup.get(store.name))
            for store in catalog.list_stores()]
