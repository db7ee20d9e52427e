"""Which plans are due, decided at each tick from the plans' schedules and what has been handled.

At each tick the scheduler reads every plan again (so plans added or changed by another
process are picked up) and, for each enabled one, looks at the latest slot of its
schedule at or before now:

- newer than the plan's handled slot: the slot is taken (in the catalog, so no other
  scheduler takes it too) and the plan starts — once, however many slots passed while
  nothing ran the schedule (catch-up, like anacron or systemd's ``Persistent=true``);
- but when the plan's previous run is still going, the slot is skipped and said so.

The clock, the starting of runs and the question "is it running" are given to it, so
every decision is tested with an injected clock and no sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .plan import Plan
from .plan_book import PlanBook, Trigger

LATE = timedelta(minutes=2)  # a slot started later than this after its time is a catch-up


@dataclass(frozen=True)
class Upcoming:
    plan: str
    at: datetime


class Scheduler:
    def __init__(self, book: PlanBook, start: Callable[[Plan, str, datetime], None],
                 running_here: Callable[[str], bool], log: Callable[[str], None],
                 clock: Callable[[], datetime]) -> None:
        self.book = book
        self._start = start
        self._running_here = running_here
        self._log = log
        self._clock = clock
        self._problems: set[str] = set()
        self.upcoming: Upcoming | None = None

    def tick(self) -> Upcoming | None:
        """Start what is due now; return the next slot of any enabled plan."""
        now = self._clock()
        plans, problems = self.book.plans()
        for problem in sorted(set(problems) - self._problems):
            self._log(f"a plan cannot be read and does not run: {problem}")
        self._problems = set(problems)
        upcoming: Upcoming | None = None
        for plan in plans:
            if not plan.enabled:
                continue
            schedule = plan.schedule_in_zone
            handled = self.book.handled_slot(plan.name)
            slot = schedule.latest_at_or_before(now)
            if slot is not None and slot > handled:
                self._handle(plan, slot, handled, now)
                handled = slot
            following = schedule.next_after(max(now, handled))
            if upcoming is None or following < upcoming.at:
                upcoming = Upcoming(plan.name, following)
        self.upcoming = upcoming
        return upcoming

    def _handle(self, plan: Plan, slot: datetime, handled: datetime, now: datetime) -> None:
        if not self.book.take_slot(plan.name, slot):
            return  # another scheduler took it a moment ago
        schedule = plan.schedule_in_zone
        missed = schedule.missed_between(handled, slot)
        local = slot.astimezone(schedule.zone)
        if self._running_here(plan.name) or self.book.running(plan.name) is not None:
            reason = f"the run due at {local:%Y-%m-%d %H:%M %Z} was skipped: the plan's previous run is still going"
            self.book.record_skip(plan.name, slot, reason)
            self._log(f"plan {plan.name}: {reason}")
            return
        if now - slot > LATE:
            trigger = Trigger.CATCH_UP
            also = f" ({missed} scheduled runs were missed; it runs once)" if missed > 1 else ""
            self._log(f"plan {plan.name}: catching up the run due at {local:%Y-%m-%d %H:%M %Z}{also}")
        else:
            trigger = Trigger.SCHEDULE
        self._start(plan, trigger, slot)
