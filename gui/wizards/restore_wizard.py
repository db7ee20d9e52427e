"""The restore wizard: store → set → items → destination and policy → summary → restore job.

The set's contents come from its manifest, read and turned into a tree off the GUI
thread. The summary is the restore's own plan (what a dry run prints): every exact
destination path and how many existing files would be overwritten, so nobody is
surprised by where files land.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPlainTextEdit, QRadioButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWizard, QWizardPage)

from ...core.catalog import CatalogError, SetRecord, Store
from ...core.engine import Engine
from ...core.restore import RestoreOptions, build_plan
from ...core.restore.plan import CREATE, KEEP, REPLACE
from ...core.restore.several import is_database_store, shortfalls
from ...core.stores import driver_for
from ...core.units import counted, human_bytes, human_time
from ..background import BackgroundCall
from ..icons import state_icon
from .database_restore import DATABASE_POLICY_TEXT, database_summary
from .restore_items_page import ERROR_STYLE, ItemsPage
from .target_picker import FolderChoice, free_space_text

MAX_SUMMARY_LINES = 2000
VERIFIED = 5  # the set list's column
POLICY_TEXT = {
    "never": "never: existing files are kept as they are (safest)",
    "if-older": "if older: replace an existing file only when it is older than the one in the set",
    "always": "always: replace existing files with the set's version",
}



class StorePage(QWizardPage):
    def __init__(self, engine: Engine, preselected: str | None) -> None:
        super().__init__()
        self.setTitle("Restore which store?")
        self.setSubTitle("Stores that were removed are listed too, as long as their sets exist.")
        self.list = QListWidget(self)
        self.list.setObjectName("restoreStores")
        registered = {store.name: store for store in engine.catalog.list_stores()}
        with_sets: dict[str, int] = {}
        for record in engine.catalog.list_sets():
            with_sets[record.store] = with_sets.get(record.store, 0) + 1
        for name in sorted(set(registered) | set(with_sets)):
            store = registered.get(name)
            count = with_sets.get(name, 0)
            label = f"{name} — {store.type} — {store.path}" if store else f"{name} — removed store"
            label += f"  ({count} set{'s' if count != 1 else ''})" if count else "  (no backup set yet)"
            item = QListWidgetItem(label, self.list)
            item.setData(Qt.ItemDataRole.UserRole, name)
            if not count:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            if name == preselected and count:
                self.list.setCurrentItem(item)
        self.list.currentItemChanged.connect(lambda *_: self.completeChanged.emit())
        self.empty = QLabel("Nothing to restore yet: no store has a backup set. Back one up first.", self)
        self.empty.setVisible(not with_sets)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)

    def store_name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return self.store_name() is not None


class SetPage(QWizardPage):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.setTitle("Which point in time?")
        self.setSubTitle("Every set restores the store as it was when the set was taken, incremental ones included.")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("restoreSets")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(["Taken", "Kind", "Files", "Size", "Stored", "Verified", "Set"])
        self.tree.currentItemChanged.connect(self._current_changed)
        self.damage = QLabel(self)
        self.damage.setObjectName("setDamage")
        self.damage.setWordWrap(True)
        self.damage.setStyleSheet(ERROR_STYLE)
        self.allow_damaged = QCheckBox("Restore this damaged set anyway (what comes back may be wrong or incomplete)",
                                       self)
        self.allow_damaged.setObjectName("allowDamaged")
        self.allow_damaged.toggled.connect(lambda *_: self.completeChanged.emit())
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(self.damage)
        layout.addWidget(self.allow_damaged)
        self._current_changed()

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        self.tree.clear()
        name = self.wizard().store_page.store_name()
        catalog = self.engine.catalog
        for record in reversed(catalog.list_sets(name)):
            changed = " changed" if record.kind == "incremental" else ""
            damaged = catalog.damaged_in_chain(record)
            verified = ("DAMAGED" if damaged.id == record.id else "stands on a damaged set") if damaged \
                else human_time(record.verified) if record.verified else "not verified"
            item = QTreeWidgetItem(self.tree, [
                human_time(record.created), record.kind, f"{record.files}{changed}", human_bytes(record.size_of_store),
                human_bytes(record.stored_bytes), verified, record.id])
            item.setData(0, Qt.ItemDataRole.UserRole, record)
            item.setData(1, Qt.ItemDataRole.UserRole, damaged)
            if damaged is not None:
                item.setIcon(VERIFIED, state_icon("failed"))
                item.setForeground(VERIFIED, QBrush(QColor("#c62828")))
                which = "its" if damaged.id == record.id else f"it stands on set {damaged.id}, whose"
                item.setToolTip(VERIFIED, f"{which} last verify failed: {damaged.damaged}")
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)

    def record(self) -> SetRecord | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def damaged(self) -> SetRecord | None:
        """The set whose verify failed among the chosen one and those it stands on."""
        item = self.tree.currentItem()
        return item.data(1, Qt.ItemDataRole.UserRole) if item is not None else None

    def _current_changed(self, *_) -> None:
        damaged = self.damaged()
        if damaged is not None:
            record = self.record()
            which = "This set" if damaged.id == record.id else f"This set stands on set {damaged.id}, which"
            self.damage.setText(f"{which} failed its last verify ({damaged.damaged}). Choose another set, verify it "
                                "again from the Sets view, or tick below to restore it anyway.")
        self.allow_damaged.setChecked(False)
        self.damage.setVisible(damaged is not None)
        self.allow_damaged.setVisible(damaged is not None)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return self.record() is not None and (self.damaged() is None or self.allow_damaged.isChecked())


class DestinationPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Where to, and what about existing files?")
        self.setSubTitle("Nothing is overwritten unless the policy below allows it.")
        self.choice = FolderChoice("", "Another folder (paths land relative to it):", "Choose where to restore", self)
        self.original, self.other, self.picker = self.choice.usual, self.choice.other, self.choice.picker
        self.problem = QLabel(self)
        self.problem.setStyleSheet(ERROR_STYLE)
        self.policy = QComboBox(self)
        self.policy.setObjectName("overwritePolicy")
        for policy, text in POLICY_TEXT.items():
            self.policy.addItem(text, policy)
        self.choice.changed.connect(self._changed)
        self.own_database = QRadioButton(self)
        self.own_database.setObjectName("ownDatabase")
        self.new_database = QRadioButton("A new database on the same server, named:", self)
        self.new_database.setObjectName("newDatabase")
        self.own_database.setChecked(True)
        databases = QButtonGroup(self)
        databases.addButton(self.own_database)
        databases.addButton(self.new_database)
        self.database_name = QLineEdit(self)
        self.database_name.setObjectName("newDatabaseName")
        self.database_name.setEnabled(False)
        self.new_database.toggled.connect(self.database_name.setEnabled)
        self.new_database.toggled.connect(self._changed)
        self.database_name.textChanged.connect(self._changed)
        self.database_choice = QVBoxLayout()
        for widget in (self.own_database, self.new_database, self.database_name):
            self.database_choice.addWidget(widget)
        form = QFormLayout()
        self.policy_label = QLabel("Overwrite existing files:", self)
        form.addRow(self.policy_label, self.policy)
        layout = QVBoxLayout(self)
        layout.addLayout(self.database_choice)
        layout.addWidget(self.choice)
        layout.addWidget(self.problem)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        store = self.wizard().store()
        self.database = is_database_store(store)
        self.choice.setVisible(not self.database)
        for widget in (self.own_database, self.new_database, self.database_name):
            widget.setVisible(self.database)
        texts = DATABASE_POLICY_TEXT if self.database else POLICY_TEXT
        chosen = self.policy.currentData()
        self.policy.clear()
        for policy, text in texts.items():
            self.policy.addItem(text, policy)
        self.policy.setCurrentIndex(max(0, self.policy.findData(chosen)))
        if self.database:
            location = driver_for(store.type).location(store.path)
            self.setTitle("Into which database, and what if it exists?")
            self.setSubTitle("A database that exists is replaced only when the policy below allows it.")
            self.own_database.setText(f"The store's own database: {location.database} on {location.server}")
            self.policy_label.setText("If the database exists:")
        else:
            self.setTitle("Where to, and what about existing files?")
            self.setSubTitle("Nothing is overwritten unless the policy below allows it.")
            self.original.setText(f"The original location: {store.path}")
            self.policy_label.setText("Overwrite existing files:")
        self._changed()

    def _changed(self) -> None:
        self.problem.setText(self._problem())
        self.completeChanged.emit()

    def _problem(self) -> str:
        if not getattr(self, "database", False):
            return self.choice.problem()
        if self.new_database.isChecked() and not self.database_name.text().strip():
            return "Give the new database a name."
        return ""

    def to(self) -> Path | None:
        return None if getattr(self, "database", False) else self.choice.folder()

    def to_database(self) -> str | None:
        if getattr(self, "database", False) and self.new_database.isChecked():
            return self.database_name.text().strip()
        return None

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return not self._problem()


class SummaryPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready to restore")
        self.setSubTitle("Exactly what Start restore will do; the restore runs as a job like any other.")
        self.plan = None
        self.too_big = False  # the restore needs more than the destination has free
        self.headline = QLabel(self)
        self.headline.setObjectName("restoreHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.lines = QPlainTextEdit(self)
        self.lines.setObjectName("restoreLines")
        self.lines.setReadOnly(True)
        self.lines.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.planner = BackgroundCall(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(QLabel("Where each item lands:", self))
        layout.addWidget(self.lines, 1)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        wizard: RestoreWizard = self.wizard()
        self.plan = None
        self.too_big = False
        self.headline.setStyleSheet("")
        self.headline.setText("Working out where every item lands…")
        self.lines.clear()
        manifest = wizard.items_page.manifest
        store = wizard.store()
        options = wizard.options()
        if is_database_store(store):
            self.planner.run(lambda: database_summary(store, wizard.set_page.record(), options), self._planned)
            self.completeChanged.emit()
            return

        def plan():
            return build_plan(manifest, driver_for(store.type), Path(store.path), options)

        self.planner.run(plan, self._planned)
        self.completeChanged.emit()

    def _planned(self, plan, error: str | None) -> None:
        if error:
            self.headline.setStyleSheet(ERROR_STYLE)
            self.headline.setText(f"This restore cannot run: {error}")
            return
        self.plan = plan
        wizard: RestoreWizard = self.wizard()
        if isinstance(plan, str):  # a database restore: what will happen, in words
            self.headline.setText(plan)
            self.completeChanged.emit()
            return
        created, replaced, kept = plan.count(CREATE), plan.count(REPLACE), plan.count(KEEP)
        record = wizard.set_page.record()
        self.headline.setText(
            f"Restore set {record.id} (taken {human_time(record.created)}) into {plan.root}.\n"
            f"{counted(created, 'item')} will be created, {counted(replaced, 'existing file')} will be overwritten, "
            f"{counted(kept, 'existing item')} will be kept as they are (policy: "
            f"{wizard.destination_page.policy.currentData()}). "
            f"{human_bytes(plan.bytes_to_write)} to write; {free_space_text(str(plan.root)) or 'free space unknown'}.")
        problems = shortfalls([plan])
        self.too_big = bool(problems)
        if self.too_big:
            self.headline.setStyleSheet(ERROR_STYLE)
            self.headline.setText(self.headline.text() + f"\nThis does not fit: {problems[0]}.")
        shown = list(plan.lines(MAX_SUMMARY_LINES))
        if len(plan) > len(shown):
            shown.append(f"… and {len(plan) - len(shown)} more")
        self.lines.setPlainText("\n".join(shown))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return self.plan is not None and not self.too_big


class RestoreWizard(QWizard):
    """Gathers a restore; ``request()`` gives (store name, set id, options) for the job."""

    def __init__(self, engine: Engine, preselected: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("restoreWizard")
        self.setWindowTitle("Restore a store")
        self.engine = engine
        self.store_page = StorePage(engine, preselected)
        self.set_page = SetPage(engine)
        self.items_page = ItemsPage(engine)
        self.destination_page = DestinationPage()
        self.summary_page = SummaryPage()
        for page in (self.store_page, self.set_page, self.items_page, self.destination_page, self.summary_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start restore")
        self.resize(820, 580)

    def store(self) -> Store:
        """The registered store, or for a removed one what its set's manifest says it was."""
        name = self.store_page.store_name()
        try:
            return self.engine.store(name)
        except CatalogError:
            manifest = self.items_page.manifest
            return Store(name, manifest.store_type, manifest.source, manifest.created)

    def options(self) -> RestoreOptions:
        return RestoreOptions(to=self.destination_page.to(), overwrite=self.destination_page.policy.currentData(),
                              paths=self.items_page.paths(), to_database=self.destination_page.to_database(),
                              allow_damaged=self.set_page.damaged() is not None)

    def request(self) -> tuple[str, str, RestoreOptions]:
        return self.store_page.store_name(), self.set_page.record().id, self.options()
