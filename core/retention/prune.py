"""``prune``: apply retention policies to the sets of a plan, a store, or every store.

Whose policy applies: a plan's to the sets its jobs made, a store's to the sets made by
hand (retention/select.py). Rules given for one run (``overrides``) replace the saved ones
for that run. Removing takes the ``prune`` mutex, a mutex of its own beside the store
types' (shown in ``locks`` and the lock panel), so two prunes never remove the same set
while a backup, which holds only its store type's mutex, goes on writing.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING

from ..mutex import MutexOwner
from ..plans.plan_book import PlanBook
from .policy import RetentionPolicy
from .removal import finish_deletions, remove_sets
from .select import Decision, choose

if TYPE_CHECKING:
    from ..engine import Engine

PRUNE_MUTEX = "prune"  # a reserved name: no store type may be called so
PRUNE_TIMEOUT = 600.0


@dataclass
class PruneReport:
    decisions: dict[str, list[Decision]] = field(default_factory=dict)  # store -> its sets' decisions
    freed: int = 0
    removed: int = 0
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def all_decisions(self) -> list[Decision]:
        return [decision for decisions in self.decisions.values() for decision in decisions]


def prune(engine: Engine, *, store: str | None = None, plan: str | None = None,
          overrides: RetentionPolicy = RetentionPolicy(), dry_run: bool = False, now: datetime | None = None,
          zone: tzinfo | None = None, log=lambda line: None, cancel: threading.Event | None = None,
          timeout: float = PRUNE_TIMEOUT) -> PruneReport:
    catalog = engine.catalog
    book = PlanBook(catalog)
    plans, problems = book.plans()
    report = PruneReport(dry_run=dry_run, problems=list(problems))
    plan_policies = {item.name: item.retention for item in plans}
    if plan is not None:
        stores = list(book.get(plan).stores)
    elif store is not None:
        stores = [store]
    else:
        stores = sorted({record.store for record in catalog.list_sets()})
    made_by = catalog.set_plans()
    now = now or datetime.now(timezone.utc)
    if dry_run:
        _decide(engine, stores, plan, plan_policies, made_by, overrides, now, zone, report)
        return report
    with holding_prune_mutex(engine, plan or store or "all stores", timeout=timeout, cancel=cancel):
        _decide(engine, stores, plan, plan_policies, made_by, overrides, now, zone, report)
        doomed = [decision.record for decision in report.all_decisions if not decision.keep]
        report.freed, busy = remove_sets(catalog, doomed, log)
        report.removed = len(doomed) - len(busy)
        reading = {record.id for record in busy}
        for store, decisions in report.decisions.items():
            report.decisions[store] = [Decision(d.record, True, "being read now (a restore or verify), or a set "
                                                "being read stands on it: removed at the next prune")
                                       if d.record.id in reading else d for d in decisions]
        finish_deletions(catalog, log=log)  # what a killed prune left
    return report


def holding_prune_mutex(engine: Engine, what: str, *, timeout: float = PRUNE_TIMEOUT,
                        cancel: threading.Event | None = None):
    """The ``prune`` mutex, held while sets are removed (``what``: the plan or store, for the lock status)."""
    owner = MutexOwner(f"prune-{secrets.token_hex(3)}", "prune", what)
    return engine.registry.acquire(PRUNE_MUTEX, owner, timeout=timeout, cancel=cancel)


def _decide(engine: Engine, stores: list[str], plan: str | None, plan_policies: dict,
            made_by: dict[str, str], overrides: RetentionPolicy, now: datetime, zone: tzinfo | None,
            report: PruneReport) -> None:
    for name in stores:
        sets = engine.catalog.list_sets(name)
        try:
            own = engine.store_retention(name)
        except ValueError as error:
            report.problems.append(str(error))
            own = RetentionPolicy()
        groups = {made_by.get(record.id) for record in sets}
        if plan is not None:  # only the plan's own sets are its to prune
            policies = {group: f"not made by plan {plan}" for group in groups if group != plan}
            policies[plan] = (plan_policies.get(plan) or RetentionPolicy()).overridden(overrides)
            group_of = made_by.get
        else:
            policies = {group: ((own if group is None else plan_policies.get(group)) or RetentionPolicy())
                        .overridden(overrides) for group in groups}
            group_of = made_by.get
        damaged = {record.id: record.damaged for record in sets if record.damaged}
        report.decisions[name] = choose(sets, lambda record: group_of(record.id), policies, now, zone, damaged)
