"""Add or edit a store: name, type and where it is, with that checked for the type before OK.

The fields follow the type's driver (``location_kind``): a path with a folder or file
picker, or a server's host, port, user, database and credentials file. No type is named
here: a new driver module brings its own fields.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from ..core.catalog import Store
from ..core.engine import Engine
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.stores import driver_for, driver_names
from .messages import error_text


class ServerFields(QWidget):
    """Host, port, user, database and credentials file of a server store."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = QLineEdit(self)
        self.host.setObjectName("serverHost")
        self.host.setPlaceholderText("127.0.0.1, db.example.org, or a socket path")
        self.port = QSpinBox(self)
        self.port.setObjectName("serverPort")
        self.port.setRange(1, 65535)
        self.user = QLineEdit(self)
        self.user.setObjectName("serverUser")
        self.database = QLineEdit(self)
        self.database.setObjectName("serverDatabase")
        self.credentials = QLineEdit(self)
        self.credentials.setObjectName("serverCredentials")
        self.credentials.setPlaceholderText("optional: a file readable only by you")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.credentials, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for text, field in (("&Host:", self.host), ("P&ort:", self.port), ("&User:", self.user),
                            ("&Database:", self.database)):
            form.addRow(text, field)
        label = QLabel("&Credentials file:", self)
        label.setBuddy(self.credentials)
        form.addRow(label, row)
        self.labels = [form.labelForField(field) for field in (self.host, self.port, self.user, self.database)]
        self.labels.append(label)

    def show_location(self, driver, path: str) -> None:
        location = driver.location(path)
        self.host.setText(location.socket or location.host)
        self.port.setValue(location.port or driver.default_port)
        self.user.setText(location.user)
        self.database.setText(location.database)
        self.credentials.setText(location.credentials)

    def url(self, driver) -> str:
        host = self.host.text().strip()
        socket = host if host.startswith("/") else ""
        return driver.compose(host="" if socket else host, port=self.port.value(), user=self.user.text(),
                              database=self.database.text(), credentials=self.credentials.text(), socket=socket)

    def filled(self) -> bool:
        return bool(self.database.text().strip())

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose the credentials file", self.credentials.text())
        if chosen:
            self.credentials.setText(chosen)


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
        path_page = QWidget(self)
        path_row = QHBoxLayout(path_page)
        path_row.setContentsMargins(0, 0, 0, 0)
        path_label = QLabel("&Path:", path_page)
        path_label.setBuddy(self.path)
        path_row.addWidget(path_label)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.server = ServerFields(self)
        self.where = QStackedWidget(self)
        self.where.addWidget(path_page)
        self.where.addWidget(self.server)
        self.hint = QLabel(self)
        self.hint.setObjectName("storeHint")
        self.hint.setWordWrap(True)
        self.hint.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.error = QLabel(self)
        self.error.setObjectName("storeError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Type:", self.type)
        form.addRow(self.where)
        # The path row and the server's rows sit in a page of their own: one label width lines all fields up.
        labels = [form.labelForField(self.name), form.labelForField(self.type), path_label, *self.server.labels]
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)
        form.addRow(self.hint)
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
        self.server.database.textChanged.connect(self._changed)
        if store is not None:
            self.name.setText(store.name)
            self.name.setReadOnly(True)
            self.type.setCurrentIndex(max(0, self.type.findData(store.type)))
            self.type.setEnabled(False)
            if driver_for(store.type).location_kind == "server":
                self.server.show_location(driver_for(store.type), store.path)
            else:
                self.path.setText(store.path)
        self._type_changed()

    @property
    def store_type(self) -> str:
        return self.type.currentData()

    def _type_changed(self) -> None:
        driver = driver_for(self.store_type)
        self.hint.setText(driver.hint)
        server = driver.location_kind == "server"
        self.where.setCurrentWidget(self.server if server else self.where.widget(0))
        if server and not self.editing:
            self.server.port.setValue(driver.default_port)
        self.where.setFixedHeight(self.where.currentWidget().sizeHint().height())
        self._changed()
        self._fit()

    def _fit(self) -> None:
        """Grow to what the wrapped hint and error need at the current width (they are never clipped)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.layout().totalHeightForWidth(self.width())))

    def _changed(self) -> None:
        self.error.hide()
        server = driver_for(self.store_type).location_kind == "server"
        ok = bool(self.name.text().strip() and (self.server.filled() if server else self.path.text().strip()))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _browse(self) -> None:
        start = self.path.text() or str(self.engine.paths.data_dir.parent)
        driver = driver_for(self.store_type)
        if driver.location_kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Choose the folder to back up", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, f"Choose the {self.store_type} store's file", start,
                                                    driver.file_filter)
        if chosen:
            self.path.setText(chosen)

    def accept(self) -> None:
        name, path = self.name.text().strip(), self.path.text().strip()
        try:
            driver = driver_for(self.store_type)
            if driver.location_kind == "server":
                path = self.server.url(driver)
            if self.editing is not None:
                self.result_store = self.engine.update_store(name, path)
            else:
                self.result_store = self.engine.add_store(name, self.store_type, path)
        except EXPECTED_ERRORS + (OSError,) as error:
            self.error.setText(error_text(error))
            self.error.show()
            self._fit()
            return
        super().accept()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        (self.where.currentWidget() if self.editing else self.name).setFocus(Qt.FocusReason.OtherFocusReason)
