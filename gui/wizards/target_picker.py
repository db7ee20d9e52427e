"""A folder chooser row (line edit + Browse…) shared by the wizards and the settings."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from ...core.units import human_bytes


class FolderPicker(QWidget):
    changed = Signal(str)

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.edit = QLineEdit(self)
        self.edit.setMinimumWidth(320)
        self.browse = QPushButton("Browse…", self)
        self.browse.clicked.connect(self._browse)
        self.edit.textChanged.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self.edit.setText(text)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.caption, self.text() or str(Path.home()))
        if chosen:
            self.edit.setText(chosen)


def folder_problem(text: str) -> str:
    """Why ``text`` cannot be a target or restore folder ("" when it can)."""
    if not text:
        return "choose a folder"
    path = Path(text).expanduser()
    if not path.is_absolute():
        return f"{text} is not an absolute path: give the full path of a folder"
    if path.exists() and not path.is_dir():
        return f"{path} exists and is not a folder"
    return ""


def free_space_text(text: str) -> str:
    """"123.4 GiB free on /mnt/backup" for the nearest existing folder of ``text``."""
    path = Path(text).expanduser()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return ""
    return f"{human_bytes(usage.free)} free of {human_bytes(usage.total)} there"
