"""Which sets of a store a retention policy keeps, and why — borg prune's rules, made chain-aware.

The sets of a store fall in groups: those one plan made (each plan's own policy applies)
and those made by hand (the store's policy applies). Within a group the rules work as
``borg prune`` (policy.py). Then, across the whole store:

- a set that a kept incremental stands on is kept too (a point in time needs its chain);
- the store's newest set is always kept (the next incremental's parent);
- a damaged set (its last verify failed) never counts toward a rule.

Every set gets one decision with one reason, which ``prune`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ..catalog import SetRecord
from .policy import RULES, RetentionPolicy

_PERIODS = {"last": "%Y-%m-%d %H:%M:%S.%f", "hourly": "%Y-%m-%d %H", "daily": "%Y-%m-%d", "weekly": "%G-%V",
            "monthly": "%Y-%m", "yearly": "%Y"}


@dataclass(frozen=True)
class Decision:
    record: SetRecord
    keep: bool
    reason: str

    def public_dict(self) -> dict:
        return {**self.record.public_dict(), "action": "keep" if self.keep else "remove", "reason": self.reason}


def apply_rules(sets: list[SetRecord], policy: RetentionPolicy, now: datetime, zone: tzinfo | None,
                kept: dict[str, str]) -> None:
    """Mark in ``kept`` (id -> reason) what ``policy`` keeps of ``sets``, as borg prune does."""
    newest_first = sorted(sets, key=lambda record: (record.taken, record.id), reverse=True)
    within = policy.within
    if within is not None:
        count = 0
        for record in newest_first:
            if record.taken > now - within:
                count += 1
                kept.setdefault(record.id, f"within {policy.keep_within} #{count}")
    for rule in RULES:
        wanted = getattr(policy, f"keep_{rule}")
        if not wanted:
            continue
        pattern, last, count, record = _PERIODS[rule], None, 0, None
        for record in newest_first:
            period = record.taken.astimezone(zone).strftime(pattern)
            if period == last:
                continue
            last = period
            if record.id in kept:
                continue  # kept by an earlier rule: it does not count toward this one
            count += 1
            kept[record.id] = f"{rule} #{count}"
            if count == wanted:
                break
        if record is not None and count < wanted and record.id not in kept:
            kept[record.id] = f"{rule}[oldest] #{count + 1}"  # the oldest set ages into the longer rules


def choose(sets: list[SetRecord], group_of: Callable[[SetRecord], str | None],
           policies: dict[str | None, RetentionPolicy | str | None], now: datetime, zone: tzinfo | None = None,
           damaged: dict[str, str] | None = None) -> list[Decision]:
    """A decision for each set of one store; ``group_of`` names the plan that made a set (None: by hand)."""
    damaged = damaged or {}
    kept: dict[str, str] = {}
    groups: dict[str | None, list[SetRecord]] = {}
    for record in sets:
        groups.setdefault(group_of(record), []).append(record)
    for group, members in groups.items():
        policy = policies.get(group)
        if isinstance(policy, str) or not policy:  # a reason to leave the group alone, or no policy
            what = f"plan {group}" if group else "the store (for sets made by hand)"
            for record in members:
                kept.setdefault(record.id, policy if isinstance(policy, str) else f"{what} has no retention policy")
            continue
        apply_rules([record for record in members if record.id not in damaged], policy, now, zone, kept)
    by_id = {record.id: record for record in sets}
    if sets:
        newest = max(sets, key=lambda record: (record.taken, record.id))
        kept.setdefault(newest.id, "the newest set (the next incremental's parent)")
    for record_id in list(kept):
        child = by_id[record_id]
        parent = by_id.get(child.parent or "")
        while child.kind == "incremental" and parent is not None:
            kept.setdefault(parent.id, f"kept set {child.id} stands on it")
            child, parent = parent, by_id.get(parent.parent or "")
    decisions = []
    for record in sorted(sets, key=lambda record: (record.taken, record.id)):
        if record.id in kept:
            reason = kept[record.id] + (f" (damaged: {damaged[record.id]})" if record.id in damaged else "")
            decisions.append(Decision(record, True, reason))
        else:
            decisions.append(Decision(record, False, f"damaged: {damaged[record.id]}" if record.id in damaged
                                      else "no rule keeps it"))
    return decisions


def dependents(sets: list[SetRecord], set_id: str) -> list[SetRecord]:
    """Every set whose chain passes through ``set_id`` (its incrementals, theirs, ...), oldest first."""
    children: dict[str, list[SetRecord]] = {}
    for record in sets:
        if record.kind == "incremental" and record.parent:
            children.setdefault(record.parent, []).append(record)
    found, todo = [], [set_id]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.id)
    return sorted(found, key=lambda record: (record.taken, record.id))
