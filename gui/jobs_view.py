"""The Jobs section: live jobs with progress and a Cancel button each, above the history."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from .content_columns import ContentColumns
from .delegates import ButtonDelegate, ProgressDelegate, value
from .fitting_columns import FittingColumns
from .models.jobs_model import (CANCEL, CANCELLABLE_ROLE, DATA, DETAILS, ETA, FILES, FRACTION_ROLE, JOB_ID_ROLE,
                                OPERATION, PROGRESS, SPEED, STARTED, JobsModel)
from .models.table_model import row_table


class JobsView(QWidget):
    cancel_requested = Signal(str)  # job id
    details_requested = Signal(str)  # job id
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = JobsModel(self)
        self.table = row_table(self.model, "jobsTable", self)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(FRACTION_ROLE, self.table))
        self.cancel_delegate = ButtonDelegate(CANCELLABLE_ROLE, self.table)
        self.cancel_delegate.clicked.connect(self._cancel_clicked)
        self.table.setItemDelegateForColumn(CANCEL, self.cancel_delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(DETAILS, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 100), (1, 72), (2, 200), (3, 110), (4, 80), (5, 140), (6, 90), (7, 80), (8, 80),
                              (CANCEL, 80)):
            self.table.setColumnWidth(column, width)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # paths and job ids keep both ends
        # In a narrow window the least needed columns step aside, so Details and Cancel stay on screen.
        self.fitting = FittingColumns(self.table, DETAILS, (SPEED, ETA, OPERATION, FILES, DATA), room=200)
        self.content_columns = ContentColumns(self.table, (STARTED,), after_fit=self.fitting.refit)
        self.table.doubleClicked.connect(lambda index: self.details_requested.emit(value(index, JOB_ID_ROLE)))
        self.details_button = QPushButton("Details and log…", self)
        self.details_button.setObjectName("jobDetailsButton")
        self.details_button.clicked.connect(self._details)
        refresh = QPushButton("Refresh history", self)
        refresh.setToolTip("Also shows jobs that other consoles and command-line runs have recorded")
        refresh.clicked.connect(self.refresh_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def _cancel_clicked(self, index: QModelIndex) -> None:
        self.cancel_requested.emit(value(index, JOB_ID_ROLE))

    def _details(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.details_requested.emit(value(rows[0], JOB_ID_ROLE))
