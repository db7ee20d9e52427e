"""The installed Qt binding keeps Python's reference counts straight where the console relies on it.

PySide6 6.12.0 returned None from an empty QVariant without taking a reference: every
``QModelIndex.data()`` or ``QTreeWidgetItem.data()`` that found nothing released one
reference to None that it never held, and a console repainting a busy jobs table
crashed (``none_dealloc``) within minutes. pyproject.toml excludes that version; this
test catches any other that does the same.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QTreeWidgetItem

ROUNDS = 500


class _Empty(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 1

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None


def _none_references_lost(read) -> int:
    before = sys.getrefcount(None)
    results = [read() for _ in range(ROUNDS)]
    assert all(result is None for result in results)
    del results
    return before - sys.getrefcount(None)


def test_empty_values_from_qt_keep_none_alive(qapp):
    model = _Empty()
    item = QTreeWidgetItem()
    lost = {
        "QModelIndex.data": _none_references_lost(lambda: model.index(0, 0).data(Qt.ItemDataRole.UserRole)),
        "QTreeWidgetItem.data": _none_references_lost(lambda: item.data(0, Qt.ItemDataRole.UserRole)),
    }
    assert max(lost.values()) < ROUNDS // 2, (
        f"the Qt binding loses a reference to None per empty value read ({lost}); "
        "exclude this PySide6 version in pyproject.toml")
