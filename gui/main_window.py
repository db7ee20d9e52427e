"""The main window: Stores, Jobs and the live Lock status, with menus, toolbar and status bar.

It starts jobs through the JobManager (one worker thread each) and hears back only
through signals; it never waits for a job or a mutex. Closing it while jobs run asks
first, cancels them, and closes once every job has cleaned up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QGroupBox, QLabel, QMainWindow, QSystemTrayIcon, QTabWidget,
                               QVBoxLayout, QWidget)

from ..core.engine import Engine
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.stores import shown_location
from ..core.jobs import BackupOptions, Job
from ..core.restore import RestoreOptions
from .about import show_about
from .closing import CloseGuard
from .icons import app_icon, warm_state_icons
from .job_details import JobDetailsDialog
from .job_manager import JobManager
from .jobs_view import JobsView
from .lock_panel import LockPanel
from .lock_watcher import LockWatcher
from .messages import ask, job_error_text, show_error
from .plan_actions import PlanActions
from .plans_view import PlansView
from .sets_dialog import SetsDialog
from .settings_dialog import SettingsDialog
from .store_dialog import StoreDialog
from .section_splitter import SectionSplitter
from .stores_reader import StoresReader
from .stores_view import StoresView
from .tray import Tray
from .verify_dialog import VerifyDialog
from .wizards.backup_wizard import BackupWizard
from .wizards.restore_wizard import RestoreWizard
from .wizards.several_restore_wizard import SeveralRestoreWizard
from .main_actions import build_actions
from ..core.units import counted



class MainWindow(QMainWindow):
    shown = Signal()  # the first time the window is on screen (start-up timing)

    def __init__(self, engine: Engine, *, tray: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Backup console")  # the application adds " — Strongroom"
        self.setWindowIcon(app_icon())
        self.engine = engine
        self.manager = JobManager(self)
        self.watcher = LockWatcher(engine.registry, self)
        self.details: list[JobDetailsDialog] = []
        self.wizard = None
        self._shown_once = False

        self.stores_view = StoresView(self)
        self.stores_reader = StoresReader(engine.catalog, self)
        self.stores_reader.read.connect(self._show_stores)
        self.stores_reader.failed.connect(lambda text: show_error(self, "Cannot read the stores", text))
        self.plans_view = PlansView(self)
        self.plans = PlanActions(engine, self.plans_view, self.stores_view, self.manager, self)
        self.close_guard = CloseGuard(self, self.manager, self.plans)
        self.jobs_view = JobsView(self)
        self.lock_panel = LockPanel(engine.registry.lockdir, self)
        build_actions(self)
        self._build_layout()
        self._build_status_bar()
        self.tray = Tray(self, [self.backup_action, self.restore_action, self.quit_action]) \
            if tray and QSystemTrayIcon.isSystemTrayAvailable() else None
        if self.tray is not None:
            self.tray.show()

        self.stores_view.add_requested.connect(self.add_store)
        self.stores_view.edit_requested.connect(self.edit_store)
        self.stores_view.remove_requested.connect(self.remove_store)
        self.stores_view.backup_requested.connect(self.back_up_now)
        self.stores_view.restore_requested.connect(self.open_restore_wizard)
        self.stores_view.restore_several_requested.connect(self.open_several_restore_wizard)
        self.stores_view.sets_requested.connect(self.open_sets_dialog)
        self.jobs_view.cancel_requested.connect(self.manager.cancel)
        self.jobs_view.details_requested.connect(self.show_job_details)
        self.jobs_view.refresh_requested.connect(self.refresh_history)
        self.manager.jobs_added.connect(self.jobs_view.model.add_jobs)
        self.manager.job_changed.connect(self.jobs_view.model.job_changed)
        self.manager.job_added.connect(self.stores_view.model.job_changed)  # the Last attempt column follows jobs live
        self.manager.job_changed.connect(self._store_job_changed)
        self.manager.job_finished.connect(self._job_finished)
        self.manager.counts_changed.connect(self._counts_changed)
        self.manager.all_finished.connect(self._all_finished)
        self.watcher.statuses_changed.connect(self.lock_panel.show_statuses)
        # waiters come and go; while jobs run the lock panel only grows (it shrinks when they have ended)
        self.watcher.statuses_changed.connect(lambda _statuses: self.splitter.fit(shrink=not self.manager.busy))
        self.watcher.statuses_changed.connect(self.jobs_view.model.set_lock_statuses)
        self.watcher.failed.connect(self.lock_panel.show_problem)
        self.lock_panel.lock_broken.connect(self._lock_broken)

        self.refresh_stores()
        self.refresh_history()
        self.watcher.start()
        self.plans.start()
        self.resize(1280, 860)
        warm_state_icons(self)
        if engine.orphaned_jobs:
            self.statusBar().showMessage(f"{counted(len(engine.orphaned_jobs), 'job')} whose process had ended without "
                                         "finishing are now shown as failed; their details say more", 30000)
        if engine.settings_problem:
            QTimer.singleShot(0, lambda: show_error(self, "Settings not used", engine.settings_problem))

    # -- building ---------------------------------------------------------------------------

    def _section(self, title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title, self)
        layout = QVBoxLayout(box)
        layout.addWidget(widget)
        return box

    def _build_layout(self) -> None:
        self.top_tabs = QTabWidget(self)
        self.top_tabs.setObjectName("storesAndPlans")
        self.top_tabs.addTab(self.stores_view, "Stores")
        self.top_tabs.addTab(self.plans_view, "Plans — backups that run on a schedule")
        self.splitter = SectionSplitter(self.top_tabs, self.stores_view.table, self._section("Jobs", self.jobs_view),
                                        self._section("Lock status — one mutex per store type", self.lock_panel),
                                        self.lock_panel.tree, self)
        self.splitter.setSizes([260, 330, 220])
        self.setCentralWidget(self.splitter)
        self.setMinimumSize(820, 560)  # below this the three sections cannot each show a few rows

    def _build_status_bar(self) -> None:
        self.counts_label = QLabel("Idle", self)
        self.counts_label.setObjectName("jobCounts")
        self.statusBar().addPermanentWidget(self.counts_label)

    # -- stores -----------------------------------------------------------------------------

    def refresh_stores(self) -> None:
        """Read the stores' overviews and health now: after the administrator's own change."""
        self.stores_reader.read_now()

    def refresh_stores_soon(self) -> None:
        """The same, read off the window's thread: after a job, whose end must not stall the window."""
        self.stores_reader.read_soon()

    def _show_stores(self, overviews: list, health: list) -> None:
        self.stores_view.set_overviews(overviews)
        self.stores_view.model.set_health(health)
        self.splitter.fit()

    def refresh_history(self) -> None:
        try:
            self.jobs_view.model.set_history(self.engine.catalog.list_jobs())
        except EXPECTED_ERRORS as error:
            show_error(self, "Cannot read the job history", error)

    def add_store(self) -> None:
        self._open_store_dialog(StoreDialog(self.engine, parent=self))

    def edit_store(self, store) -> None:
        self._open_store_dialog(StoreDialog(self.engine, store, parent=self))

    def _open_store_dialog(self, dialog: StoreDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.refresh_stores)
        dialog.open()

    def remove_store(self, store) -> None:
        if not ask(self, f"Remove store {store.name}?",
                   f"Strongroom will stop backing up {shown_location(store.type, store.path)}.\n\n"
                   "Its backup sets stay on disk and in the "
                   "catalog, and can still be restored from the Restore wizard.", "Remove store"):
            return
        try:
            self.engine.catalog.remove_store(store.name)
        except EXPECTED_ERRORS as error:
            show_error(self, "The store was not removed", error)
        self.refresh_stores()

    # -- wizards and dialogs ----------------------------------------------------------------

    def back_up_now(self, names: list[str]) -> list[Job]:
        """Start a backup of each store at once, with the defaults (the Backup wizard is for choosing)."""
        options = self.engine.default_backup_options()
        return self.start_backups([(name, options) for name in names])

    def open_backup_wizard(self, preselected: set[str] | None = None) -> BackupWizard:
        chosen = preselected if preselected is not None else {store.name for store in self.stores_view.selected()}
        wizard = BackupWizard(self.engine, lambda: self.watcher.latest, chosen, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.accepted.connect(lambda: self._backup_wizard_done(wizard))
        self.wizard = wizard
        wizard.open()
        return wizard

    def _backup_wizard_done(self, wizard: BackupWizard) -> None:
        if wizard.saved_plan is None:
            self.start_backups(wizard.jobs())
            return
        self.plans.refresh()
        self.top_tabs.setCurrentWidget(self.plans_view)
        self.statusBar().showMessage(f"Plan {wizard.saved_plan.name} saved. {self.plans_view.charge.text()}", 15000)

    def open_restore_wizard(self, store_name: str | None = None) -> RestoreWizard:
        if store_name is None:
            selected = self.stores_view.selected()
            store_name = selected[0].name if len(selected) == 1 else None
        wizard = RestoreWizard(self.engine, store_name, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.accepted.connect(lambda: self.start_restore(*wizard.request()))
        self.wizard = wizard
        wizard.open()
        return wizard

    def open_several_restore_wizard(self, preselected: set[str] | None = None) -> SeveralRestoreWizard:
        if not preselected:
            preselected = {store.name for store in self.stores_view.selected()}
        wizard = SeveralRestoreWizard(self.engine, lambda: self.watcher.latest, preselected, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.accepted.connect(lambda: self.start_restores(wizard.requests()))
        self.wizard = wizard
        wizard.open()
        return wizard

    def open_sets_dialog(self, store: str) -> SetsDialog:
        dialog = SetsDialog(self.engine, store, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.verify_requested.connect(lambda ids: [self.start_verify(set_id) for set_id in ids])
        dialog.changed.connect(self.refresh_stores)
        dialog.open()
        return dialog

    def open_verify_dialog(self) -> VerifyDialog | None:
        try:
            sets = self.engine.catalog.list_sets()
        except EXPECTED_ERRORS as error:
            show_error(self, "Cannot list the backup sets", error)
            return None
        dialog = VerifyDialog(sets, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_verify(dialog.chosen, untrusted=dialog.untrusted))
        dialog.open()
        return dialog

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.engine.settings, self.engine.paths.settings, self.engine.paths.default_target,
                                self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._settings_saved(dialog.saved))
        dialog.open()
        return dialog

    def _settings_saved(self, settings) -> None:
        if settings is not None:
            self.engine.settings = settings
            self.engine.settings_problem = ""
            self.statusBar().showMessage("Settings saved", 5000)

    def show_about(self) -> None:
        show_about(self, self.engine)

    def show_job_details(self, job_id: str | None) -> JobDetailsDialog | None:
        if not job_id:
            return None
        job = self.manager.jobs.get(job_id)
        try:
            record = job.record if job is not None else self.engine.catalog.get_job(job_id)
        except EXPECTED_ERRORS as error:
            show_error(self, "Cannot read the job", error)
            return None
        dialog = JobDetailsDialog(record, job, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.manager.job_logged.connect(dialog.append)
        self.manager.job_changed.connect(dialog.refresh)
        dialog.destroyed.connect(lambda *_: self.details.remove(dialog) if dialog in self.details else None)
        self.details.append(dialog)
        dialog.show()
        return dialog

    # -- jobs -------------------------------------------------------------------------------

    def _start(self, make_jobs, title: str) -> list[Job]:
        try:
            jobs = make_jobs()
        except EXPECTED_ERRORS as error:
            show_error(self, title, error)
            return []
        return self.manager.start_all(jobs)

    def start_backups(self, specs: list[tuple[str, BackupOptions]]) -> list[Job]:
        """One job per store, all started at once (those of one store type take turns on its mutex)."""
        return self._start(lambda: [self.engine.backup_job(name, options) for name, options in specs],
                           "The backup could not start")

    def start_restore(self, store_name: str, set_id: str, options: RestoreOptions) -> list[Job]:
        return self._start(lambda: [self.engine.restore_job(store_name, options, set_id=set_id)],
                           "The restore could not start")

    def start_restores(self, requests: list[tuple[str, str, RestoreOptions, str]]) -> list[Job]:
        """One restore job per store, all started at once; a note (a damaged set passed over) is its first warning."""
        def jobs() -> list[Job]:
            made = []
            for name, set_id, options, note in requests:
                job = self.engine.restore_job(name, options, set_id=set_id)
                if note:
                    job.warn(note)
                made.append(job)
            return made

        return self._start(jobs, "The restores could not start")

    def start_verify(self, set_id_or_file: str | None, *, untrusted: bool = False) -> list[Job]:
        if not set_id_or_file:
            return []
        return self._start(lambda: [self.engine.verify_job(set_id_or_file, untrusted=untrusted)],
                           "The verify could not start")

    def cancel_all(self) -> None:
        self.manager.cancel_all()

    def _store_job_changed(self, job_id: str) -> None:
        job = self.manager.jobs.get(job_id)
        if job is not None:
            self.stores_view.model.job_changed(job)

    def _job_finished(self, job: Job) -> None:
        if job.operation == "backup":
            self.stores_view.model.job_changed(job)
            self.refresh_stores_soon()
        if self.tray is not None:
            self.tray.job_finished(job)
        self.statusBar().showMessage(f"{job.operation} of {job.store_name}: {job.state.label}"
                                     + (f" — {job_error_text(job)}" if job.error else ""), 15000)

    def _counts_changed(self, running: int, waiting: int) -> None:
        busy = running + waiting
        # Room for every active job's line in the lock panel from the start: one resize, not one per waiter
        self.splitter.expected_waiters = busy
        self.splitter.fit(shrink=busy == 0)
        self.counts_label.setText(f"{running} running · {waiting} waiting" if busy else "Idle")
        self.cancel_all_action.setEnabled(busy > 0)
        if self.tray is not None:
            self.tray.counts(running, waiting)

    def _lock_broken(self, message: str) -> None:
        self.statusBar().showMessage(message, 15000)
        self.watcher.refresh_now()

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        if not self.close_guard.may_close():
            event.ignore()
            return
        self.watcher.stop()
        self.plans.stop()
        for dialog in list(self.details):
            dialog.close()
        if self.tray is not None:
            self.tray.hide()
        event.accept()

    def _all_finished(self) -> None:
        self.refresh_history()
        self.splitter.fit()
        self.close_guard.jobs_ended()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()
