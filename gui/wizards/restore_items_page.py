"""The restore wizard's items page: everything in the set, or the files and folders ticked in its tree.

The set's manifest is read off the GUI thread; its folders are read from the manifest's
index as they are opened, and a name filter searches the whole set in the background.
A database set is restored whole, so the page only says so.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QLineEdit, QRadioButton, QTreeView, QVBoxLayout,
                               QWizardPage)

from ...core.catalog import CatalogError
from ...core.engine import Engine
from ...core.units import human_bytes
from ..background import BackgroundCall
from ..models.manifest_tree import ManifestTreeModel, find_matches
from ...core.restore.several import is_database_store

ERROR_STYLE = "color: #c62828;"


class ItemsPage(QWizardPage):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.setTitle("What to restore?")
        self.setSubTitle("Everything, or tick files and folders (a ticked folder brings everything below it).")
        self.manifest = None
        self._loaded_for: str | None = None
        self.everything = QRadioButton("Everything at this point in time", self)
        self.everything.setObjectName("restoreEverything")
        self.some = QRadioButton("Only the items ticked below", self)
        self.some.setObjectName("restoreSome")
        self.everything.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.everything)
        group.addButton(self.some)
        self.filter = QLineEdit(self)
        self.filter.setObjectName("itemFilter")
        self.filter.setPlaceholderText("Find by name…")
        self.filter.setClearButtonEnabled(True)
        self.model = ManifestTreeModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("restoreItems")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setColumnWidth(0, 320)
        self.view.setColumnWidth(1, 150)
        self.view.setColumnWidth(2, 150)
        self.status = QLabel(self)
        self.status.setObjectName("itemsStatus")
        self.status.setWordWrap(True)
        self.loader = BackgroundCall(self)
        self.searcher = BackgroundCall(self)
        self.searching = False
        self.filter.textChanged.connect(self._filter)
        self.model.selection_changed.connect(self._selection_changed)
        self.some.toggled.connect(self._selection_changed)
        choice = QHBoxLayout()
        choice.addWidget(self.everything)
        choice.addWidget(self.some)
        choice.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(choice)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

    def initializePage(self) -> None:  # noqa: N802 (Qt naming)
        record = self.wizard().set_page.record()
        try:
            whole = is_database_store(self.wizard().store())
        except (CatalogError, AttributeError):  # a removed store, its set not read yet: told by the set later
            whole = False
        if whole:
            self.everything.setChecked(True)
        for widget in (self.some, self.filter, self.view):
            widget.setEnabled(not whole)
        if record.id == self._loaded_for:
            return
        self._loaded_for = record.id
        self.manifest = None
        self.model.set_manifest(None)
        self.status.setStyleSheet("")
        self.status.setText(f"Reading the contents of set {record.id}…")
        engine = self.engine
        self.loader.run(lambda: engine.load_manifest(record), self._loaded)
        self.completeChanged.emit()

    def _loaded(self, result, error: str | None) -> None:
        if error:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(error)
            self._loaded_for = None
            return
        self.manifest = result  # its head only: folders are read from its index as they are opened
        self.model.set_manifest(result)
        self._filter(self.filter.text())
        self._selection_changed()

    def _filter(self, text: str) -> None:
        """Search the whole set for a name, off the GUI thread (a big set takes a few seconds)."""
        manifest = self.manifest
        if manifest is None:
            return
        if not text.strip():
            self.searcher.run(lambda: None, lambda result, error: None)  # supersedes a search still running
            self.searching = False
            self.model.set_matches(None)
            self.view.setRootIsDecorated(True)
            self._selection_changed()
            return
        self.searching = True
        self.view.setRootIsDecorated(False)
        self._selection_changed()
        self.searcher.run(lambda: find_matches(manifest, text), self._found)

    def _found(self, result, error: str | None) -> None:
        self.searching = False
        if error:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(error)
            return
        self.model.set_matches(*result)
        self._selection_changed()

    def _selection_changed(self) -> None:
        if self.manifest is None:
            return
        if self.model.checked and not self.some.isChecked():
            self.some.setChecked(True)
            return
        manifest = self.manifest
        if not self.some.isEnabled():
            self.status.setStyleSheet("")
            self.status.setText(f"A database is restored whole: its dump of {human_bytes(manifest.bytes)} is loaded "
                                "into the database chosen on the next page.")
            self.completeChanged.emit()
            return
        text = f"At this point in time the store held {len(manifest.entries)} items, " \
               f"{human_bytes(manifest.store_bytes)} of files: that is what “Everything” restores."
        if manifest.kind == "incremental":
            text += f" (This incremental set itself stores only the {manifest.files} changed " \
                    f"{'file' if manifest.files == 1 else 'files'}, {human_bytes(manifest.bytes)}; the rest comes " \
                    "from the sets it stands on.)"
        if self.searching:
            text += " Searching…"
        elif self.model.matches is not None:
            text += f" {len(self.model.matches) + self.model.more_matches} match the filter"
            text += f" (the first {len(self.model.matches)} are shown)." if self.model.more_matches else "."
        if self.some.isChecked():
            text += (f" Ticked: {self.model.selected_summary()}."
                     if self.model.checked else " Tick the items to restore.")
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.completeChanged.emit()

    def paths(self) -> tuple[str, ...]:
        return self.model.selected_paths() if self.some.isChecked() else ()

    def isComplete(self) -> bool:  # noqa: N802 (Qt naming)
        return self.manifest is not None and (self.everything.isChecked() or bool(self.model.checked))
