"""The system tray icon (where the platform has one): idle or busy, and a note when a job ends."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from ..core.jobs import Job, JobState
from .icons import app_icon, state_icon
from ..core.units import counted
from .messages import job_error_text


class Tray(QSystemTrayIcon):
    """Created only when ``QSystemTrayIcon.isSystemTrayAvailable()``."""

    def __init__(self, window: QWidget, actions) -> None:
        super().__init__(app_icon(), window)
        self.window = window
        menu = QMenu(window)
        show = menu.addAction("Show Strongroom")
        show.triggered.connect(self._show_window)
        menu.addSeparator()
        for action in actions:
            menu.addAction(action)
        self.setContextMenu(menu)
        self.activated.connect(lambda reason: self._show_window()
                               if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
        self.counts(0, 0)

    def counts(self, running: int, waiting: int) -> None:
        busy = running + waiting
        self.setIcon(state_icon("running", 32) if busy else app_icon())
        self.setToolTip(f"Strongroom: {running} running, {waiting} waiting" if busy else "Strongroom: idle")

    def job_finished(self, job: Job) -> None:
        if job.state == JobState.FAILED:
            self.showMessage(f"{job.operation.capitalize()} of {job.store_name} failed", job_error_text(job) or "",
                             QSystemTrayIcon.MessageIcon.Critical)
        elif job.state in (JobState.SUCCEEDED, JobState.WARNINGS):
            note = f" with {counted(len(job.warnings), 'warning')}" if job.warnings else ""
            self.showMessage(f"{job.operation.capitalize()} of {job.store_name} finished{note}",
                             f"{counted(job.progress.files_done, 'file')}" + (f", set {job.set_id}" if job.set_id else ""),
                             QSystemTrayIcon.MessageIcon.Information)

    def _show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
