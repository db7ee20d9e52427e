"""The jobs table: this session's jobs (live) above the history from the catalog.

A live row reads its core ``Job`` directly each time the view asks, so progress shown
is always the job's latest; the manager's signals only say which row to repaint. A job
waiting for its mutex names the mutex and, from the lock watcher's latest snapshot,
who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from ...core.catalog import JobRecord
from ...core.jobs import Job, JobState
from ...core.mutex import MutexStatus
from ...core.units import human_bytes, human_duration, human_rate, human_time
from ..change_pacer import ChangePacer
from ..icons import state_icon
from ..messages import job_error_text
from .table_model import ColumnsTableModel

COLUMNS = ("Store", "Operation", "State", "Progress", "Files", "Data", "Speed", "ETA", "Queued", "Details", "")
STORE, OPERATION, STATE, PROGRESS, FILES, DATA, SPEED, ETA, STARTED, DETAILS, CANCEL = range(len(COLUMNS))

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1, or None when unknown
CANCELLABLE_ROLE = Qt.ItemDataRole.UserRole + 3

ACTIVE = (JobState.QUEUED, JobState.WAITING, JobState.RUNNING)
LIVE_COLUMNS = (STATE, PROGRESS, FILES, DATA, SPEED, ETA, DETAILS, CANCEL)  # what a live job's changes reach


@dataclass
class _Row:
    job: Job | None = None
    record: JobRecord | None = None

    @property
    def id(self) -> str:
        return self.job.id if self.job else self.record.id


class JobsModel(ColumnsTableModel):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._live: dict[str, int] = {}  # job id -> row, for live jobs
        self._statuses: dict[str, MutexStatus] = {}
        self._shown: dict[str, tuple] = {}  # job id -> (state, cancel requested) its row last showed
        self._pacer = ChangePacer(self._repaint, self)

    # -- feeding ----------------------------------------------------------------------------

    def add_jobs(self, jobs: list[Job]) -> None:
        """New jobs of this session go on top, the newest first as if added one by one (replacing their history
        rows if there are any), in one insertion: the columns are fitted once for all of them."""
        if not jobs:
            return
        for job in jobs:
            self._drop_history(job.id)
        self.beginInsertRows(QModelIndex(), 0, len(jobs) - 1)
        self._rows[:0] = [_Row(job=job) for job in reversed(jobs)]
        self.endInsertRows()
        self._reindex()

    def job_changed(self, job_id: str) -> None:
        """A live job moved: a new state shows in the next pass of the event loop, progress at a steady pace."""
        row = self._live.get(job_id)
        if row is None:
            return
        job = self._rows[row].job
        shown = (job.state, job.cancel_requested)
        if self._shown.get(job_id) != shown:
            self._shown[job_id] = shown
            self._pacer.soon(job_id)
        else:
            self._pacer.paced(job_id)

    def _repaint(self, job_ids: set[str]) -> None:
        """Repaint the cells a live job's changes reach (its store, operation and queued time never change).

        One announcement per cell: Qt repaints the whole table for a range of cells (8-11 ms on a
        busy machine), and only the cell itself for one.
        """
        for job_id in job_ids:
            row = self._live.get(job_id)
            if row is not None:
                for column in LIVE_COLUMNS:
                    cell = self.index(row, column)
                    self.dataChanged.emit(cell, cell)

    def set_history(self, records: list[JobRecord]) -> None:
        """Replace the history rows (jobs of other sessions and processes) with ``records``."""
        self.beginResetModel()
        live = [row for row in self._rows if row.job is not None]
        live_ids = {row.id for row in live}
        self._rows = live + [_Row(record=record) for record in records if record.id not in live_ids]
        self.endResetModel()
        self._reindex()

    def set_lock_statuses(self, statuses: list[MutexStatus]) -> None:
        self._statuses = {status.store_type: status for status in statuses}
        for row_number, row in enumerate(self._rows):
            if row.job is not None and row.job.state in ACTIVE:
                self.dataChanged.emit(self.index(row_number, DETAILS), self.index(row_number, DETAILS))

    def row_of(self, job_id: str) -> int | None:
        for number, row in enumerate(self._rows):
            if row.id == job_id:
                return number
        return None

    def _drop_history(self, job_id: str) -> None:
        for number, row in enumerate(self._rows):
            if row.job is None and row.id == job_id:
                self.beginRemoveRows(QModelIndex(), number, number)
                del self._rows[number]
                self.endRemoveRows()
                return

    def _reindex(self) -> None:
        self._live = {row.id: number for number, row in enumerate(self._rows) if row.job is not None}

    # -- Qt model ---------------------------------------------------------------------------

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == JOB_ID_ROLE:
            return row.id
        if row.job is not None:
            return self._live_data(row.job, column, role)
        return self._history_data(row.record, column, role)

    def _live_data(self, job: Job, column: int, role: int):
        state = job.state
        progress = job.progress
        if role == CANCELLABLE_ROLE:
            return state in ACTIVE and not job.cancel_requested
        if role == FRACTION_ROLE and column == PROGRESS:
            if state in (JobState.SUCCEEDED, JobState.WARNINGS):
                return 1.0
            if state not in ACTIVE:
                return None  # a failed or cancelled job's bar would say how far it got, which reads as done
            return progress.fraction
        if role == Qt.ItemDataRole.DecorationRole and column == STATE:
            return state_icon(state.value)
        if role == Qt.ItemDataRole.ToolTipRole and column in (STATE, DETAILS):
            return self._tooltip(job)
        if role == Qt.ItemDataRole.ToolTipRole and column == STARTED:
            return times_text(job.record)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        running = state == JobState.RUNNING
        if column == STORE:
            return job.store_name
        if column == OPERATION:
            return job.operation
        if column == STATE:
            if job.cancel_requested and state in ACTIVE:
                return "cancelling…"
            return state.label  # "waiting for mutex": which one, and who holds it, are in Details and the tooltip
        if column == FILES:
            total = f"/{progress.files_total}" if progress.files_total and state in ACTIVE else ""
            return f"{progress.files_done}{total}"
        if column == DATA:
            total = f" / {human_bytes(progress.bytes_total)}" if progress.bytes_total and state in ACTIVE else ""
            return human_bytes(progress.bytes_done) + total
        if column == SPEED:
            return human_rate(progress.throughput) if running else ""
        if column == ETA:
            if running and progress.bytes_total and progress.bytes_done >= progress.bytes_total:
                return "finishing…"  # all read; the set is being completed (compressed, written, verified)
            return human_duration(progress.eta) if running and progress.eta is not None else ""
        if column == STARTED:
            return short_time(job.record.created)  # when it was asked for: it does not move when the mutex comes
        if column == DETAILS:
            return self._details(job)
        if column == CANCEL:
            return "Cancel"
        return None

    def _tooltip(self, job: Job) -> str:
        if job.state == JobState.WAITING:
            status = self._statuses.get(job.store_type)
            if status is not None and status.holder is not None and status.holder.job_id != job.id:
                return f"waiting for the mutex {job.mutex_name}, held by {status.holder.describe()}"
        return self._details(job)

    def _details(self, job: Job) -> str:
        state = job.state
        if state == JobState.WAITING:
            status = self._statuses.get(job.store_type)
            holder = status.holder if status is not None else None
            if holder is not None and holder.job_id != job.id:
                return (f"held by {holder.operation} of {holder.store!r} (job {holder.job_id}, pid {holder.pid} on "
                        f"{holder.host}, thread {holder.thread})")
            return f"waiting for the mutex {job.mutex_name}"
        if state == JobState.RUNNING:
            return job.progress.current_path or (job.log_lines[-1] if job.log_lines else "")
        if state == JobState.QUEUED:
            return "starting"
        return _outcome(job_error_text(job), job.set_id, len(job.warnings))

    def _history_data(self, record: JobRecord, column: int, role: int):
        if role == CANCELLABLE_ROLE:
            return False
        if role == FRACTION_ROLE:
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == STATE:
            return state_icon(record.state)
        if role == Qt.ItemDataRole.ToolTipRole and column == DETAILS:
            return _outcome(record.error, record.set_id, len(record.warnings))
        if role == Qt.ItemDataRole.ToolTipRole and column == STARTED:
            return times_text(record)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == STORE:
            return record.store
        if column == OPERATION:
            return record.operation
        if column == STATE:
            try:
                return JobState(record.state).label
            except ValueError:
                return record.state
        if column == FILES:
            return str(record.files)
        if column == DATA:
            return human_bytes(record.bytes)
        if column == STARTED:
            return short_time(record.created)
        if column == DETAILS:
            return _outcome(record.error, record.set_id, len(record.warnings))
        return ""


def times_text(record: JobRecord) -> str:
    """Queued, started (after how long a wait) and finished, with dates."""
    parts = [f"queued {human_time(record.created)}"]
    if record.started:
        parts.append(f"started {human_time(record.started)}")
    if record.finished:
        parts.append(f"finished {human_time(record.finished)}")
    return ", ".join(parts)


def short_time(value: str | None) -> str:
    """Today's times as HH:MM:SS, older ones with their date."""
    text = human_time(value)
    today = datetime.now().strftime("%Y-%m-%d ")
    return text[len(today):] if text.startswith(today) else text


def _outcome(error: str | None, set_id: str | None, warnings: int) -> str:
    parts = []
    if error:
        parts.append(error)
    elif set_id:
        parts.append(f"set {set_id}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return " · ".join(parts)
