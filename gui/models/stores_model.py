"""The stores table: type, path, last backup (when, kind, result) and size."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ...core.health import StoreHealth
from ...core.stores import shown_location
from ...core.store_overview import StoreOverview
from ...core.units import human_bytes, human_time
from ..icons import state_icon
from .table_model import ColumnsTableModel

COLUMNS = ("Store", "Health", "Type", "Path", "Last backup", "Kind", "Result", "Size", "Next run")
NAME, HEALTH, TYPE, PATH, WHEN, KIND, RESULT, SIZE, NEXT = range(len(COLUMNS))

STORE_NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class StoresModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[StoreOverview] = []
        self._next: dict[str, tuple[str, datetime]] = {}  # store -> (plan, when)
        self._health: dict[str, StoreHealth] = {}

    def set_overviews(self, overviews: list[StoreOverview]) -> None:
        self.beginResetModel()
        self._rows = list(overviews)
        self.endResetModel()

    def set_next_runs(self, next_runs: dict[str, tuple[str, datetime]]) -> None:
        """Each store's soonest scheduled run, from the plans."""
        if next_runs != self._next:
            self._next = dict(next_runs)
            if self._rows:
                self.dataChanged.emit(self.index(0, NEXT), self.index(len(self._rows) - 1, NEXT))

    def set_health(self, health: list[StoreHealth]) -> None:
        self._health = {row.store: row for row in health}
        if self._rows:
            self.dataChanged.emit(self.index(0, HEALTH), self.index(len(self._rows) - 1, HEALTH))

    def overview_at(self, row: int) -> StoreOverview | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def names(self) -> list[str]:
        return [row.store.name for row in self._rows]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == STORE_NAME_ROLE:
            return row.store.name
        health = self._health.get(row.store.name)
        if role == Qt.ItemDataRole.DecorationRole and column == HEALTH and health is not None:
            return state_icon(health.health.label)
        if role == Qt.ItemDataRole.DecorationRole and column == RESULT and row.last_backup is not None:
            return state_icon(row.last_backup.state)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == HEALTH and health is not None:
                return f"{health.why} (warning after {health.warn_after}, critical after {health.critical_after})"
            if column == PATH:
                return shown_location(row.store.type, row.store.path)
            if column == RESULT and row.last_backup is not None and row.last_backup.error:
                return row.last_backup.error
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        latest = row.latest_set
        if column == NAME:
            return row.store.name
        if column == HEALTH:
            return health.health.label if health is not None else ""
        if column == TYPE:
            return row.store.type
        if column == PATH:
            return shown_location(row.store.type, row.store.path)
        if column == WHEN:
            if row.last_backup is not None:
                return human_time(row.last_backup.finished or row.last_backup.created)
            return human_time(latest.created) if latest else "never"
        if column == KIND:
            return latest.kind if latest else ""
        if column == RESULT:
            return row.result
        if column == SIZE:
            return human_bytes(row.size) if row.size is not None else ""
        if column == NEXT:
            upcoming = self._next.get(row.store.name)
            return f"{human_time(upcoming[1].isoformat())} ({upcoming[0]})" if upcoming else "not scheduled"
        return None
