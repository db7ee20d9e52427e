"""The Stores section: a table of stores, or a friendly empty state on first start."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from ..core.catalog import Store
from ..core.store_overview import StoreOverview
from .content_columns import ContentColumns
from .fitting_columns import FittingColumns
from .models.stores_model import COLUMNS, KIND, NEXT, PATH, SIZE, TYPE, StoresModel
from .models.table_model import row_table

EMPTY_TEXT = (
    "<h2>No stores yet</h2>"
    "<p>A <b>store</b> is something worth backing up: a folder tree, a SQLite file, or a PostgreSQL or MariaDB database.<br>"
    "Add one, then back it up with <b>Backup…</b>. Stores of different types are backed up at the same time.</p>"
)


class StoresView(QWidget):
    add_requested = Signal()
    edit_requested = Signal(object)  # Store
    remove_requested = Signal(object)  # Store
    backup_requested = Signal(list)  # store names
    restore_requested = Signal(str)  # store name
    restore_several_requested = Signal(set)  # store names
    sets_requested = Signal(str)  # store name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = StoresModel(self)
        self.table = row_table(self.model, "storesTable", self)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(PATH, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a long path keeps its start and its name
        self.fitting = FittingColumns(self.table, PATH, (NEXT, KIND, SIZE, TYPE), room=160)
        self.content_columns = ContentColumns(self.table, tuple(c for c in range(len(COLUMNS)) if c != PATH),
                                              after_fit=self.fitting.refit)
        self.table.doubleClicked.connect(lambda _index: self._edit())
        self.add_button = QPushButton("Add store…", self)
        self.add_button.setObjectName("addStore")
        self.edit_button = QPushButton("Edit…", self)
        self.remove_button = QPushButton("Remove…", self)
        self.backup_button = QPushButton("Back up now", self)
        self.backup_button.setToolTip("Start a backup of the selected stores at once, with their defaults "
                                      "(Backup… in the toolbar chooses the kind, target and options)")
        self.backup_button.setObjectName("backupSelected")
        self.restore_button = QPushButton("Restore…", self)
        self.sets_button = QPushButton("Sets…", self)
        self.sets_button.setObjectName("storeSets")
        self.sets_button.setToolTip("Every set of the store: delete, verify all, retention")
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(self._edit)
        self.remove_button.clicked.connect(self._remove)
        self.backup_button.clicked.connect(lambda: self.backup_requested.emit([s.name for s in self.selected()]))
        self.restore_button.clicked.connect(self._restore)
        self.sets_button.clicked.connect(lambda: self._one(self.sets_requested))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.sets_button)
        buttons.addWidget(self.backup_button)
        buttons.addWidget(self.restore_button)
        table_page = QWidget(self)
        table_layout = QVBoxLayout(table_page)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table)
        table_layout.addLayout(buttons)

        empty_page = QWidget(self)
        empty_page.setObjectName("storesEmpty")
        message = QLabel(EMPTY_TEXT, empty_page)
        message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        message.setWordWrap(True)
        self.empty_add = QPushButton("Add a store…", empty_page)
        self.empty_add.setObjectName("emptyAddStore")
        self.empty_add.setDefault(True)
        self.empty_add.clicked.connect(self.add_requested)
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addStretch(1)
        empty_layout.addWidget(message)
        empty_layout.addWidget(self.empty_add, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(1)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(empty_page)
        self.stack.addWidget(table_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)
        self._selection_changed()

    def set_overviews(self, overviews: list[StoreOverview]) -> None:
        chosen = {store.name for store in self.selected()}
        same_stores = self.model.names() == [overview.store.name for overview in overviews]
        self.model.set_overviews(overviews)  # the same stores change in place and keep their selection
        self.stack.setCurrentIndex(1 if overviews else 0)
        for row, name in enumerate(self.model.names()):
            if name in chosen and not same_stores:
                self.table.selectRow(row)
        self._selection_changed()

    @property
    def empty(self) -> bool:
        return self.stack.currentIndex() == 0

    def selected(self) -> list[Store]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.overview_at(row).store for row in rows if self.model.overview_at(row) is not None]

    def _selection_changed(self, *_args) -> None:
        count = len(self.selected())
        self.edit_button.setEnabled(count == 1)
        self.remove_button.setEnabled(count == 1)
        self.restore_button.setEnabled(count > 0)
        self.restore_button.setToolTip("Restore the selected store" if count <= 1 else
                                       f"Restore the {count} selected stores at once, each as it was at one moment")
        self.sets_button.setEnabled(count == 1)
        self.backup_button.setEnabled(count > 0)

    def _edit(self) -> None:
        stores = self.selected()
        if len(stores) == 1:
            self.edit_requested.emit(stores[0])

    def _remove(self) -> None:
        stores = self.selected()
        if len(stores) == 1:
            self.remove_requested.emit(stores[0])

    def _one(self, signal) -> None:
        stores = self.selected()
        if len(stores) == 1:
            signal.emit(stores[0].name)

    def _restore(self) -> None:
        stores = self.selected()
        if len(stores) == 1:
            self.restore_requested.emit(stores[0].name)
        elif stores:
            self.restore_several_requested.emit({store.name for store in stores})
