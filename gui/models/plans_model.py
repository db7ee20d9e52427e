"""The plans table: stores, schedule, next run, last run and its result."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ...core.plans.overview import PlanOverview
from ...core.units import human_time
from ..icons import state_icon
from .table_model import ColumnsTableModel

COLUMNS = ("Plan", "Stores", "Schedule", "Next run", "Last run", "Result")
NAME, STORES, SCHEDULE, NEXT, LAST, RESULT = range(len(COLUMNS))


class PlansModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[PlanOverview] = []

    def set_overviews(self, overviews: list[PlanOverview]) -> None:
        self.beginResetModel()
        self._rows = list(overviews)
        self.endResetModel()

    def overview_at(self, row: int) -> PlanOverview | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column, last = index.column(), row.last_run
        if role == Qt.ItemDataRole.DecorationRole and column == RESULT and last is not None and last.result:
            return state_icon(last.result)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == RESULT and last is not None and last.detail:
                return last.detail
            if column == SCHEDULE:
                return f"cron: {row.plan.schedule}" + (f" ({row.plan.timezone})" if row.plan.timezone else "")
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == NEXT and row.overdue:
            return Qt.GlobalColor.darkRed
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == NAME:
            return row.plan.name
        if column == STORES:
            return ", ".join(row.plan.stores)
        if column == SCHEDULE:
            return row.schedule_text
        if column == NEXT:
            if not row.plan.enabled:
                return "disabled"
            if row.running:
                return "running now"
            when = human_time(row.next_run.isoformat()) if row.next_run else "—"
            return f"overdue since {when}" if row.overdue else when
        if column == LAST:
            return f"{human_time(last.started)} ({last.trigger})" if last else "never"
        if column == RESULT:
            return (last.result or "running").replace("-", " ") if last else ""
        return None
