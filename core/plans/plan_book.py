"""Plans and their runs, kept in the catalog beside stores, sets and jobs.

Each plan row holds the plan's JSON document and ``handled_slot``: the latest scheduled
time that has been run or skipped. The scheduler moves it forward only, in the same
statement that checks it, so two schedulers (a console and an agent started at the same
moment) cannot both take one slot. A new plan, or one whose schedule changes, starts
from the moment it was saved: slots before it are not "missed".

Each run of a plan is a row of ``plan_runs``, with the process that ran it, so a run
whose process was killed is seen as ended (as jobs are), never as running for ever.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ..catalog import Catalog, now_text
from ..identity import Liveness, liveness, this_process
from ..job_state import JobState
from ..remedies import Remedy, with_fix
from .plan import Plan, PlanError


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Trigger:
    """Why a plan ran."""

    SCHEDULE = "schedule"
    CATCH_UP = "catch-up"  # a slot passed while nothing was running the schedule
    MANUAL = "manual"


SKIPPED = "skipped"  # the result of a slot not run (the plan's previous run was still going)


@dataclass(frozen=True)
class PlanRun:
    id: str
    plan: str
    trigger: str
    slot: str | None
    started: str
    finished: str | None = None
    result: str | None = None
    detail: str | None = None
    host: str | None = None
    pid: int | None = None
    process_start: str | None = None

    def public_dict(self) -> dict:
        return dict(self.__dict__)


class PlanBook:
    def __init__(self, catalog: Catalog, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.catalog = catalog
        self.clock = clock

    # -- plans ----------------------------------------------------------------------------

    def add(self, plan: Plan) -> Plan:
        plan = plan.check()
        self._check_stores(plan)
        now = self.clock()
        with self.catalog.connect() as connection:
            try:
                connection.execute("INSERT INTO plans VALUES (?, ?, ?, ?, ?)",
                                   (plan.name, json.dumps(plan.document()), iso(now), iso(now), iso(now)))
            except sqlite3.IntegrityError:
                raise with_fix(PlanError(f"a plan called {plan.name!r} already exists"), Remedy.EDIT_PLAN,
                               name=plan.name) from None
        return plan

    def replace(self, plan: Plan) -> Plan:
        """Save a changed plan; a new schedule or time zone starts counting from now."""
        plan = plan.check()
        old = self.get(plan.name)
        self._check_stores(plan)
        now = iso(self.clock())
        rescheduled = (old.schedule, old.timezone) != (plan.schedule, plan.timezone) or (
            plan.enabled and not old.enabled)
        with self.catalog.connect() as connection:
            connection.execute("UPDATE plans SET document = ?, updated = ?" + (", handled_slot = ?" if rescheduled
                                                                                 else "") + " WHERE name = ?",
                               (json.dumps(plan.document()), now, *((now,) if rescheduled else ()), plan.name))
        return plan

    def get(self, name: str) -> Plan:
        with self.catalog.connect() as connection:
            row = connection.execute("SELECT document FROM plans WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(self.names()) or "none yet"
            raise with_fix(PlanError(f"there is no plan called {name!r} (plans: {known})"), Remedy.ADD_PLAN)
        return _plan(name, row["document"])

    def names(self) -> list[str]:
        with self.catalog.connect() as connection:
            return [row["name"] for row in connection.execute("SELECT name FROM plans ORDER BY name")]

    def plans(self) -> tuple[list[Plan], list[str]]:
        """Every readable plan, and a message for each one that is damaged (the others still run)."""
        plans, problems = [], []
        with self.catalog.connect() as connection:
            rows = connection.execute("SELECT name, document FROM plans ORDER BY name").fetchall()
        for row in rows:
            try:
                plans.append(_plan(row["name"], row["document"]))
            except PlanError as error:
                problems.append(str(error))
        return plans, problems

    def remove(self, name: str) -> Plan:
        """Forget a plan; its sets, jobs and run history stay."""
        plan = self.get(name)
        with self.catalog.connect() as connection:
            connection.execute("DELETE FROM plans WHERE name = ?", (name,))
        return plan

    def set_enabled(self, name: str, enabled: bool) -> Plan:
        return self.replace(replace(self.get(name), enabled=enabled))

    def _check_stores(self, plan: Plan) -> None:
        known = {store.name for store in self.catalog.list_stores()}
        missing = [store for store in plan.stores if store not in known]
        if missing:
            raise with_fix(PlanError(f"plan {plan.name}: there is no store called {missing[0]!r}"), Remedy.ADD_STORE)

    # -- the schedule's progress ----------------------------------------------------------

    def handled_slot(self, name: str) -> datetime:
        with self.catalog.connect() as connection:
            row = connection.execute("SELECT handled_slot FROM plans WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise PlanError(f"there is no plan called {name!r}")
        return parse_time(row["handled_slot"])

    def take_slot(self, name: str, slot: datetime) -> bool:
        """Mark ``slot`` handled; False when it already was (another scheduler took it, or the plan is gone)."""
        with self.catalog.connect() as connection:
            cursor = connection.execute("UPDATE plans SET handled_slot = ? WHERE name = ? AND handled_slot < ?",
                                        (iso(slot), name, iso(slot)))
            return cursor.rowcount == 1

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, plan: str, trigger: str, slot: datetime | None) -> PlanRun:
        me = this_process()
        run = PlanRun(f"run-{plan}-{self.clock():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}", plan, trigger,
                      iso(slot) if slot else None, now_text(), host=me.host, pid=me.pid, process_start=me.start)
        self._insert(run)
        return run

    def finish_run(self, run: PlanRun, result: str, detail: str = "") -> PlanRun:
        done = replace(run, finished=now_text(), result=result, detail=detail or None)
        with self.catalog.connect() as connection:
            connection.execute("UPDATE plan_runs SET finished = ?, result = ?, detail = ? WHERE id = ?",
                               (done.finished, done.result, done.detail, run.id))
        return done

    def record_skip(self, plan: str, slot: datetime, reason: str) -> PlanRun:
        me = this_process()
        now = now_text()
        run = PlanRun(f"skip-{plan}-{self.clock():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}", plan, Trigger.SCHEDULE,
                      iso(slot), now, now, SKIPPED, reason, me.host, me.pid, me.start)
        self._insert(run)
        return run

    def _insert(self, run: PlanRun) -> None:
        names = list(run.__dict__)
        with self.catalog.connect() as connection:
            connection.execute(f"INSERT INTO plan_runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               [getattr(run, name) for name in names])

    def runs(self, plan: str | None = None, limit: int = 50) -> list[PlanRun]:
        query = "SELECT * FROM plan_runs" + (" WHERE plan = ?" if plan else "") + " ORDER BY started DESC, id DESC " \
                "LIMIT ?"
        with self.catalog.connect() as connection:
            return [PlanRun(**dict(row)) for row in connection.execute(query, (*((plan,) if plan else ()), limit))]

    def last_run(self, plan: str) -> PlanRun | None:
        """The latest run that was not a skipped slot."""
        with self.catalog.connect() as connection:
            row = connection.execute("SELECT * FROM plan_runs WHERE plan = ? AND (result IS NULL OR result != ?) "
                                     "ORDER BY started DESC, id DESC LIMIT 1", (plan, SKIPPED)).fetchone()
        return PlanRun(**dict(row)) if row is not None else None

    def running(self, plan: str) -> PlanRun | None:
        """A run of ``plan`` that is still going in a live process (runs of dead processes are closed here)."""
        with self.catalog.connect() as connection:
            rows = connection.execute("SELECT * FROM plan_runs WHERE plan = ? AND finished IS NULL", (plan,)).fetchall()
        for row in rows:
            run = PlanRun(**dict(row))
            if liveness(run.host or "", run.pid or 0, run.process_start, None) is Liveness.DEAD:
                self.finish_run(run, JobState.FAILED.value, f"the process that ran it (pid {run.pid} on {run.host}) ended "
                                               "before the run finished — killed or crashed")
                continue
            return run
        return None


def _plan(name: str, document: str) -> Plan:
    try:
        values = json.loads(document)
    except ValueError:
        raise PlanError(f"the stored plan {name} is damaged (not JSON): remove it and add it again") from None
    return Plan.from_document(name, values)

