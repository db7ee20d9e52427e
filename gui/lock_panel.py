"""The live lock-status panel: one row per store-type mutex, its holder and its queue.

It shows what the lock watcher reads (this process's jobs at once, other processes'
within half a second). A stale, unreadable or foreign-host holder gets a
"Break lock…" button; breaking asks first and says what breaking means. A holder that
is alive on this host can never be broken here: cancel that job instead.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from ..core.mutex import BreakRefused, LockDirectory, MutexRecord, MutexState, MutexStatus, break_record
from ..core.remedies import with_words
from ..core.units import human_span, human_time
from .fitting_columns import FittingColumns
from .icons import state_icon
from .messages import ask, console_words, show_error
from .models.jobs_model import short_time

COLUMNS = ("Mutex", "State", "Job", "Operation", "Store", "PID", "Host", "Thread", "Since", "For", "")
MUTEX, STATE, JOB, OPERATION, STORE, PID, HOST, THREAD, SINCE, FOR, ACTION = range(len(COLUMNS))

BREAK_EXPLANATION = (
    "Breaking removes the holder record of {name} so that other jobs may take it.\n\n"
    "{holder}\n\n{detail}\n\n"
    "Only break it if you know that holder is gone. If it is in fact still working, two jobs could then "
    "change stores of type '{store_type}' at the same time."
)


def breakable(status: MutexStatus) -> bool:
    """Stale (owner provably dead), unreadable, or held from another host."""
    return status.state in (MutexState.STALE, MutexState.UNKNOWN) or (
        status.state is MutexState.HELD and status.foreign)


class LockPanel(QWidget):
    """Shows ``MutexStatus`` snapshots; ``show_statuses`` is connected to the lock watcher."""

    lock_broken = Signal(str)  # the sentence saying what was done

    def __init__(self, lockdir: LockDirectory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPanel")
        self.lockdir = lockdir
        self.statuses: list[MutexStatus] = []
        self._since: list[tuple[QTreeWidgetItem, float]] = []  # items whose "For" column ticks
        self.items: dict[str, QTreeWidgetItem] = {}  # store type -> its row
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("lockTree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(JOB, QHeaderView.ResizeMode.Stretch)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        # Every row is as tall as a Break lock… button, with or without one: the rows neither jump when a
        # record goes stale nor clip the button (uniform heights come from the first row alone).
        button = QPushButton("Break lock…").sizeHint()
        self.action_size = QSize(button.width(), max(button.height(), self.tree.fontMetrics().height() + 6))
        # In a narrow window the least needed columns step aside, so job ids are not cut.
        self.fitting = FittingColumns(self.tree, JOB, (THREAD, HOST, PID, OPERATION, STORE), room=self._job_room)
        self.location = QLabel(f"Lock directory: {lockdir.path} ({lockdir.scope} scope)", self)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = QLabel(self)
        self.problem.setObjectName("lockProblem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        footer = QHBoxLayout()
        footer.addWidget(self.location, 1)
        layout.addLayout(footer)
        layout.addWidget(self.problem)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()

    # -- updates ----------------------------------------------------------------------------

    def show_statuses(self, statuses: list[MutexStatus]) -> None:
        self.problem.hide()
        self.statuses = list(statuses)
        self._since = []
        self.items = {}
        self.tree.clear()
        now = time.time()
        for status in self.statuses:
            item = QTreeWidgetItem(self.tree)
            item.setSizeHint(ACTION, self.action_size)
            self.items[status.store_type] = item
            item.setText(MUTEX, status.name)
            item.setIcon(STATE, state_icon(status.state))
            item.setText(STATE, status.state + (" (other host)" if status.foreign else ""))
            if status.holder is not None:
                self._fill(item, status.holder, now)
            if status.detail:  # the Break lock… button and its question say the detail only: they are the fix
                explained = with_words(status.detail, status.fix, console_words)
                item.setToolTip(STATE, explained)
                item.setToolTip(MUTEX, explained)
            for position, waiter in enumerate(status.waiters, 1):
                child = QTreeWidgetItem(item)
                child.setSizeHint(ACTION, self.action_size)
                child.setIcon(STATE, state_icon("waiting"))
                child.setText(STATE, f"waiting #{position}")
                self._fill(child, waiter, now)
            if breakable(status):
                button = QPushButton("Break lock…", self.tree)
                button.setObjectName(f"break-{status.store_type}")
                button.setToolTip(status.detail)
                button.clicked.connect(lambda _checked=False, s=status: self.break_lock(s))
                self.tree.setItemWidget(item, ACTION, button)
            item.setExpanded(True)
        self.fitting.refit()

    def _job_room(self) -> int:
        """The width the longest job id shown needs (at least what a usual one does)."""
        metrics = self.tree.fontMetrics()
        longest = max((metrics.horizontalAdvance(item.text(JOB)) for item in self._since_items()), default=0)
        return max(200, longest + 16)

    def _since_items(self):
        return [item for item, _since in self._since]

    def show_problem(self, message: str) -> None:
        self.problem.setText(f"⚠ {message}")
        self.problem.show()

    def _fill(self, item: QTreeWidgetItem, record: MutexRecord, now: float) -> None:
        item.setText(JOB, record.job_id)
        item.setText(OPERATION, record.operation)
        item.setText(STORE, record.store)
        item.setText(PID, str(record.pid))
        item.setText(HOST, record.host)
        item.setText(THREAD, record.thread)
        item.setText(SINCE, short_time(record.since))
        item.setToolTip(SINCE, human_time(record.since))
        item.setText(FOR, human_span(now - record.since))
        self._since.append((item, record.since))

    def _tick(self) -> None:
        now = time.time()
        for item, since in self._since:
            item.setText(FOR, human_span(now - since))

    # -- breaking ---------------------------------------------------------------------------

    def break_lock(self, status: MutexStatus) -> None:
        holder = f"Holder: {status.holder.describe()}" if status.holder else "The holder record cannot be read."
        question = BREAK_EXPLANATION.format(name=status.name, holder=holder, detail=status.detail,
                                            store_type=status.store_type)
        if not ask(self, f"Break the lock {status.name}?", question, "Break lock"):
            return
        try:
            done = break_record(self.lockdir, status.store_type, expected=status.holder)
        except (BreakRefused, OSError) as error:
            show_error(self, "The lock was not broken", error)
            return
        self.lock_broken.emit(done)
