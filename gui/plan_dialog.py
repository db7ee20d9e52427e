"""Make or change a plan: its stores, schedule, cadence, options and exclude patterns.

Save goes through the same PlanBook as ``strongroom plan add``, so the dialog refuses
what the CLI refuses, with the same message, shown under the fields.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QSpinBox, QVBoxLayout, QWidget)

from ..core.engine import Engine
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.stores import shown_location
from ..core.plans.plan import DEFAULT_FULL_EVERY, Plan
from ..core.plans.plan_book import PlanBook
from .messages import error_text
from .schedule_editor import ScheduleEditor
from .wizards.target_picker import FolderChoice


class PlanDialog(QDialog):
    def __init__(self, engine: Engine, plan: Plan | None = None, parent: QWidget | None = None, *,
                 stores: set[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planDialog")
        self.setWindowTitle(f"Edit plan {plan.name}" if plan else "New plan")
        self.engine = engine
        self.book = PlanBook(engine.catalog)
        self.editing = plan
        self.saved: Plan | None = None
        self.name = QLineEdit(self)
        self.name.setObjectName("planName")
        self.name.setPlaceholderText("e.g. nightly, hourly-mail")
        self.stores = QListWidget(self)
        self.stores.setObjectName("planStores")
        self.stores.setMaximumHeight(110)
        chosen = set(plan.stores) if plan else (stores or set())
        for store in engine.catalog.list_stores():
            where = shown_location(store.type, store.path)
            item = QListWidgetItem(f"{store.name}  ({store.type}, {where})", self.stores)
            item.setData(Qt.ItemDataRole.UserRole, store.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if store.name in chosen else Qt.CheckState.Unchecked)
        self.schedule = ScheduleEditor(self)
        self.full_every = QSpinBox(self)
        self.full_every.setObjectName("planFullEvery")
        self.full_every.setRange(1, 365)
        self.full_every.setValue(plan.full_every if plan else DEFAULT_FULL_EVERY)
        self.full_every.setToolTip("1 takes only full sets")
        self.full_every.setMaximumWidth(80)
        self.verify = QCheckBox("Verify each set after writing it", self)
        self.verify.setChecked(plan.verify if plan else engine.settings.verify_after_backup)
        self.target = FolderChoice(f"The default target: {engine.default_target}", "Another folder:",
                                   "Choose the plan's target", self)
        self.excludes = QPlainTextEdit(self)
        self.excludes.setObjectName("planExcludes")
        self.excludes.setPlaceholderText("one gitignore-style pattern a line, e.g. *.tmp or build/")
        self.excludes.setMaximumHeight(70)
        self.exclude_caches = QCheckBox("Leave out folders holding a CACHEDIR.TAG", self)
        self.enabled = QCheckBox("Run on this schedule (untick to keep the plan but not run it)", self)
        self.enabled.setChecked(True)
        self.error = QLabel(self)
        self.error.setObjectName("planError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.addRow("&Name:", self.name)
        form.addRow("&Stores:", self.stores)
        form.addRow("S&chedule:", self.schedule)
        form.addRow("&Full set every:", self._suffixed(self.full_every, "runs of a store; the others are "
                                                                        "incremental"))
        form.addRow("", self.verify)
        form.addRow("&Target:", self.target)
        form.addRow("&Leave out:", self.excludes)
        form.addRow("", self.exclude_caches)
        form.addRow("", self.enabled)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save plan")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if plan is not None:
            self.name.setText(plan.name)
            self.name.setReadOnly(True)
            self.schedule.set_expression(plan.schedule)
            self.excludes.setPlainText("\n".join(plan.excludes))
            self.exclude_caches.setChecked(plan.exclude_caches)
            self.enabled.setChecked(plan.enabled)
            if plan.target:
                self.target.other.setChecked(True)
                self.target.picker.setText(plan.target)
        self.resize(640, 560)

    def _suffixed(self, spin: QSpinBox, text: str) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(spin)
        row.addWidget(QLabel(text, box), 1)
        return box

    def chosen_stores(self) -> tuple[str, ...]:
        return tuple(self.stores.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.stores.count())
                     if self.stores.item(row).checkState() == Qt.CheckState.Checked)

    def plan(self) -> Plan:
        """The plan as the fields say (not yet checked)."""
        target = self.target.folder()
        values = dict(name=self.name.text().strip(), stores=self.chosen_stores(), schedule=self.schedule.text(),
                      full_every=self.full_every.value(), verify=self.verify.isChecked(),
                      target=str(Path(target).absolute()) if target else None,
                      excludes=tuple(line.strip() for line in self.excludes.toPlainText().splitlines()
                                     if line.strip()),
                      exclude_caches=self.exclude_caches.isChecked(), enabled=self.enabled.isChecked())
        return replace(self.editing, **values) if self.editing else Plan(**values)

    def accept(self) -> None:
        problem = self.schedule.problem() or self.target.problem()
        if not problem and not self.chosen_stores():
            problem = "tick at least one store"
        if problem:
            self._show(problem)
            return
        try:
            self.saved = self.book.replace(self.plan()) if self.editing else self.book.add(self.plan())
        except EXPECTED_ERRORS as error:
            self._show(error_text(error))
            return
        super().accept()

    def _show(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
