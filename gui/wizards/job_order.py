"""Which of several jobs run at the same time and which take turns, as a wizard's summary says it.

Jobs of different store types never wait for each other; jobs of one type take turns on
its mutex, and a holder already there (or a stale record of one) is named, so nobody is
surprised that a job waits.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ...core.catalog import Store
from ...core.mutex import MutexState, MutexStatus, mutex_name


@dataclass(frozen=True)
class QueuePlan:
    """For one store type: who starts at once, who queues, and any holder already there."""

    store_type: str
    stores: tuple[str, ...]
    holder: str  # "" when the mutex is free now
    stale: str = ""  # a record left by a holder whose process has ended: the first job clears it

    @property
    def mutex(self) -> str:
        return mutex_name(self.store_type)


def queue_plans(stores: list[Store], statuses: list[MutexStatus]) -> list[QueuePlan]:
    held = {status.store_type: status.holder.describe() for status in statuses
            if status.holder is not None and status.state is MutexState.HELD}
    by_type: dict[str, list[str]] = {}
    for store in stores:
        by_type.setdefault(store.type, []).append(store.name)
    stale = {status.store_type: status.holder.describe() for status in statuses
             if status.holder is not None and status.state is MutexState.STALE}
    return [QueuePlan(store_type, tuple(names), held.get(store_type, ""), stale.get(store_type, ""))
            for store_type, names in sorted(by_type.items())]


def order_items(stores: list[Store], statuses: list[MutexStatus]) -> list[str]:
    """The order of one job per store, as HTML list items."""
    lines = []
    plans = queue_plans(stores, statuses)
    if len(plans) > 1:
        types = ", ".join(plan.store_type for plan in plans)
        lines.append(f"<li>Run at the same time: one job per store type ({types}); different store types "
                     "never wait for each other.</li>")
    elif len(stores) == 1 and not plans[0].holder:
        lines.append(f"<li>{html.escape(stores[0].name)} starts at once.</li>")
    for plan in plans:
        if len(plan.stores) > 1:
            names = ", ".join(map(html.escape, plan.stores))
            lines.append(f"<li>Take turns on <code>{plan.mutex}</code>, one at a time: {names}.</li>")
        if plan.stale:
            lines.append(f"<li><code>{plan.mutex}</code> still has a record of {html.escape(plan.stale)}, whose "
                         "process has ended: the first job clears it before it starts.</li>")
        if plan.holder:
            lines.append(f"<li>{html.escape(', '.join(plan.stores))} will wait first: <code>{plan.mutex}</code> "
                         f"is held now by {html.escape(plan.holder)}.</li>")
    return lines
