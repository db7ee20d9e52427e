"""The backup wizard: stores → destination → options → summary; Finish starts the jobs at once,
or saves the same backup as a plan that runs on a schedule.

The summary says which jobs will run at the same time (different store types never
wait for each other) and which will queue behind a store-type mutex (a second store of
the same type, or a holder that is already there).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QSpinBox, QTextBrowser,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget, QWizard, QWizardPage)

from ...core.catalog import Store
from ...core.engine import Engine
from ...core.expected_errors import EXPECTED_ERRORS
from ...core.jobs import BackupOptions
from ...core.store_overview import StoreOverview, store_overviews
from ...core.stores import driver_for, shown_location
from ...core.plans.plan import DEFAULT_FULL_EVERY, Plan
from ...core.plans.plan_book import PlanBook
from ...core.units import human_bytes, human_time
from ..messages import error_text
from ..schedule_editor import ScheduleEditor
from .job_order import order_items
from .target_picker import FolderChoice, free_space_text

STORE_ROLE = Qt.ItemDataRole.UserRole + 1


class StoresPage(QWizardPage):
    def __init__(self, overviews: list[StoreOverview], preselected: set[str]) -> None:
        super().__init__()
        self.setTitle("Which stores?")
        self.setSubTitle("Tick the stores to back up. Stores of different types are backed up at the same time.")
        self.overviews = overviews
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("backupStores")
        self.tree.setHeaderLabels(["Store", "Path", "Last good backup"])  # the main window's words and times
        self.tree.setColumnWidth(0, 200)
        self.tree.setColumnWidth(1, 300)
        groups: dict[str, QTreeWidgetItem] = {}
        for overview in overviews:
            store = overview.store
            group = groups.get(store.type)
            if group is None:
                group = groups[store.type] = QTreeWidgetItem(self.tree, [f"{store.type} stores"])
                group.setFlags(group.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                group.setExpanded(True)
            latest = overview.latest_set
            item = QTreeWidgetItem(group, [store.name, shown_location(store.type, store.path),
                                           f"{human_time(latest.created)} ({latest.kind})" if latest else "never"])
            item.setData(0, STORE_ROLE, store)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if store.name in preselected else Qt.CheckState.Unchecked)
        self.tree.itemChanged.connect(lambda *_: self.completeChanged.emit())
        self.empty = QLabel("There are no stores yet: close this wizard and add one with “Add store…”.", self)
        self.empty.setVisible(not overviews)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(self.empty)

    def items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(g).child(c) for g in range(self.tree.topLevelItemCount())
                for c in range(self.tree.topLevelItem(g).childCount())]

    def set_checked(self, names: set[str]) -> None:
        for item in self.items():
            item.setCheckState(0, Qt.CheckState.Checked if item.data(0, STORE_ROLE).name in names
                               else Qt.CheckState.Unchecked)

    def chosen(self) -> list[Store]:
        return [item.data(0, STORE_ROLE) for item in self.items() if item.checkState(0) == Qt.CheckState.Checked]

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return bool(self.chosen())


class DestinationPage(QWizardPage):
    def __init__(self, default_target: Path) -> None:
        super().__init__()
        self.setTitle("Where to?")
        self.setSubTitle("Each store gets its own folder below the target; every set is one .tar.zst file.")
        self.default_target = default_target
        self.choice = FolderChoice(f"The default target: {default_target}", "Another folder:",
                                   "Choose the backup target", self)
        self.use_default, self.use_other, self.picker = self.choice.usual, self.choice.other, self.choice.picker
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.choice.changed.connect(self._changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self._changed()

    def target(self) -> Path:
        return self.choice.folder() or self.default_target

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        self._changed()

    def _changed(self) -> None:
        problem = self.choice.problem()
        if problem:
            self.note.setText(problem)
        else:
            self.note.setText(f"{free_space_text(str(self.target()))}{self._last_size()}")
        self.completeChanged.emit()

    def _last_size(self) -> str:
        wizard = self.wizard()
        if wizard is None:
            return ""
        chosen = {store.name for store in wizard.stores_page.chosen()}
        sizes = [o.size for o in wizard.stores_page.overviews if o.store.name in chosen and o.size is not None]
        if not sizes:
            return ""
        return (f"; the chosen stores held {human_bytes(sum(sizes))} at their last backup "
                "(before compression)")

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return not self.choice.problem()


class OptionsPage(QWizardPage):
    def __init__(self, level: int, verify: bool) -> None:
        super().__init__()
        self.setTitle("How?")
        self.setSubTitle("A full set stands alone; an incremental one is small and fast and restores just the same.")
        self.full = QRadioButton("Full: a complete, self-contained set", self)
        self.full.setObjectName("fullBackup")
        self.incremental = QRadioButton("Incremental: only what changed since the latest set "
                                        "(for SQLite, the changed pages)", self)
        self.incremental.setObjectName("incrementalBackup")
        self.full.setChecked(True)
        self.verify = QCheckBox("Verify the set after writing it (reads back every byte)", self)
        self.verify.setObjectName("verifyAfter")
        self.verify.setChecked(verify)
        self.level = QSpinBox(self)
        self.level.setObjectName("compressionLevel")
        self.level.setRange(1, 22)
        self.level.setValue(level)
        self.level.setToolTip("zstd level: 1 is fastest, 22 is smallest; 3 suits most data")
        self.level.setMaximumWidth(80)
        form = QFormLayout()
        form.addRow("Compression level (1 fastest … 22 smallest):", self.level)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        layout = QVBoxLayout(self)
        layout.addWidget(self.full)
        layout.addWidget(self.incremental)
        layout.addSpacing(8)
        layout.addWidget(self.verify)
        layout.addLayout(form)
        layout.addStretch(1)


class SummaryPage(QWizardPage):
    def __init__(self, statuses) -> None:
        super().__init__()
        self.setTitle("Ready to back up")
        self.setSubTitle("Start backup launches every job at once; each set is verified and recorded only when complete. "
                         "Or save it as a plan that runs on a schedule.")
        self.statuses = statuses
        self.text = QTextBrowser(self)
        self.text.setObjectName("backupSummary")
        self.now = QRadioButton("Start now", self)
        self.now.setObjectName("startNow")
        self.now.setChecked(True)
        self.as_plan = QRadioButton("Save as a plan that runs by itself:", self)
        self.as_plan.setObjectName("saveAsPlan")
        self.plan_name = QLineEdit(self)
        self.plan_name.setObjectName("wizardPlanName")
        self.plan_name.setPlaceholderText("plan name, e.g. nightly")
        self.schedule = ScheduleEditor(self)
        self.full_every = QSpinBox(self)
        self.full_every.setObjectName("wizardFullEvery")
        self.full_every.setRange(1, 365)
        self.full_every.setValue(DEFAULT_FULL_EVERY)
        self.full_every.setMaximumWidth(120)
        self.full_every.setSuffix(" runs")
        self.full_every.setToolTip("the other runs take incremental sets (when Full was chosen, every set is full)")
        self.plan_error = QLabel(self)
        self.plan_error.setObjectName("wizardPlanError")
        self.plan_error.setWordWrap(True)
        self.plan_error.setStyleSheet("color: #c62828;")
        self.plan_error.hide()
        self.plan_box = QWidget(self)
        plan_form = QFormLayout(self.plan_box)
        plan_form.setContentsMargins(24, 0, 0, 0)
        plan_form.addRow("Name:", self.plan_name)
        plan_form.addRow("Runs:", self.schedule)
        plan_form.addRow("Full set every:", self.full_every)
        self.plan_box.setEnabled(False)
        self.as_plan.toggled.connect(self._mode_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.now)
        layout.addWidget(self.as_plan)
        layout.addWidget(self.plan_box)
        layout.addWidget(self.plan_error)

    def _mode_changed(self, as_plan: bool) -> None:
        self.plan_box.setEnabled(as_plan)
        self.plan_error.hide()
        self.wizard().setButtonText(QWizard.WizardButton.FinishButton, "Save plan" if as_plan else "Start backup")

    def plan(self) -> Plan:
        wizard: BackupWizard = self.wizard()
        options = wizard.options()
        full_every = 1 if not options.incremental else self.full_every.value()
        target = wizard.destination_page.choice.folder()
        return Plan(name=self.plan_name.text().strip(), stores=tuple(store.name for store in
                                                                      wizard.stores_page.chosen()),
                    schedule=self.schedule.text(), full_every=full_every, level=options.level,
                    verify=options.verify, target=str(Path(target).absolute()) if target else None)

    def validatePage(self) -> bool:  # noqa: N802 (Qt naming)
        """Save the plan (when that is the choice); a refusal is shown here and the wizard stays open."""
        if not self.as_plan.isChecked():
            return True
        wizard: BackupWizard = self.wizard()
        problem = self.schedule.problem()
        if not problem:
            try:
                wizard.saved_plan = PlanBook(wizard.engine.catalog).add(self.plan())
                return True
            except EXPECTED_ERRORS as error:
                problem = error_text(error)
        self.plan_error.setText(problem)
        self.plan_error.show()
        return False

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard: BackupWizard = self.wizard()
        stores = wizard.stores_page.chosen()
        options = wizard.options()
        kind = "incremental" if options.incremental else "full"
        lines = [f"<p><b>{len(stores)} backup job{'s' if len(stores) != 1 else ''}</b> into "
                 f"<code>{html.escape(str(options.target))}</code>, {kind}, compression level {options.level}, "
                 f"{'verified after writing' if options.verify else 'not verified'}.</p><ul>"]
        for store in stores:
            set_kind = kind if driver_for(store.type).incremental else "full"
            lines.append(f"<li><b>{html.escape(store.name)}</b> ({store.type}, <code>{html.escape(store.path)}"
                         f"</code>) → {set_kind} set in <code>{html.escape(str(options.target / store.name))}</code></li>")
        lines.append("</ul><p><b>Order</b></p><ul>")
        lines.extend(order_items(stores, self.statuses()))
        lines.append("</ul>")
        self.text.setHtml("".join(lines))


class BackupWizard(QWizard):
    """Gathers what to back up; ``jobs()`` gives the (store, options) pairs to start."""

    def __init__(self, engine: Engine, statuses=lambda: [], preselected: set[str] | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("backupWizard")
        self.setWindowTitle("Back up stores")
        self.engine = engine
        self.saved_plan: Plan | None = None  # set when Finish saved a plan instead of starting jobs
        settings = engine.settings
        self.stores_page = StoresPage(store_overviews(engine.catalog), preselected or set())
        self.destination_page = DestinationPage(engine.default_target)
        self.options_page = OptionsPage(settings.compression_level, settings.verify_after_backup)
        self.summary_page = SummaryPage(statuses)
        for page in (self.stores_page, self.destination_page, self.options_page, self.summary_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start backup")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(760, 640)

    def options(self) -> BackupOptions:
        return BackupOptions(incremental=self.options_page.incremental.isChecked(),
                             target=self.destination_page.target(), verify=self.options_page.verify.isChecked(),
                             level=self.options_page.level.value())

    def jobs(self) -> list[tuple[str, BackupOptions]]:
        options = self.options()
        return [(store.name, options) for store in self.stores_page.chosen()]
