"""Settings: default target, lock scope, compression level, verify-after-backup default."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from ..core.settings import Settings, SettingsError, save_settings
from .wizards.target_picker import FolderPicker, folder_problem

SCOPE_TEXT = {
    "user": "per user: only your own jobs share the mutexes",
    "machine": "per machine: every administrator on this host shares them",
}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, path: Path, fallback_target: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.path = path
        self.saved: Settings | None = None
        self.original = settings
        self.target = FolderPicker("Choose the default backup target", self)
        self.target.setObjectName("settingsTarget")
        self.target.edit.setPlaceholderText(str(fallback_target))
        self.target.setText(settings.default_target)
        self.scope = QComboBox(self)
        self.scope.setObjectName("settingsScope")
        for scope, text in SCOPE_TEXT.items():
            self.scope.addItem(text, scope)
        self.scope.setCurrentIndex(self.scope.findData(settings.lock_scope))
        self.level = QSpinBox(self)
        self.level.setObjectName("settingsLevel")
        self.level.setRange(1, 22)
        self.level.setValue(settings.compression_level)
        self.verify = QCheckBox("Verify every new set after writing it", self)
        self.verify.setObjectName("settingsVerify")
        self.verify.setChecked(settings.verify_after_backup)
        self.error = QLabel(self)
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        note = QLabel(f"Saved in {path}. The lock scope takes effect when the console next starts.", self)
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Default backup target:", self.target)
        form.addRow("Lock scope:", self.scope)
        form.addRow("Compression level (1–22):", self.level)
        form.addRow("", self.verify)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    def accept(self) -> None:
        target = self.target.text()
        if target and folder_problem(target):
            self.error.setText(folder_problem(target))
            return
        try:
            chosen = replace(self.original, default_target=str(Path(target).expanduser()) if target else "",
                             lock_scope=self.scope.currentData(), compression_level=self.level.value(),
                             verify_after_backup=self.verify.isChecked())  # notifications kept as they are
            save_settings(self.path, chosen)
        except SettingsError as error:
            self.error.setText(str(error))
            return
        self.saved = chosen
        super().accept()
