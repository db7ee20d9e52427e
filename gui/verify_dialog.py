"""Choose a set to verify: any set in the catalog, or a set file picked from disk.

A set file the catalog does not know (copied from elsewhere) has nothing that vouches for it:
it is verified as untrusted, once the user has agreed to that.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from pathlib import Path

from ..core.catalog import SetRecord
from ..core.units import human_bytes, human_time
from .messages import ask


class VerifyDialog(QDialog):
    """``chosen`` is a set id or a set file's path once accepted; ``untrusted`` when it is a file of no catalog."""

    def __init__(self, sets: list[SetRecord], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verifyDialog")
        self.setWindowTitle("Verify a backup set")
        self.chosen: str | None = None
        self.untrusted = False
        self._known_files = {record.path for record in sets}
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("verifySets")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(["Store", "Taken", "Kind", "Size", "Last verified", "Set"])
        for record in reversed(sets):
            item = QTreeWidgetItem(self.tree, [record.store, human_time(record.created), record.kind,
                                               human_bytes(record.stored_bytes),
                                               human_time(record.verified) if record.verified else "never", record.id])
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.verify_button = buttons.addButton("Verify", QDialogButtonBox.ButtonRole.AcceptRole)
        self.verify_button.setEnabled(self.tree.topLevelItemCount() > 0)
        from_file = QPushButton("Verify a set file…", self)
        buttons.addButton(from_file, QDialogButtonBox.ButtonRole.ActionRole)
        from_file.clicked.connect(self._pick_file)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(820, 420)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a backup set", "", "Backup sets (*.tar.zst);;All files (*)")
        if not path:
            return
        foreign = str(Path(path).absolute()) not in self._known_files
        if foreign and not ask(
                self, "Verify a set from elsewhere?",
                f"{path} is not a set of this console's catalog (copied from elsewhere?), so nothing vouches for "
                "it.\n\nIt can still be checked as untrusted: read whole, trusting nothing it says about itself.",
                "Verify anyway"):
            return
        self.chosen = path
        self.untrusted = foreign
        super().accept()

    def accept(self) -> None:
        item = self.tree.currentItem()
        if item is None:
            return
        self.chosen = item.data(0, Qt.ItemDataRole.UserRole)
        super().accept()
