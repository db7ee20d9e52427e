"""What an administrator wants to see per plan: when it runs next, whether it runs now, how it last went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .plan import Plan
from .plan_book import PlanBook, PlanRun
from .schedule import describe


@dataclass(frozen=True)
class PlanOverview:
    plan: Plan
    next_run: datetime | None  # None: disabled
    overdue: bool  # a slot has passed that nothing has run yet (no agent, no console)
    running: bool
    last_run: PlanRun | None

    @property
    def schedule_text(self) -> str:
        return describe(self.plan.schedule)

    def document(self) -> dict:
        """The shape `plan list --json` prints."""
        return {**self.plan.document(), "schedule_text": self.schedule_text,
                "next_run": self.next_run.isoformat(timespec="minutes") if self.next_run else None,
                "overdue": self.overdue, "running": self.running,
                "last_run": self.last_run.public_dict() if self.last_run else None}


def plan_overviews(book: PlanBook, now: datetime) -> tuple[list[PlanOverview], list[str]]:
    """Every readable plan's overview, and a message for each damaged one."""
    plans, problems = book.plans()
    overviews = []
    for plan in plans:
        schedule = plan.schedule_in_zone
        handled = book.handled_slot(plan.name)
        due = schedule.latest_at_or_before(now)
        overdue = plan.enabled and due is not None and due > handled
        following = (due if overdue else schedule.next_after(max(now, handled))) if plan.enabled else None
        overviews.append(PlanOverview(plan, following, overdue, book.running(plan.name) is not None,
                                      book.last_run(plan.name)))
    return overviews, problems


def next_run_by_store(overviews: list[PlanOverview]) -> dict[str, tuple[str, datetime]]:
    """Each store's soonest scheduled run: (plan, when)."""
    soonest: dict[str, tuple[str, datetime]] = {}
    for overview in overviews:
        if overview.next_run is None:
            continue
        for store in overview.plan.stores:
            if store not in soonest or overview.next_run < soonest[store][1]:
                soonest[store] = (overview.plan.name, overview.next_run)
    return soonest
