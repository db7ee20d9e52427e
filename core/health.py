"""How each store stands: its last good backup and its age, its last failure, its next run, its sets.

A store is **fresh** while its last good backup (its newest set not marked damaged) is younger
than its warning age, **warning** past it, and **critical** past its critical age, when it
has never been backed up, or when its last backup job failed after its last good set.
The ages are the store's own (``store health``), else the tightest of its plans', else
DEFAULT_WARN / DEFAULT_CRITICAL. ``strongroom status`` exits 0, 1 or 2 for the worst store,
as monitoring tools (Nagios, Icinga, check_mk) read it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .catalog import Catalog, JobRecord, SetRecord
from .job_state import JobState
from .plans.overview import next_run_by_store, plan_overviews
from .plans.plan_book import PlanBook
from .retention.policy import parse_interval

DEFAULT_WARN = "2d"
DEFAULT_CRITICAL = "7d"
HISTORY_LOOKBACK = 2000


class Health(enum.IntEnum):
    FRESH = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class StoreHealth:
    store: str
    health: Health
    why: str
    last_good: SetRecord | None
    age: timedelta | None
    last_failure: JobRecord | None
    next_run: tuple[str, datetime] | None  # (plan, when)
    sets: int
    stored_bytes: int
    warn_after: str
    critical_after: str

    def document(self) -> dict:
        return {"store": self.store, "health": self.health.label, "why": self.why,
                "last_good": {"set": self.last_good.id, "created": self.last_good.created,
                              "age_seconds": int(self.age.total_seconds())} if self.last_good and self.age else None,
                "last_failure": {"job": self.last_failure.id, "finished": self.last_failure.finished,
                                 "error": self.last_failure.error} if self.last_failure else None,
                "next_run": {"plan": self.next_run[0], "at": self.next_run[1].isoformat(timespec="minutes")}
                if self.next_run else None,
                "sets": self.sets, "stored_bytes": self.stored_bytes, "warn_after": self.warn_after,
                "critical_after": self.critical_after}


def store_health(catalog: Catalog, now: datetime | None = None) -> list[StoreHealth]:
    now = now or datetime.now(timezone.utc)
    book = PlanBook(catalog)
    overviews, _ = plan_overviews(book, now)
    next_runs = next_run_by_store(overviews)
    sets_by_store: dict[str, list[SetRecord]] = {}
    for record in catalog.list_sets():
        sets_by_store.setdefault(record.store, []).append(record)
    last_backup: dict[str, JobRecord] = {}
    for job in catalog.list_jobs(HISTORY_LOOKBACK):  # newest first
        if job.operation == "backup" and job.state in (JobState.SUCCEEDED, JobState.WARNINGS, JobState.FAILED):
            last_backup.setdefault(job.store, job)
    result = []
    for store in catalog.list_stores():
        warn, critical = _ages(catalog, store.name, [o.plan for o in overviews if store.name in o.plan.stores])
        sets = sets_by_store.get(store.name, [])
        good = [record for record in sets if not record.damaged]
        last_good = max(good, key=lambda record: record.taken) if good else None
        age = now - last_good.taken if last_good else None
        job = last_backup.get(store.name)
        failure = job if job is not None and job.state == JobState.FAILED and (
            last_good is None or (job.finished or job.created) > last_good.created) else None
        if last_good is None:
            health, why = Health.CRITICAL, "never backed up" if not sets else "every set is damaged"
        elif failure is not None:
            health, why = Health.CRITICAL, f"the last backup failed: {failure.error or 'see its log'}"
        elif age > parse_interval(critical):
            health, why = Health.CRITICAL, f"the last good backup is older than {critical}"
        elif age > parse_interval(warn):
            health, why = Health.WARNING, f"the last good backup is older than {warn}"
        else:
            health, why = Health.FRESH, f"backed up within {warn}"
        result.append(StoreHealth(store.name, health, why, last_good, age, failure, next_runs.get(store.name),
                                  len(sets), sum(record.stored_bytes for record in sets), warn, critical))
    return result


def _ages(catalog: Catalog, store: str, plans) -> tuple[str, str]:
    own_warn, own_critical = catalog.store_ages(store)

    def tightest(values: list[str]) -> str | None:
        return min(values, key=parse_interval) if values else None

    warn = own_warn or tightest([plan.warn_after for plan in plans if plan.warn_after]) or DEFAULT_WARN
    critical = own_critical or tightest([plan.critical_after for plan in plans if plan.critical_after]) \
        or DEFAULT_CRITICAL
    return warn, critical
