"""Whether a plan's next set of a store is full or incremental.

A chain of incrementals is only as good as every set in it, and a point-in-time restore
reads all of them, so a plan starts a new full set every ``full_every``-th run of a store
and, with ``max_chain``, once the chain holds that many incrementals. A store with no
set yet, or whose latest set cannot be a parent, gets a full set.
"""

from __future__ import annotations

from ..catalog import Catalog, SetRecord
from .plan import Plan
from ..units import counted


def chain_length(catalog: Catalog, store: str) -> int | None:
    """How many incrementals the store's latest set stands on, itself included (None: no set yet)."""
    sets = {record.id: record for record in catalog.list_sets(store)}
    if not sets:
        return None
    latest: SetRecord | None = max(sets.values(), key=lambda record: (record.created, record.id))
    length, seen = 0, set()
    while latest is not None and latest.kind == "incremental" and latest.id not in seen:
        seen.add(latest.id)
        length += 1
        latest = sets.get(latest.parent or "")
    return length


def next_kind(plan: Plan, catalog: Catalog, store: str) -> tuple[bool, str]:
    """(incremental?, why) for the plan's next set of ``store``."""
    length = chain_length(catalog, store)
    if length is None:
        return False, "a full set: the store has no set yet"
    if plan.full_every == 1:
        return False, "a full set: the plan takes only full sets"
    if length + 1 >= plan.full_every:
        return False, f"a full set: every {plan.full_every}th set is full ({counted(length, 'incremental')} since the last)"
    if plan.max_chain is not None and length >= plan.max_chain:
        return False, f"a full set: the chain has {counted(length, 'incremental')}, the plan allows {plan.max_chain}"
    return True, f"an incremental set ({length + 1} of at most {plan.full_every - 1} before the next full one)"
