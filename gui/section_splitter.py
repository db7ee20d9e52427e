"""The main window's three sections, sized by what they hold: stores and locks get their rows, jobs the rest.

Fixed sizes showed 2½ store rows at 900×600 while the lock panel stood mostly empty, and
left wide empty bands at 1600×1000. ``SectionSplitter`` gives the stores section room for
its rows (3 to 8 of them, at most two fifths of the height) and the lock panel room for
its mutexes and waiters (3 to 10 lines, at most a third), and the jobs section the rest; it fits again
when the window is resized or the number of rows changes, until the administrator drags a
handle (then their sizes are kept).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTreeWidget, QTreeWidgetItemIterator, QWidget

JOBS_AT_LEAST = 170  # pixels: a header, three job rows and the buttons


class SectionSplitter(QSplitter):
    def __init__(self, stores: QWidget, stores_table: QAbstractItemView, jobs: QWidget, locks: QWidget,
                 lock_tree: QTreeWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName("mainSplitter")
        self.stores_table, self.lock_tree = stores_table, lock_tree
        for widget in (stores, jobs, locks):
            self.addWidget(widget)
        self.setChildrenCollapsible(False)
        self.user_sized = False
        self.expected_waiters = 0  # lock-panel lines to keep room for: the console's active jobs
        self._fitted_for: tuple | None = None
        self.splitterMoved.connect(self._moved)

    def _moved(self, *_) -> None:
        if not self._fitting:
            self.user_sized = True

    _fitting = False

    def wanted(self) -> tuple[int, int]:
        """(stores section, lock section) heights that show their rows."""
        table = self.stores_table
        store_rows = min(8, max(3, table.model().rowCount()))
        row = table.verticalHeader().defaultSectionSize()
        stores = table.horizontalHeader().height() + store_rows * row + self._overhead(0, table)
        lines = 0
        iterator = QTreeWidgetItemIterator(self.lock_tree)
        while iterator.value() is not None:
            lines += 1
            iterator += 1
        lines = max(lines, self.lock_tree.topLevelItemCount() + self.expected_waiters)
        line = self.lock_tree.sizeHintForRow(0) if self.lock_tree.topLevelItemCount() else row
        locks = self.lock_tree.header().height() + min(10, max(3, lines)) * max(line, 18) + \
            self._overhead(2, self.lock_tree)
        return stores, locks

    def _overhead(self, index: int, view: QWidget) -> int:
        """What section ``index`` takes besides its view's rows: tabs or title, buttons, margins, a scroll bar."""
        section = self.widget(index)
        return max(0, section.sizeHint().height() - view.sizeHint().height()) + 2 * view.frameWidth() + 4

    def fit(self, force: bool = False, shrink: bool = True) -> None:
        """Size the sections for what they hold; with ``shrink`` False (while jobs run) a section only grows.

        Waiters come and go as jobs take their mutexes; each resize repainted the jobs table and
        the lock panel whole (15-20 ms on a busy machine) and made the window jump.
        """
        if self.user_sized and not force:
            return
        total = self.height()
        stores, locks = self.wanted()
        if not shrink and not force and self._fitted_for is not None and total == self._fitted_for[0]:
            current_stores, _jobs, current_locks = self.sizes()
            if stores <= current_stores and locks <= current_locks:
                return
        key = (total, stores, locks)
        if key == self._fitted_for and not force:
            return
        self._fitted_for = key
        stores, locks = min(stores, total * 2 // 5), min(locks, total // 3)
        jobs = total - stores - locks
        if jobs < JOBS_AT_LEAST:  # a short window: the two others give up room in proportion
            short = JOBS_AT_LEAST - jobs
            share = stores / max(1, stores + locks)
            stores -= int(short * share)
            locks -= short - int(short * share)
            jobs = JOBS_AT_LEAST
        self._fitting = True
        try:
            self.setSizes([max(60, stores), jobs, max(60, locks)])
        finally:
            self._fitting = False

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self.fit()
