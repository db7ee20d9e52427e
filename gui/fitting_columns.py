"""Columns that fit the view's width: the least needed ones step aside in a narrow window.

A table or tree with one stretching column (the text that may be long: details, a job id)
and several fixed ones scrolled sideways at 900 pixels, which put the Cancel buttons off
screen. ``FittingColumns`` watches the view's width and hides the optional columns, least
needed first, until the visible fixed ones leave the stretching column room; as the window
grows they come back in the reverse order. A hidden column's facts stay in the row's tooltips
and in the job's details.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QAbstractItemView


class FittingColumns(QObject):
    def __init__(self, view: QAbstractItemView, stretch: int, optional: tuple[int, ...],
                 room: int | Callable[[], int] = 220) -> None:
        """``optional``: the columns that may be hidden, least needed first; ``room``: what ``stretch`` needs
        (or a function that measures it from what the column now holds)."""
        super().__init__(view)
        self.view, self.stretch, self.optional, self.room = view, stretch, optional, room
        self._header = view.horizontalHeader() if hasattr(view, "horizontalHeader") else view.header()
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.Resize:
            self.fit(event.size().width())
        return False

    def hidden(self) -> list[int]:
        return [column for column in self.optional if self._header.isSectionHidden(column)]

    def refit(self) -> None:
        """Fit again for what the view now holds (its width has not changed)."""
        self.fit(self.view.viewport().width())

    def fit(self, width: int) -> None:
        header = self._header
        room = self.room() if callable(self.room) else self.room
        for column in self.optional:  # show all (each at the width it had, or was fitted to, while hidden),
            if header.isSectionHidden(column):  # then hide until they fit
                header.setSectionHidden(column, False)
        fixed = sum(header.sectionSize(column) for column in range(header.count())
                    if column != self.stretch and not header.isSectionHidden(column))
        for column in self.optional:
            if fixed + room <= width:
                break
            fixed -= header.sectionSize(column)
            header.setSectionHidden(column, True)
