"""One run of a plan: its "before" commands, a backup job per store (all at once), its "after" commands.

The jobs are ordinary backup jobs through the engine, so they take turns with the
console's and the CLI's jobs on each store type's mutex, and stores of different types
still run at the same time. Each job records the plan's name in its history.

- A failing "before" command fails every job with its message, and nothing is read,
  unless the command is marked optional (then each job carries a warning).
- The "after" commands run whatever happened, with the result in their environment:
  STRONGROOM_PLAN, STRONGROOM_TRIGGER, STRONGROOM_RESULT (the worst job state),
  STRONGROOM_SETS (the new set ids). A failing one adds a warning to the jobs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import CatalogError
from ..jobs import Job, JobState, run_simultaneously
from ..stores import driver_for
from ..stores.excludes import ExcludeRules
from .cadence import next_kind
from .hooks import run_hook
from .plan import Plan
from ..notify.notice import JobLine, Notice
from ..notify.notifier import Notifier
from .plan_book import PlanBook, PlanRun, Trigger
from ..units import counted

if TYPE_CHECKING:
    from ..engine import Engine

_WORST_FIRST = (JobState.FAILED, JobState.CANCELLED, JobState.WARNINGS, JobState.SUCCEEDED)
AFTER_WHEN_STOPPING = 20.0  # seconds an "after" command gets when the run was cancelled (the agent is stopping)


@dataclass
class PlanOutcome:
    run: PlanRun
    jobs: list[Job] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # stores that could not even get a job

    @property
    def state(self) -> JobState:
        """The worst of the jobs' states (failed when a store got no job at all)."""
        if self.problems:
            return JobState.FAILED
        states = {job.state for job in self.jobs}
        return next((state for state in _WORST_FIRST if state in states), JobState.FAILED)


class PlanRunner:
    def __init__(self, engine: Engine, book: PlanBook, plan: Plan, trigger: str, slot: datetime | None = None, *,
                 log: Callable[[str], None] = lambda line: None, cancel: threading.Event | None = None,
                 on_jobs: Callable[[list[Job]], None] = lambda jobs: None, notifier: Notifier | None = None) -> None:
        self.engine = engine
        self.book = book
        self.plan = plan
        self.trigger = trigger
        self.slot = slot
        self._log = log
        self.cancel = cancel or threading.Event()
        self.jobs: list[Job] = []
        self._on_jobs = on_jobs  # told of the jobs before any of them runs (the console shows them)
        self._notifier = notifier  # scheduled runs are told to the administrator (notify/)

    def run(self) -> PlanOutcome:
        plan = self.plan
        outcome = PlanOutcome(self.book.start_run(plan.name, self.trigger, self.slot))
        self._log(f"plan {plan.name}: run {outcome.run.id} started ({self.trigger})")
        for store in plan.stores:
            try:
                outcome.jobs.append(self._job(store))
            except (CatalogError, ValueError) as error:
                outcome.problems.append(f"{store}: {error}")
                self._log(f"plan {plan.name}: {store}: {error}")
        self.jobs = outcome.jobs
        self._on_jobs(list(outcome.jobs))
        env = {"STRONGROOM_PLAN": plan.name, "STRONGROOM_TRIGGER": self.trigger,
               "STRONGROOM_STORES": " ".join(plan.stores)}
        refusal = self._before(env)
        if refusal is not None:
            for job in outcome.jobs:
                job.fail_outside(refusal)
        elif outcome.jobs:
            run_simultaneously(outcome.jobs, cancel=self.cancel)
        self._after(outcome, env)
        if plan.retention and not self.cancel.is_set():
            self._prune()
        detail = "; ".join([*outcome.problems, *(f"{job.store_name}: {job.error}" for job in outcome.jobs
                                                 if job.error)])
        outcome.run = self.book.finish_run(outcome.run, outcome.state.value, detail)
        if self._notifier is not None and self.trigger != Trigger.MANUAL:
            self._notifier.tell(self._notice(outcome, detail))
        self._log(f"plan {plan.name}: run {outcome.run.id} ended: {outcome.state.label}"
                  + (f" — {detail}" if detail else ""))
        return outcome

    def _job(self, store: str) -> Job:
        plan = self.plan
        incremental, why = next_kind(plan, self.engine.catalog, store)
        # a plan's exclude rules are for its folder stores: its other stores are backed up whole, unremarked
        takes_excludes = driver_for(self.engine.store(store).type).excludes
        options = self.engine.default_backup_options(
            incremental=incremental, target=Path(plan.target) if plan.target else None,
            excludes=ExcludeRules(plan.excludes, plan.exclude_caches, plan.max_file_size) if takes_excludes
            else ExcludeRules(),
            **({"level": plan.level} if plan.level is not None else {}), **({"verify": False} if not plan.verify
                                                                             else {}))
        job = self.engine.backup_job(store, options, plan=plan.name)
        job.log(f"started by plan {plan.name} ({self.trigger}): {why}")
        return job

    def _notice(self, outcome: PlanOutcome, detail: str) -> Notice:
        run = outcome.run
        return Notice("plan-run", outcome.state.value, self.plan.name, self.trigger, run.started, run.finished or "",
                      tuple(JobLine(job.store_name, job.state.value, job.set_id, job.error, len(job.warnings), job.id)
                            for job in outcome.jobs), detail)

    def _prune(self) -> None:
        """Apply the plan's retention policy to the sets it made (a failure is logged, never the run's)."""
        from ..retention.prune import prune  # the plan's own module must not need the whole of retention

        try:
            report = prune(self.engine, plan=self.plan.name, log=self._log, cancel=self.cancel)
        except Exception as error:  # noqa: BLE001 - a prune that fails leaves the sets; the backup stands
            self._log(f"plan {self.plan.name}: pruning failed ({error}); no set was removed by it")
            return
        self._log(f"plan {self.plan.name}: pruned {counted(report.removed, 'set')} ({self.plan.retention.describe()}), "
                  f"{report.freed} bytes freed")

    def _to_jobs(self, line: str) -> None:
        self._log(f"plan {self.plan.name}: {line}")
        for job in self.jobs:
            job.log(line)

    def _before(self, env: dict[str, str]) -> str | None:
        """Run the "before" commands; the message that fails the jobs, or None to go on."""
        for number, hook in enumerate(self.plan.before, 1):
            outcome = run_hook(hook, f"before {number}", env, self._to_jobs, self.cancel)
            if outcome.ok:
                continue
            message = f"the before command {hook.command!r} {outcome.message}"
            if not hook.optional:
                return f"{message}; the backup did not run"
            for job in self.jobs:
                job.warn(f"{message} (it is optional: the backup went on)")
        return None

    def _after(self, outcome: PlanOutcome, env: dict[str, str]) -> None:
        if not self.plan.after:
            return
        env = {**env, "STRONGROOM_RESULT": outcome.state.value,
               "STRONGROOM_SETS": " ".join(job.set_id for job in outcome.jobs if job.set_id)}
        lines: list[str] = []
        failures = []

        def keep(line: str) -> None:
            self._log(f"plan {self.plan.name}: {line}")
            lines.append(line)

        for number, hook in enumerate(self.plan.after, 1):
            if self.cancel.is_set():  # it still runs (it may restart what "before" stopped), but briefly
                hook = replace(hook, timeout=min(hook.timeout, AFTER_WHEN_STOPPING))
            result = run_hook(hook, f"after {number}", env, keep, threading.Event())
            if not result.ok:
                failures.append(f"the after command {hook.command!r} {result.message}")
        for job in outcome.jobs:
            job.add_after_end(lines, "; ".join(failures) if failures else None)
