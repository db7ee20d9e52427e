"""Add or edit a store: name, type and path, with the path checked for the type before OK."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from ..core.catalog import Store
from ..core.engine import Engine
from ..core.stores import driver_for, driver_names
from .messages import EXPECTED, error_text


class StoreDialog(QDialog):
    """``StoreDialog(engine)`` adds a store; ``StoreDialog(engine, store)`` changes its path.

    OK registers the store through the engine, so the dialog refuses exactly what the
    CLI refuses, with the same message, shown under the fields.
    """

    def __init__(self, engine: Engine, store: Store | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storeDialog")
        self.engine = engine
        self.editing = store
        self.result_store: Store | None = None
        self.setWindowTitle(f"Edit store {store.name}" if store else "Add a store")
        self.name = QLineEdit(self)
        self.name.setObjectName("storeName")
        self.name.setPlaceholderText("e.g. documents, crm-db")
        self.type = QComboBox(self)
        self.type.setObjectName("storeType")
        for name in driver_names():
            self.type.addItem(f"{name} — {driver_for(name).description.split(':')[0].split(',')[0]}", name)
        self.path = QLineEdit(self)
        self.path.setObjectName("storePath")
        self.path.setMinimumWidth(360)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("storeError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Type:", self.type)
        form.addRow("&Path:", path_row)
        form.addRow("", self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save" if store else "Add store")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.type.currentIndexChanged.connect(self._type_changed)
        self.name.textChanged.connect(self._changed)
        self.path.textChanged.connect(self._changed)
        if store is not None:
            self.name.setText(store.name)
            self.name.setReadOnly(True)
            self.type.setCurrentIndex(max(0, self.type.findData(store.type)))
            self.type.setEnabled(False)
            self.path.setText(store.path)
        self._type_changed()

    @property
    def store_type(self) -> str:
        return self.type.currentData()

    def _type_changed(self) -> None:
        driver = driver_for(self.store_type)
        self.hint.setText("A folder: everything below it is backed up (links are kept as links)."
                          if driver.path_is_folder else
                          "A SQLite database file: copied consistently while applications keep using it.")
        self._changed()

    def _changed(self) -> None:
        self.error.hide()
        ok = bool(self.name.text().strip() and self.path.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _browse(self) -> None:
        start = self.path.text() or str(self.engine.paths.data_dir.parent)
        if driver_for(self.store_type).path_is_folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose the folder to back up", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the SQLite database", start,
                                                    "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)")
        if chosen:
            self.path.setText(chosen)

    def accept(self) -> None:
        name, path = self.name.text().strip(), self.path.text().strip()
        try:
            if self.editing is not None:
                self.result_store = self.engine.update_store(name, path)
            else:
                self.result_store = self.engine.add_store(name, self.store_type, path)
        except EXPECTED + (OSError,) as error:
            self.error.setText(error_text(error))
            self.error.show()
            return
        super().accept()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        (self.path if self.editing else self.name).setFocus(Qt.FocusReason.OtherFocusReason)
