"""A plan: a saved backup of one or more stores, with its schedule, cadence, excludes and commands.

Plans are kept in the catalog as JSON documents (plan_book.py). Every field is checked
when a plan is made or read back, so a hand-edited or damaged row gets a message that
names the plan and the field, never a traceback in the agent.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from ..catalog.records import STORE_NAME, CatalogError, check_store_name
from ..invalid_value import InvalidValue
from ..retention.policy import RetentionError, RetentionPolicy, parse_interval
from .schedule import Schedule, ScheduleError, zone_named

DEFAULT_FULL_EVERY = 7  # a full set every 7th run: a week of daily incrementals per chain
DEFAULT_HOOK_TIMEOUT = 600.0
MAX_HOOK_TIMEOUT = 24 * 3600.0
MAX_PATTERNS = 1000


class PlanError(InvalidValue):
    """A plan that cannot be made as asked, or a stored plan that cannot be read."""


@dataclass(frozen=True)
class Hook:
    """A shell command run before or after a plan's backup."""

    command: str
    timeout: float = DEFAULT_HOOK_TIMEOUT
    optional: bool = False  # a failing optional "before" command is reported, and the backup goes on

    def check(self, where: str) -> Hook:
        if not isinstance(self.command, str) or not self.command.strip() or "\0" in self.command:
            raise PlanError(f"{where}: a command must be non-empty text")
        if type(self.timeout) not in (int, float) or not math.isfinite(self.timeout) \
                or not 0 < self.timeout <= MAX_HOOK_TIMEOUT:
            raise PlanError(f"{where}: the timeout must be more than 0 and at most {MAX_HOOK_TIMEOUT:.0f} seconds")
        if type(self.optional) is not bool:
            raise PlanError(f"{where}: 'optional' must be true or false")
        return self


@dataclass(frozen=True)
class Plan:
    name: str
    stores: tuple[str, ...]
    schedule: str  # cron, as croniter reads it (friendly forms are turned into cron when the plan is made)
    timezone: str | None = None  # None: the machine's zone
    target: str | None = None  # None: the settings' target
    full_every: int = DEFAULT_FULL_EVERY  # a full set every Nth run of a store (1: always full)
    max_chain: int | None = None  # also a full set once a store's chain has this many incrementals
    level: int | None = None  # None: the settings' compression level
    verify: bool = True
    excludes: tuple[str, ...] = ()  # gitignore-style patterns, relative to each folder store
    exclude_caches: bool = False  # leave out folders that hold a CACHEDIR.TAG
    max_file_size: int | None = None  # leave out files larger than this many bytes
    before: tuple[Hook, ...] = ()
    after: tuple[Hook, ...] = ()
    enabled: bool = True
    retention: RetentionPolicy = RetentionPolicy()  # pruned after each run when set
    warn_after: str | None = None  # `status` warns when a store's last good backup is older (e.g. "36H")
    critical_after: str | None = None

    def check(self) -> Plan:
        """This plan, every field checked (PlanError names what is wrong); friendly schedules become cron."""
        try:
            check_store_name(self.name)
        except CatalogError:
            raise PlanError(f"{self.name!r} is not a valid plan name: use 1-64 letters, digits, '.', '_' or '-', "
                            "starting with a letter or digit") from None
        where = f"plan {self.name}"
        if not isinstance(self.stores, tuple) or not self.stores:
            raise PlanError(f"{where}: name at least one store")
        for store in self.stores:
            if not isinstance(store, str) or not STORE_NAME.fullmatch(store):
                raise PlanError(f"{where}: {store!r} is not a store name")
        if len(set(self.stores)) != len(self.stores):
            raise PlanError(f"{where}: a store is named twice")
        if self.timezone is not None and not isinstance(self.timezone, str):
            raise PlanError(f"{where}: the time zone must be a name")
        try:
            schedule = Schedule(self.schedule if isinstance(self.schedule, str) else "", zone_named(self.timezone))
        except ScheduleError as error:
            raise PlanError(f"{where}: {error}") from None
        _whole(where, "full_every", self.full_every, 1, 10_000)
        if self.max_chain is not None:
            _whole(where, "max_chain", self.max_chain, 1, 10_000)
        if self.level is not None:
            _whole(where, "level", self.level, 1, 22)
        if self.max_file_size is not None:
            _whole(where, "max_file_size", self.max_file_size, 1, 2**63 - 1)
        for name in ("verify", "exclude_caches", "enabled"):
            if type(getattr(self, name)) is not bool:
                raise PlanError(f"{where}: {name} must be true or false")
        if self.target is not None and (not isinstance(self.target, str) or not self.target or "\0" in self.target):
            raise PlanError(f"{where}: the target must be a folder path")
        if not isinstance(self.excludes, tuple) or len(self.excludes) > MAX_PATTERNS or not all(
                isinstance(pattern, str) and pattern.strip() and "\0" not in pattern for pattern in self.excludes):
            raise PlanError(f"{where}: excludes must be non-empty patterns (at most {MAX_PATTERNS})")
        for name in ("warn_after", "critical_after"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_interval(value)
                except RetentionError as error:
                    raise PlanError(f"{where}: {name.replace('_', ' ')}: {error}") from None
        if not isinstance(self.retention, RetentionPolicy):
            raise PlanError(f"{where}: the retention policy is malformed")
        try:
            self.retention.checked()
        except RetentionError as error:
            raise PlanError(f"{where}: {error}") from None
        for kind in ("before", "after"):
            hooks = getattr(self, kind)
            if not isinstance(hooks, tuple) or not all(isinstance(hook, Hook) for hook in hooks):
                raise PlanError(f"{where}: the {kind} commands are malformed")
            for number, hook in enumerate(hooks, 1):
                hook.check(f"{where}, {kind} command {number}")
        return replace(self, schedule=schedule.expression)

    @property
    def schedule_in_zone(self) -> Schedule:
        return Schedule(self.schedule, zone_named(self.timezone))

    def document(self) -> dict:
        values = asdict(self)
        values["stores"] = list(self.stores)
        values["excludes"] = list(self.excludes)
        values["retention"] = self.retention.document()
        return values

    @classmethod
    def from_document(cls, name: str, document: object) -> Plan:
        """A stored plan read back; PlanError when the row was damaged or edited by hand."""
        if not isinstance(document, dict):
            raise PlanError(f"the stored plan {name} is damaged (not an object): remove it and add it again")
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(document) - known
        if unknown:
            raise PlanError(f"the stored plan {name} has unknown fields {sorted(unknown)}: it was written by a newer "
                            "Strongroom, or edited by hand")
        values = dict(document)
        try:
            values["stores"] = tuple(values.get("stores", ()))
            values["excludes"] = tuple(values.get("excludes", ()))
            for kind in ("before", "after"):
                values[kind] = tuple(Hook(**hook) for hook in values.get(kind, ()))
            values["retention"] = RetentionPolicy.from_document(values.get("retention", {}), f"plan {name}")
            plan = cls(**values)
        except (TypeError, RetentionError) as error:
            raise PlanError(f"the stored plan {name} is damaged ({error}): remove it and add it again") from None
        if plan.name != name:
            raise PlanError(f"the stored plan {name} names itself {plan.name!r}: remove it and add it again")
        return plan.check()


def _whole(where: str, name: str, value: object, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise PlanError(f"{where}: {name} must be a whole number from {low} to {high}")

