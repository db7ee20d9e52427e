"""Folder choosers shared by the wizards and the settings: a path row with Browse…, and
"the usual place or another folder" as two radio buttons over such a row."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QRadioButton,
                               QVBoxLayout, QWidget)

from ...core.free_space import room_at
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


class FolderChoice(QWidget):
    """The usual place (checked at first) or another folder picked below it."""

    changed = Signal()

    def __init__(self, usual_text: str, other_text: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.usual = QRadioButton(usual_text, self)
        self.other = QRadioButton(other_text, self)
        self.usual.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.usual)
        group.addButton(self.other)
        self.picker = FolderPicker(caption, self)
        self.picker.setEnabled(False)
        self.other.toggled.connect(self.picker.setEnabled)
        self.other.toggled.connect(self.changed)
        self.picker.changed.connect(self.changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.usual)
        layout.addWidget(self.other)
        layout.addWidget(self.picker)

    def folder(self) -> Path | None:
        """The other folder when chosen, else None (the usual place)."""
        return Path(self.picker.text()).expanduser() if self.other.isChecked() else None

    def problem(self) -> str:
        return folder_problem(self.picker.text()) if self.other.isChecked() else ""


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
    """"123.4 GiB free of 500.0 GiB there" for the nearest existing folder of ``text``."""
    room = room_at(text)
    return f"{human_bytes(room.free)} free of {human_bytes(room.total)} there" if room is not None else ""
