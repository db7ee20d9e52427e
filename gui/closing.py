"""Closing the window while work goes on: nothing is cut off.

Plan runs finish their after commands first. Running or waiting jobs are asked about, then
cancelled, and the window closes once they have cleaned up (a cancelled backup leaves no
partial set and no held mutex); after CLOSE_DEADLINE_MS it stops waiting and stays open,
saying so, rather than cut a job off.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow

from ..core.units import counted
from .job_manager import JobManager
from .messages import ask, show_error

CLOSE_DEADLINE_MS = 120_000  # after this, a close waits no longer for cancelled jobs to end


class CloseGuard:
    """``may_close()`` from the window's closeEvent; ``jobs_ended()`` when the last job has ended."""

    def __init__(self, window: QMainWindow, manager: JobManager, plans) -> None:
        self.window, self.manager, self.plans = window, manager, plans
        self.closing = False
        self._waiting_for_plans = False

    def may_close(self) -> bool:
        """Whether the window may close now; if not, what is still going on has been asked about or cancelled."""
        if not self.manager.busy and self.plans.busy:  # a plan's after commands, or its history, are finishing
            if not self._waiting_for_plans:
                self._waiting_for_plans = True
                self.plans.stop()
                self.plans.idle.connect(self.window.close)
                self.window.statusBar().showMessage("Waiting for plan runs to finish their after commands…")
            return False
        if not self.manager.busy:
            return True
        active = len(self.manager.active())  # jobs whose threads are only finishing need no question
        if not self.closing and active and not ask(
                self.window, "Jobs are still running",
                f"{counted(active, 'job')} {'is' if active == 1 else 'are'} still running or waiting.\n\nCancel them "
                "and close? Cancelled backups leave no partial set and no held mutex; files a cancelled restore has "
                "already put in place stay there.", "Cancel jobs and close", "Keep running"):
            return False
        if not self.closing:
            self.closing = True
            self.plans.stop()  # no new plan runs; the running ones are cancelled with their jobs
            self.manager.cancel_all()
            self.window.statusBar().showMessage("Cancelling jobs; the window closes when they have cleaned up…")
            QTimer.singleShot(CLOSE_DEADLINE_MS, self._give_up_waiting)
        return False

    def jobs_ended(self) -> None:
        if self.closing:
            self.window.close()

    def _give_up_waiting(self) -> None:
        if self.closing and (self.manager.busy or self.plans.busy):
            show_error(self.window, "Jobs did not stop", "Some jobs have not stopped after being cancelled; the window "
                       "stays open so that nothing is cut off. Their details say what they are doing.")
            self.closing = False
