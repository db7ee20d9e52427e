"""The Plans section: who runs the schedule, each plan with its next and last runs, and what to do with it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.plans.overview import PlanOverview
from .models.plans_model import STORES, PlansModel
from .models.table_model import row_table


class PlansView(QWidget):
    new_requested = Signal()
    edit_requested = Signal(object)  # Plan
    run_requested = Signal(object)  # Plan
    enable_requested = Signal(object, bool)  # Plan, enabled
    remove_requested = Signal(object)  # Plan

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.charge = QLabel("Looking for an agent…", self)
        self.charge.setObjectName("scheduleCharge")
        self.charge.setWordWrap(True)
        self.model = PlansModel(self)
        self.table = row_table(self.model, "plansTable", self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STORES, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self._emit(self.edit_requested))
        self.problems = QLabel(self)
        self.problems.setObjectName("planProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c62828;")
        self.problems.hide()
        self.new_button = QPushButton("New plan…", self)
        self.new_button.setObjectName("newPlan")
        self.edit_button = QPushButton("Edit…", self)
        self.toggle_button = QPushButton("Disable", self)
        self.toggle_button.setObjectName("togglePlan")
        self.remove_button = QPushButton("Remove…", self)
        self.run_button = QPushButton("Run now", self)
        self.run_button.setObjectName("runPlan")
        self.new_button.clicked.connect(self.new_requested)
        self.edit_button.clicked.connect(lambda: self._emit(self.edit_requested))
        self.remove_button.clicked.connect(lambda: self._emit(self.remove_requested))
        self.run_button.clicked.connect(lambda: self._emit(self.run_requested))
        self.toggle_button.clicked.connect(self._toggle)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.toggle_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.charge)
        layout.addWidget(self.table)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        self._selection_changed()

    def set_overviews(self, overviews: list[PlanOverview], problems: list[str]) -> None:
        chosen = self.selected()
        name = chosen.plan.name if chosen else None
        self.model.set_overviews(overviews)
        for row in range(self.model.rowCount()):
            if self.model.overview_at(row).plan.name == name:
                self.table.selectRow(row)
        self.problems.setText("\n".join(f"Not run: {problem}" for problem in problems))
        self.problems.setVisible(bool(problems))
        self._selection_changed()

    def set_charge(self, text: str) -> None:
        self.charge.setText(text)

    def selected(self) -> PlanOverview | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.overview_at(rows[0].row()) if rows else None

    def _emit(self, signal) -> None:
        chosen = self.selected()
        if chosen is not None:
            signal.emit(chosen.plan)

    def _toggle(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.enable_requested.emit(chosen.plan, not chosen.plan.enabled)

    def _selection_changed(self, *_args) -> None:
        chosen = self.selected()
        for button in (self.edit_button, self.toggle_button, self.remove_button, self.run_button):
            button.setEnabled(chosen is not None)
        self.toggle_button.setText("Enable" if chosen is not None and not chosen.plan.enabled else "Disable")
        self.run_button.setEnabled(chosen is not None and not chosen.running)
