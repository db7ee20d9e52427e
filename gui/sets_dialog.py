"""A store's sets: every set with its time, kind, size, chain and state; Delete with the chain rules,
Verify all, and a retention editor that previews which sets a policy keeps before it is saved.

Deleting goes through the same code as ``strongroom sets delete`` (prune mutex, the catalog
first, a set being read left alone); the preview through the same choice as ``prune``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ..core.catalog import SetRecord
from ..core.engine import Engine
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.plans.plan_book import PlanBook
from ..core.retention.policy import RULES, RetentionError, RetentionPolicy
from ..core.retention.prune import holding_prune_mutex
from ..core.retention.removal import remove_sets
from ..core.retention.select import choose, dependents
from ..core.units import counted, human_bytes, human_time
from .icons import state_icon
from .messages import ask, error_text

COLUMNS = ("Created", "Kind", "Stored", "Files", "Stands on", "State", "Made by", "The policy would")
CREATED, KIND, STORED, FILES, PARENT, STATE, MADE_BY, WOULD = range(len(COLUMNS))


class SetsDialog(QDialog):
    verify_requested = Signal(list)  # set ids
    changed = Signal()  # sets were deleted or the policy saved

    def __init__(self, engine: Engine, store: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setsDialog")
        self.setWindowTitle(f"Sets of {store}")
        self.engine = engine
        self.store = store
        self.records: list[SetRecord] = []
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("setsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.delete_button = QPushButton("Delete…", self)
        self.delete_button.setObjectName("deleteSet")
        self.verify_button = QPushButton("Verify all", self)
        self.verify_button.setObjectName("verifyAll")
        self.delete_button.clicked.connect(self.delete_selected)
        self.verify_button.clicked.connect(lambda: self.verify_requested.emit([r.id for r in self.records]))
        self.message = QLabel(self)
        self.message.setObjectName("setsMessage")
        self.message.setWordWrap(True)
        self.within = QLineEdit(self)
        self.within.setPlaceholderText("e.g. 7d")
        self.within.setMaximumWidth(90)
        self.keep = {rule: self._spin() for rule in RULES}
        self.preview_button = QPushButton("Preview", self)
        self.preview_button.setObjectName("previewPolicy")
        self.save_button = QPushButton("Save policy", self)
        self.save_button.setObjectName("savePolicy")
        self.preview_button.clicked.connect(self.preview)
        self.save_button.clicked.connect(self.save_policy)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.delete_button)
        row.addWidget(self.verify_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self._policy_box())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._show_saved_policy()
        self.refresh()
        self.resize(1180, 620)

    def _spin(self) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(0, 10_000)
        spin.setSpecialValueText("—")
        spin.setMaximumWidth(80)
        return spin

    def _policy_box(self) -> QGroupBox:
        box = QGroupBox("Retention of the sets made by hand (as borg prune: a set kept by one rule does not "
                        "count for the next; a plan's sets follow its own policy)", self)
        form = QFormLayout()
        form.addRow("Keep within:", self.within)
        rules = QHBoxLayout()
        for rule, spin in self.keep.items():
            rules.addWidget(QLabel(f"{rule}:", box))
            rules.addWidget(spin)
        rules.addStretch(1)
        form.addRow("Keep:", rules)
        actions = QHBoxLayout()
        actions.addWidget(self.preview_button)
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        form.addRow("", actions)
        box.setLayout(form)
        return box

    # -- the table --------------------------------------------------------------------------

    def refresh(self, would: dict[str, tuple[bool, str]] | None = None) -> None:
        self.records = self.engine.catalog.list_sets(self.store)
        made_by = self.engine.catalog.set_plans()
        created = {record.id: record.created for record in self.records}
        self.table.setRowCount(len(self.records))
        for row, record in enumerate(self.records):
            state = f"damaged ({record.damaged})" if record.damaged else (
                f"verified {human_time(record.verified)}" if record.verified else "not verified")
            parent = (f"the set of {human_time(created[record.parent])}" if record.parent in created
                      else record.parent or "—")
            cells = [human_time(record.created), record.kind, human_bytes(record.stored_bytes), str(record.files),
                     parent, state, made_by.get(record.id, "by hand"), ""]
            if would is not None and record.id in would:
                keep, reason = would[record.id]
                cells[WOULD] = f"{'keep' if keep else 'remove'}: {reason}"
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, record.id)
                item.setToolTip(record.parent or "" if column == PARENT else text)
                if column == STATE:
                    item.setIcon(state_icon("failed" if record.damaged else
                                            "succeeded" if record.verified else "unknown"))
                if column == WOULD and would is not None and record.id in would:
                    item.setIcon(state_icon("succeeded" if would[record.id][0] else "failed"))
                self.table.setItem(row, column, item)
        self.delete_button.setEnabled(bool(self.records))
        self.verify_button.setEnabled(bool(self.records))

    def selected(self) -> SetRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None

    # -- actions ----------------------------------------------------------------------------

    def delete_selected(self) -> None:
        record = self.selected()
        if record is None:
            self.message.setText("Choose a set to delete.")
            return
        below = dependents(self.engine.catalog.list_sets(), record.id)
        text = f"Delete set {record.id} ({record.kind}, {human_time(record.created)})?"
        if below:
            text += (f"\n\n{counted(len(below), 'incremental set')} {'stands' if len(below) == 1 else 'stand'} on it and cannot be restored without it; they are "
                     "deleted too:\n" + "\n".join(child.id for child in below))
        if not ask(self, "Delete set?", text, f"Delete {counted(1 + len(below), 'set')}"):
            return
        try:
            with holding_prune_mutex(self.engine, "sets delete", timeout=5):
                freed, busy = remove_sets(self.engine.catalog, [record, *below])
        except EXPECTED_ERRORS as error:
            self.message.setText(error_text(error))
            return
        self.message.setText(f"Deleted {counted(1 + len(below) - len(busy), 'set')}; {human_bytes(freed)} freed."
                             + (f" {counted(len(busy), 'set')} {'is' if len(busy) == 1 else 'are'} being read (a "
                                f"restore or verify) and kept: try again when it has finished." if busy else ""))
        self.refresh()
        self.changed.emit()

    def policy(self) -> RetentionPolicy:
        values = {f"keep_{rule}": spin.value() or None for rule, spin in self.keep.items()}
        return RetentionPolicy(keep_within=self.within.text().strip() or None, **values).checked()

    def preview(self) -> dict[str, tuple[bool, str]] | None:
        try:
            policy = self.policy()
        except RetentionError as error:
            self.message.setText(str(error))
            return None
        plans, _ = PlanBook(self.engine.catalog).plans()
        made_by = self.engine.catalog.set_plans()
        policies = {plan.name: plan.retention for plan in plans}
        policies[None] = policy
        sets = self.engine.catalog.list_sets(self.store)
        damaged = {record.id: record.damaged for record in sets if record.damaged}
        decisions = choose(sets, lambda record: made_by.get(record.id), policies, datetime.now(timezone.utc),
                           damaged=damaged)
        would = {decision.record.id: (decision.keep, decision.reason) for decision in decisions}
        removed = sum(1 for keep, _ in would.values() if not keep)
        self.message.setText(f"{policy.describe()}: {counted(len(would) - removed, 'set')} kept, {removed} removed at the "
                             "next prune (nothing is removed by the preview).")
        self.refresh(would)
        return would

    def save_policy(self) -> None:
        try:
            self.engine.set_store_retention(self.store, self.policy())
        except EXPECTED_ERRORS as error:
            self.message.setText(error_text(error))
            return
        self.message.setText(f"Saved: {self.policy().describe()} for the sets of {self.store} made by hand. "
                             "'strongroom prune' (or the next plan run's prune) applies it.")
        self.changed.emit()

    def _show_saved_policy(self) -> None:
        try:
            saved = self.engine.store_retention(self.store)
        except EXPECTED_ERRORS:
            return
        self.within.setText(saved.keep_within or "")
        for rule, spin in self.keep.items():
            spin.setValue(max(0, getattr(saved, f"keep_{rule}") or 0))
