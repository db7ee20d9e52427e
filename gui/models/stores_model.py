"""The stores table: type, path, the last good backup (when, how long ago, kind), the last attempt and size.

The last *good* backup is the main fact: a set exists only for a backup that succeeded, so
it is the newest set, whatever happened since. Beside it, the last attempt: a job of this
console running or waiting right now (followed live), else the newest backup job in the
history — so a cancelled or failed run shows as such without hiding the last good one.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ...core.health import StoreHealth
from ...core.stores import shown_location
from ...core.store_overview import StoreOverview
from ...core.jobs import Job, JobState
from ...core.units import human_age, human_bytes, human_time
from ..change_pacer import ChangePacer
from ..icons import state_icon
from .table_model import ColumnsTableModel

COLUMNS = ("Store", "Health", "Type", "Path", "Last good backup", "Kind", "Last attempt", "Size", "Next run")
NAME, HEALTH, TYPE, PATH, WHEN, KIND, RESULT, SIZE, NEXT = range(len(COLUMNS))

STORE_NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class StoresModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[StoreOverview] = []
        self._next: dict[str, tuple[str, datetime]] = {}  # store -> (plan, when)
        self._health: dict[str, StoreHealth] = {}
        self._live: dict[str, Job] = {}  # store -> this console's newest backup job while it is active
        self._shown: dict[str, tuple | None] = {}  # store -> (state, cancelling, words) its live cell last showed
        self._pacer = ChangePacer(self._repaint, self)

    def set_overviews(self, overviews: list[StoreOverview]) -> None:
        """The same stores again (after a job) change in place, row by row: a reset would lose the selection
        and measure and repaint the whole table."""
        if [row.store.name for row in overviews] != self.names():
            self.beginResetModel()
            self._rows = list(overviews)
            self.endResetModel()
            return
        changed = [number for number, (old, new) in enumerate(zip(self._rows, overviews)) if old != new]
        self._rows = list(overviews)
        if changed:  # one announcement: each measures the columns again
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))

    def set_next_runs(self, next_runs: dict[str, tuple[str, datetime]]) -> None:
        """Each store's soonest scheduled run, from the plans."""
        if next_runs != self._next:
            self._next = dict(next_runs)
            if self._rows:
                self.dataChanged.emit(self.index(0, NEXT), self.index(len(self._rows) - 1, NEXT))

    def set_health(self, health: list[StoreHealth]) -> None:
        health_by_store = {row.store: row for row in health}
        if health_by_store == self._health:
            return
        self._health = health_by_store
        if self._rows:
            self.dataChanged.emit(self.index(0, HEALTH), self.index(len(self._rows) - 1, HEALTH))

    def job_changed(self, job: Job) -> None:
        """A backup job of this console moved (queued, waiting, running, ended): its store's row follows it."""
        if job.operation != "backup":
            return
        if job.state.terminal:
            if self._live.get(job.store_name) is job:
                del self._live[job.store_name]  # the history (reloaded when it ends) has the outcome now
            shown = None
        else:
            self._live[job.store_name] = job
            shown = (job.state, job.cancel_requested, live_state(job))
        # Progress reports come ten times a second per job; the cell's words change at most once per percent,
        # and a new percent may wait for the next paced batch (change_pacer.py); a new state shows at once.
        before = self._shown.get(job.store_name, ())
        if job.store_name in self._shown and before == shown:
            return
        self._shown[job.store_name] = shown
        if before and shown and before[:2] == shown[:2]:  # the same state: only its percent moved
            self._pacer.paced(job.store_name)
        else:
            self._pacer.soon(job.store_name)

    def _repaint(self, store_names: set[str]) -> None:
        for number, row in enumerate(self._rows):
            if row.store.name in store_names:
                self.dataChanged.emit(self.index(number, RESULT), self.index(number, RESULT))

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
        live = self._live.get(row.store.name)
        if role == Qt.ItemDataRole.DecorationRole and column == RESULT:
            if live is not None:
                return state_icon(live.state.value)
            return state_icon(row.last_backup.state) if row.last_backup is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == HEALTH and health is not None:
                return f"{health.why} (warning after {health.warn_after}, critical after {health.critical_after})"
            if column == PATH:
                return shown_location(row.store.type, row.store.path)
            if column == RESULT and live is None and row.last_backup is not None and row.last_backup.error:
                return row.last_backup.error
            if column == WHEN and row.latest_set is not None:
                return f"set {row.latest_set.id}, taken {human_time(row.latest_set.created)}"
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
            if latest is None:
                return "never"
            return f"{human_time(latest.created)} ({human_age(_seconds_since(latest.created))})"
        if column == KIND:
            return latest.kind if latest else ""
        if column == RESULT:
            if live is not None:
                return live_state(live)
            return attempt(row)
        if column == SIZE:
            return human_bytes(row.size) if row.size is not None else ""
        if column == NEXT:
            upcoming = self._next.get(row.store.name)
            return f"{human_time(upcoming[1].isoformat())} ({upcoming[0]})" if upcoming else "not scheduled"
        return None


def live_state(job: Job) -> str:
    """A running job's state in words: "running 42%", "waiting for mutex", "queued", "cancelling"."""
    if job.cancel_requested:
        return "cancelling…"
    if job.state == JobState.RUNNING:
        fraction = job.progress.fraction
        return f"running {fraction:.0%}" if fraction is not None else "running"
    return job.state.label


def attempt(row: StoreOverview) -> str:
    """The last backup job's outcome, with its time when it is not the last good backup's."""
    if row.last_backup is None:
        return row.result
    job = row.last_backup
    outcome = row.result
    if job.set_id and row.latest_set is not None and job.set_id == row.latest_set.id:
        return outcome  # the same backup as the last good one: its time is already shown
    return f"{outcome} {human_time(job.finished or job.created)}"


def _seconds_since(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - moment).total_seconds()
