"""Columns as wide as what they hold, measured only where the contents changed.

Qt's ``ResizeToContents`` mode measures every such column, every row and several roles
each, whenever any cell changes. With four backups running, the live cells of the Stores
table changed about forty times a second, and each change measured all 36 cells through
the model's Python ``data``: 4-8 ms of the window's thread each time (bench/gui_bench.py).
``ContentColumns`` keeps the columns interactive and fits them itself: all of them when
rows come or go, and on a change of some cells only the columns of those cells.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractItemView


class ContentColumns(QObject):
    def __init__(self, view: QAbstractItemView, columns: tuple[int, ...],
                 after_fit: Callable[[], None] | None = None) -> None:
        """Fit ``columns`` of ``view`` to their contents from now on; ``after_fit`` runs when a width changed."""
        super().__init__(view)
        self.view, self.columns, self.after_fit = view, columns, after_fit
        model = view.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self.fit_all)
        model.dataChanged.connect(self._changed)

    def fit_all(self, *_args) -> None:
        self._fit(self.columns)

    def _changed(self, top_left, bottom_right, _roles=()) -> None:
        self._fit(tuple(column for column in self.columns if top_left.column() <= column <= bottom_right.column()))

    def _fit(self, columns: tuple[int, ...]) -> None:
        header = self.view.horizontalHeader()
        changed = False
        for column in columns:
            width = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
            if width > 0 and width != header.sectionSize(column):
                header.resizeSection(column, width)
                changed = True
        if changed and self.after_fit is not None:
            self.after_fit()
