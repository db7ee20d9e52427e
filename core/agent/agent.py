"""The agent: runs plans when they are due, for as long as it is left running (``strongroom agent``).

It holds the home's agent lock (presence.py), then ticks: the scheduler starts what is
due, each plan run in a thread of its own, and the agent sleeps until the next slot or
the next poll, whichever is first (plans changed by other processes are seen at the next
poll). ``stop`` (SIGTERM, SIGINT) cancels every running plan — its jobs end cancelled,
with no partial set and every mutex given back — and waits for them, then returns.

The console hosts the same loop while it is open and no agent runs (``gui/hosted_schedule.py``);
both go through ``ScheduleLoop``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..catalog import CatalogError
from ..jobs import Job
from ..plans.plan import Plan
from ..plans.plan_book import PlanBook
from ..plans.plan_run import PlanRunner
from ..notify.notifier import Notifier
from ..plans.scheduler import Scheduler, Upcoming
from ..settings import load_settings
from .presence import AgentLock
from ..units import counted

if TYPE_CHECKING:
    from ..engine import Engine

DEFAULT_POLL = 5.0
STOP_TIMEOUT = 60.0  # cancelled jobs end at their next check; a stuck one is given this long


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ScheduleLoop:
    """Ticks a scheduler and runs the plans it starts, until ``stop``."""

    def __init__(self, engine: Engine, *, log: Callable[[str], None], poll: float = DEFAULT_POLL,
                 clock: Callable[[], datetime] = utc_now,
                 on_jobs: Callable[[list[Job]], None] = lambda jobs: None) -> None:
        self.engine = engine
        self._on_jobs = on_jobs
        self.book = PlanBook(engine.catalog, clock)
        self.poll = poll
        self._clock = clock
        self._log = log
        self._runs: dict[str, tuple[threading.Thread, PlanRunner]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cancel_running = True
        self.scheduler = Scheduler(self.book, self._start, self.running_here, log, clock)
        self.on_tick: Callable[[Upcoming | None], None] = lambda upcoming: None

    def running_here(self, name: str) -> bool:
        with self._lock:
            entry = self._runs.get(name)
            return entry is not None and entry[0].is_alive()

    def running_plans(self) -> list[str]:
        with self._lock:
            return [name for name, (thread, _) in self._runs.items() if thread.is_alive()]

    def _start(self, plan: Plan, trigger: str, slot: datetime) -> None:
        notifier = Notifier(load_settings(self.engine.paths.settings).settings.notifications, self._log,
                            stop=self._stop)  # the settings as they are now: a change needs no restart
        runner = PlanRunner(self.engine, self.book, plan, trigger, slot, log=self._log, on_jobs=self._on_jobs,
                            notifier=notifier)
        thread = threading.Thread(target=self._run, args=(runner,), name=f"plan {plan.name}", daemon=True)
        with self._lock:
            self._runs[plan.name] = (thread, runner)
        thread.start()

    def _run(self, runner: PlanRunner) -> None:
        try:
            runner.run()
        except Exception as error:  # noqa: BLE001 - a bug must not end the agent: log it, go on
            self._log(f"plan {runner.plan.name}: the run ended unexpectedly: {error!r} (please report this)")

    def run(self) -> None:
        """Tick until ``stop``; then cancel and wait for the running plans."""
        while not self._stop.is_set():
            try:
                upcoming = self.scheduler.tick()
            except (CatalogError, OSError) as error:
                self._log(f"the schedule could not be read ({error}); trying again in {self.poll:g} s")
                upcoming = None
            self.on_tick(upcoming)
            wait = self.poll
            if upcoming is not None:
                wait = max(0.05, min(wait, (upcoming.at - self._clock()).total_seconds()))
            self._stop.wait(wait)
        self._finish()

    def stop(self, *, cancel_running: bool = True) -> None:
        """Ask the loop to end (any thread, or a signal handler); without ``cancel_running`` the plans
        that run now go on to their end (a console hands the schedule to an agent that just started)."""
        self._cancel_running = cancel_running
        self._stop.set()

    def _finish(self) -> None:
        with self._lock:
            runs = [entry for entry in self._runs.values() if entry[0].is_alive()]
        if not self._cancel_running:
            return
        if runs:
            self._log(f"stopping: cancelling {counted(len(runs), 'running plan')}")
        for _, runner in runs:
            runner.cancel.set()
        for thread, runner in runs:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                self._log(f"plan {runner.plan.name} did not end within {STOP_TIMEOUT:g} s of being cancelled")


class Agent:
    """The service: the agent lock held around a schedule loop."""

    def __init__(self, engine: Engine, *, log: Callable[[str], None], poll: float = DEFAULT_POLL) -> None:
        self.engine = engine
        self.loop = ScheduleLoop(engine, log=log, poll=poll)
        self._log = log

    def run(self) -> None:
        """Run until ``stop``; AgentRunning if another agent has this home."""
        data_dir = self.engine.paths.data_dir
        with AgentLock(data_dir) as presence:
            self.loop.on_tick = lambda upcoming: presence.publish(
                upcoming.plan if upcoming else None, upcoming.at if upcoming else None)
            plans = self.loop.book.names()
            self._log(f"agent started for {data_dir}: {counted(len(plans), 'plan')}"
                      + (f" ({', '.join(plans)})" if plans else ""))
            self.loop.run()
            self._log("agent stopped")

    def stop(self) -> None:
        self.loop.stop()
