"""The restore wizard for several stores at once: stores and moment → destination → summary → one job each.

After losing a machine an administrator wants everything back as it was at one moment,
not store after store. Each ticked store comes back from its newest set taken by then
whose verify has not failed (``core.restore.several`` picks it, and says when it passed
a damaged one over); under another folder each store gets a folder named after it. The
summary is every store's own restore plan, what the file systems receive together, and
which jobs run at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDateTimeEdit, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QRadioButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWizard, QWizardPage)

from ...core.catalog import Store
from ...core.engine import Engine
from ...core.expected_errors import EXPECTED_ERRORS
from ...core.restore import RestoreOptions, RestorePlan, build_plan
from ...core.restore.plan import CREATE, KEEP, REPLACE
from ...core.restore.several import StorePick, is_database_store, options_for, pick_sets, shortfalls
from ...core.stores import driver_for
from ...core.units import counted, human_bytes, human_time
from ..background import BackgroundCall
from ..icons import state_icon
from ..messages import error_text
from .database_restore import DATABASE_POLICY_TEXT, database_outcome
from .job_order import order_items
from .restore_items_page import ERROR_STYLE
from .restore_wizard import POLICY_TEXT
from .target_picker import FolderChoice

LINES_PER_STORE = 200
PICK_ROLE = Qt.ItemDataRole.UserRole + 1
TAKEN, NOTE = 2, 4  # the picks tree's columns


@dataclass(frozen=True)
class StoreRestore:
    """One store's restore as the summary worked it out: a plan, a database's sentence, or why it cannot run."""

    pick: StorePick
    options: RestoreOptions
    plan: object = None  # RestorePlan, or for a database (into which database, what happens there)
    problem: str = ""


class PicksPage(QWizardPage):
    def __init__(self, engine: Engine, preselected: set[str]) -> None:
        super().__init__()
        self.engine = engine
        self.setTitle("Restore which stores, and as of when?")
        self.setSubTitle("Each store comes back from its newest set taken by then whose verify has not failed. "
                         "Removed stores are listed too, by their sets.")
        self.newest = QRadioButton("Each store's newest good set", self)
        self.as_of = QRadioButton("As each store was at:", self)
        self.newest.setChecked(True)
        moments = QButtonGroup(self)
        moments.addButton(self.newest)
        moments.addButton(self.as_of)
        self.moment = QDateTimeEdit(QDateTime.currentDateTime(), self)
        self.moment.setObjectName("severalMoment")
        self.moment.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.moment.setCalendarPopup(True)
        self.moment.setEnabled(False)
        self.as_of.toggled.connect(self.moment.setEnabled)
        self.as_of.toggled.connect(self.refresh)
        self.moment.dateTimeChanged.connect(self.refresh)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("severalStores")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(["Store", "Type", "Restores the set taken", "Size", "Note"])
        self.tree.itemChanged.connect(lambda *_: self.completeChanged.emit())
        self.notes = QLabel(self)
        self.notes.setObjectName("severalNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #b26a00;")
        self.stores = self._stores()
        self.ticked = set(preselected) if preselected else {store.name for store in self.stores}
        when = QHBoxLayout()
        when.addWidget(self.newest)
        when.addSpacing(16)
        when.addWidget(self.as_of)
        when.addWidget(self.moment)
        when.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(when)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.notes)
        self.refresh()

    def _stores(self) -> list[Store]:
        """Every registered store, and removed ones known only by their sets (their path is read later)."""
        catalog = self.engine.catalog
        registered = {store.name: store for store in catalog.list_stores()}
        types = {record.store: record.store_type for record in catalog.list_sets()}
        return [registered.get(name) or Store(name, types[name], "", "") for name in sorted(set(registered) | set(types))]

    def before(self) -> datetime | None:
        return self.moment.dateTime().toPython().astimezone() if self.as_of.isChecked() else None

    def refresh(self, *_) -> None:
        if self.tree.topLevelItemCount():
            self.ticked = {pick.store.name for pick in self.chosen()}
        self.tree.blockSignals(True)
        self.tree.clear()
        notes = []
        for pick in pick_sets(self.engine.catalog, self.stores, self.before()):
            store, record = pick.store, pick.record
            short = "newest set damaged: an older one" if pick.note else pick.problem
            item = QTreeWidgetItem(self.tree, [
                store.name, store.type, human_time(record.created) if record else "—",
                human_bytes(record.size_of_store) if record else "", short])
            item.setData(0, PICK_ROLE, pick)
            item.setToolTip(0, store.path or "a removed store: restored to where its set says it was")
            if record is not None:
                item.setToolTip(TAKEN, f"set {record.id}")
            item.setToolTip(NOTE, pick.note or pick.problem)
            if record is None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setForeground(NOTE, QBrush(QColor("#c62828")))
                continue
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = store.name in self.ticked
            item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            if pick.note:
                item.setIcon(NOTE, state_icon("warning"))
                notes.append(f"{store.name}: {pick.note}.")
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        for column in range(NOTE):
            self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self.completeChanged.emit()

    def chosen(self) -> list[StorePick]:
        picks = []
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            pick = item.data(0, PICK_ROLE)
            if pick.record is not None and item.checkState(0) == Qt.CheckState.Checked:
                picks.append(pick)
        return picks

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return bool(self.chosen())


class PlacesPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Where to, and what about what is already there?")
        self.setSubTitle("Nothing is overwritten unless a policy below allows it.")
        self.choice = FolderChoice("The original locations", "Another folder (each store lands in a folder "
                                   "named after it):", "Choose where to restore", self)
        self.choice.changed.connect(self._changed)
        self.files = True  # some ticked store restores as files (set when the page opens)
        self.problem = QLabel(self)
        self.problem.setStyleSheet(ERROR_STYLE)
        self.policy = _policy_box(POLICY_TEXT, "severalPolicy", self)
        self.new_databases = QRadioButton("New databases beside the originals, named after each set's time "
                                          "(e.g. crm_20261201_2300)", self)
        self.new_databases.setObjectName("severalNewDatabases")
        self.own_databases = QRadioButton("Their own databases", self)
        self.new_databases.setChecked(True)
        databases = QButtonGroup(self)
        databases.addButton(self.new_databases)
        databases.addButton(self.own_databases)
        self.database_policy = _policy_box(DATABASE_POLICY_TEXT, "severalDatabasePolicy", self)
        self.form = QFormLayout()
        self.form.addRow("Overwrite existing files:", self.policy)
        self.form.addRow("Database stores go into:", self.new_databases)
        self.form.addRow("", self.own_databases)
        self.form.addRow("If a database exists:", self.database_policy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(self.problem)
        layout.addSpacing(8)
        layout.addLayout(self.form)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        picks = self.wizard().picks_page.chosen()
        databases = any(is_database_store(pick.store) for pick in picks)
        files = any(not is_database_store(pick.store) for pick in picks)
        self.files = files
        self.choice.setVisible(files)
        self.form.setRowVisible(self.policy, files)
        for widget in (self.new_databases, self.own_databases, self.database_policy):
            self.form.setRowVisible(widget, databases)
        self._changed()

    def folder(self) -> Path | None:
        return self.choice.folder() if self.files else None

    def _changed(self) -> None:
        self.problem.setText(self.choice.problem() if self.files else "")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return not self.problem.text()


def _policy_box(texts: dict[str, str], name: str, parent) -> QComboBox:
    box = QComboBox(parent)
    box.setObjectName(name)
    for policy, text in texts.items():
        box.addItem(text, policy)
    return box


class SummaryPage(QWizardPage):
    def __init__(self, statuses) -> None:
        super().__init__()
        self.setTitle("Ready to restore")
        self.setSubTitle("Exactly what Start restores will do: one job per store, all started at once.")
        self.statuses = statuses
        self.restores: list[StoreRestore] | None = None
        self.problems: list[str] = []
        self.headline = QLabel(self)
        self.headline.setObjectName("severalHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.order = QLabel(self)
        self.order.setObjectName("severalOrder")
        self.order.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("severalSummary")
        self.tree.setHeaderLabels(["Store", "Into (open a store for where each item lands)", "Items",
                                   "To write"])
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its start and its end
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        self.planner = BackgroundCall(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.order)
        layout.addWidget(self.tree, 1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard: SeveralRestoreWizard = self.wizard()
        self.restores, self.problems = None, []
        self.headline.setStyleSheet("")
        self.headline.setText("Working out where every item lands…")
        self.tree.clear()
        picks = wizard.picks_page.chosen()
        places = wizard.places_page
        choices = {"folder": places.folder(), "new_databases": places.new_databases.isChecked(),
                   "overwrite": places.policy.currentData(), "database_overwrite": places.database_policy.currentData()}
        self.order.setText("<ul>" + "".join(order_items([pick.store for pick in picks], self.statuses())) + "</ul>")
        self.planner.run(lambda: _work_out(wizard.engine, picks, choices), self._planned)
        self.completeChanged.emit()

    def _planned(self, restores: list[StoreRestore], error: str | None) -> None:
        if error:
            self.headline.setStyleSheet(ERROR_STYLE)
            self.headline.setText(f"These restores cannot run: {error}")
            return
        self.restores = restores
        self.problems = shortfalls(restore.plan for restore in restores if isinstance(restore.plan, RestorePlan))
        failing = [restore.pick.store.name for restore in restores if restore.problem]
        for restore in restores:
            self._add(restore)
        to_write = sum(restore.plan.bytes_to_write for restore in restores
                       if isinstance(restore.plan, RestorePlan))
        text = f"Restore {counted(len(restores), 'store')} at once; {human_bytes(to_write)} of files to write."
        if failing:
            text += (f"\n{', '.join(failing)} cannot be restored as chosen (see below): go Back and untick "
                     f"{'it' if len(failing) == 1 else 'them'}, or choose another destination or policy.")
        for problem in self.problems:
            text += f"\nThis does not fit: {problem}."
        for restore in restores:
            if restore.pick.note:
                text += f"\n{restore.pick.store.name}: {restore.pick.note}."
        self.headline.setStyleSheet(ERROR_STYLE if failing or self.problems else "")
        self.headline.setText(text)
        self.completeChanged.emit()

    def _add(self, restore: StoreRestore) -> None:
        pick = restore.pick
        plan = restore.plan
        if restore.problem:
            row = ["", f"cannot run — {restore.problem}", ""]
        elif isinstance(plan, RestorePlan):
            row = [str(plan.root), f"{plan.count(CREATE)} created, {plan.count(REPLACE)} overwritten, "
                   f"{plan.count(KEEP)} kept as they are", human_bytes(plan.bytes_to_write)]
        else:
            into, what = plan
            row = [into, what, f"{human_bytes(pick.record.bytes)} of dump"]
        item = QTreeWidgetItem(self.tree, [pick.store.name, *row])
        taken = f"set {pick.record.id}, taken {human_time(pick.record.created)}"
        item.setToolTip(0, f"{taken}. {pick.note}." if pick.note else taken)
        for column in (1, 2):
            item.setToolTip(column, item.text(column))
        if restore.problem:
            item.setIcon(0, state_icon("failed"))
            item.setForeground(2, QBrush(QColor("#c62828")))
        elif pick.note:
            item.setIcon(0, state_icon("warning"))
        if isinstance(plan, RestorePlan):
            lines = list(plan.lines(LINES_PER_STORE))
            if len(plan) > len(lines):
                lines.append(f"… and {len(plan) - len(lines)} more")
            for line in lines:
                QTreeWidgetItem(item, [line]).setFirstColumnSpanned(True)  # a whole line: where one item lands

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return (self.restores is not None and not self.problems
                and not any(restore.problem for restore in self.restores))


def _work_out(engine: Engine, picks: list[StorePick], choices: dict) -> list[StoreRestore]:
    """Every picked store's restore plan (off the GUI thread); a store that cannot be restored says why."""
    restores = []
    for pick in picks:
        try:
            pick = replace(pick, store=engine.restorable_store(pick.store.name))  # a removed store's path, from its set
            options = options_for(pick, **choices)
            if is_database_store(pick.store):
                plan = database_outcome(pick.store, pick.record, options)
            else:
                plan = build_plan(engine.load_manifest(pick.record), driver_for(pick.store.type),
                                  Path(pick.store.path), options)
            restores.append(StoreRestore(pick, options, plan))
        except EXPECTED_ERRORS as error:
            restores.append(StoreRestore(pick, RestoreOptions(), problem=error_text(error)))
    return restores


class SeveralRestoreWizard(QWizard):
    """Gathers a restore of several stores; ``requests()`` gives one (store, set id, options, note) per job."""

    def __init__(self, engine: Engine, statuses=lambda: [], preselected: set[str] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("severalRestoreWizard")
        self.setWindowTitle("Restore several stores")
        self.engine = engine
        self.picks_page = PicksPage(engine, preselected or set())
        self.places_page = PlacesPage()
        self.summary_page = SummaryPage(statuses)
        for page in (self.picks_page, self.places_page, self.summary_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start restores")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(900, 600)

    def requests(self) -> list[tuple[str, str, RestoreOptions, str]]:
        return [(restore.pick.store.name, restore.pick.record.id, restore.options, restore.pick.note)
                for restore in self.summary_page.restores or []]

