"""What the console does with plans: show them (and each store's next run), make, change, enable,
run now and remove them, and host the schedule when no agent does (hosted_schedule.py).

A plan run, scheduled or "Run now", goes in a thread of its own, as the agent runs it; its
jobs appear in the Jobs view through the JobManager (external_jobs.py).
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..core.engine import Engine
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.plans.overview import next_run_by_store, plan_overviews
from ..core.plans.plan import Plan
from ..core.plans.plan_book import PlanBook, Trigger
from ..core.plans.plan_run import PlanRunner
from .hosted_schedule import HostedSchedule
from .job_manager import JobManager
from .messages import ask, show_error
from .plan_dialog import PlanDialog
from .plans_view import PlansView
from .stores_view import StoresView

REFRESH_MS = 5000


class PlanActions(QObject):
    changed = Signal()  # plans were saved, removed or run: the view is refreshed
    idle = Signal()  # after ``stop``: every plan run this console started has ended

    def __init__(self, engine: Engine, view: PlansView, stores_view: StoresView, manager: JobManager,
                 parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.book = PlanBook(engine.catalog)
        self.view = view
        self.stores_view = stores_view
        self.manager = manager
        self.window = parent
        self.host = HostedSchedule(engine, manager.external, self)
        self.host.charge_changed.connect(view.set_charge)
        self._runs: list[threading.Thread] = []
        view.new_requested.connect(lambda: self.open_dialog())
        view.edit_requested.connect(self.open_dialog)
        view.enable_requested.connect(self.set_enabled)
        view.remove_requested.connect(self.remove)
        view.run_requested.connect(self.run_now)
        manager.job_finished.connect(lambda job: self.refresh() if job.record.plan else None)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    def start(self) -> None:
        self.refresh()
        self.host.start()
        self.timer.start()

    def refresh(self) -> None:
        try:
            overviews, problems = plan_overviews(self.book, datetime.now(timezone.utc))
        except EXPECTED_ERRORS as error:
            self.view.set_charge(f"The plans cannot be read: {error}")
            return
        self.view.set_overviews(overviews, problems)
        self.stores_view.model.set_next_runs(next_run_by_store(overviews))

    def open_dialog(self, plan: Plan | None = None, stores: set[str] | None = None) -> PlanDialog:
        dialog = PlanDialog(self.engine, plan, self.window, stores=stores)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._saved)
        dialog.open()
        return dialog

    def _saved(self) -> None:
        self.refresh()
        self.host.check()
        self.changed.emit()

    def set_enabled(self, plan: Plan, enabled: bool) -> None:
        try:
            self.book.set_enabled(plan.name, enabled)
        except EXPECTED_ERRORS as error:
            show_error(self.window, "The plan was not changed", error)
        self._saved()

    def remove(self, plan: Plan) -> None:
        if not ask(self.window, f"Remove plan {plan.name}?",
                   f"{', '.join(plan.stores)} will no longer be backed up on this schedule.\n\nThe sets it made and "
                   "its history stay.", "Remove plan"):
            return
        try:
            self.book.remove(plan.name)
        except EXPECTED_ERRORS as error:
            show_error(self.window, "The plan was not removed", error)
        self._saved()

    def run_now(self, plan: Plan) -> threading.Thread:
        runner = PlanRunner(self.engine, self.book, plan, Trigger.MANUAL, on_jobs=self.manager.external.attach)
        thread = threading.Thread(target=runner.run, name=f"plan {plan.name}", daemon=True)
        self._runs = [run for run in self._runs if run.is_alive()] + [thread]
        thread.start()
        QTimer.singleShot(300, self.refresh)
        return thread

    @property
    def busy(self) -> bool:
        """A plan run (its after commands, its history) is still going."""
        return any(run.is_alive() for run in self._runs) or self.host.hosting and bool(self.host.running_plans())

    def stop(self) -> None:
        """No new plan runs (the hosted ones are cancelled); ``idle`` once every run has ended."""
        self.timer.stop()
        self.host.stop()
        waiter = QTimer(self)
        waiter.setInterval(100)

        def check() -> None:
            if not self.busy:
                waiter.stop()
                self.idle.emit()

        waiter.timeout.connect(check)
        waiter.start()
