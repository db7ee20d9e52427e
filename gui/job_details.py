"""One job's details: outcome, warnings and its whole log (live while the job runs)."""

from __future__ import annotations

import time

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QMessageBox, QPlainTextEdit, QVBoxLayout,
                               QWidget)

from ..core.catalog import JobRecord
from ..core.jobs import Job
from ..core.jobs.job import log_stamp
from ..core.units import counted, human_bytes, human_time


class JobDetailsDialog(QDialog):
    def __init__(self, record: JobRecord, job: Job | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetails")
        self.job = job
        self.setWindowTitle(f"Job {record.id}")
        self.summary = QLabel(self)
        self.summary.setObjectName("jobSummary")
        self.summary.setWordWrap(True)
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("jobLog")
        self.log.setReadOnly(True)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # long paths and messages stay readable
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.copy_button = buttons.addButton("Copy log", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copyLog")
        self.copy_button.clicked.connect(self.copy_log)
        self.save_button = buttons.addButton("Save log…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setObjectName("saveLog")
        self.save_button.clicked.connect(lambda: self.save_log())
        self.record = record
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Log:", self))
        layout.addWidget(self.log, 1)
        layout.addWidget(buttons)
        self.show_record(record, job.stamped_log() if job else record.log)
        self.resize(860, 480)

    def show_record(self, record: JobRecord, log: list[str]) -> None:
        lines = [f"{record.operation} of store {record.store}: {record.state.replace('-', ' ')}",
                 f"created {human_time(record.created)}, started {human_time(record.started)}, "
                 f"finished {human_time(record.finished)}",
                 f"{counted(record.files, 'file')}, {human_bytes(record.bytes)}" + (f", set {record.set_id}" if record.set_id else "")]
        if record.error:
            lines.append(f"Error: {record.error}")
        seen = dict.fromkeys(record.warnings)  # each distinct warning once, in order, with how often it came
        lines.extend(f"Warning: {warning}" + (f" ({record.warnings.count(warning)} times)"
                                              if record.warnings.count(warning) > 1 else "") for warning in seen)
        self.summary.setText("\n".join(lines))
        self.log.setPlainText("\n".join(log))

    def text(self) -> str:
        """The summary and the whole log, as copied or saved."""
        return f"{self.summary.text()}\n\n{self.log.toPlainText()}\n"

    def copy_log(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def save_log(self, path: str | None = None) -> Path | None:
        """Write the summary and log to ``path`` (asked for when not given); the file written, or None."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save the job's log", f"{self.record.id}.log",
                                                  "Logs (*.log *.txt);;All files (*)")
            if not path:
                return None
        target = Path(path)
        try:
            target.write_text(self.text(), encoding="utf-8")
        except OSError as error:
            reason = error.strerror or str(error)
            QMessageBox.warning(self, "Cannot save the log", f"{target} could not be written ({reason}): choose "
                                "another place")
            return None
        return target

    def append(self, job_id: str, line: str) -> None:
        if self.job is not None and job_id == self.job.id:
            self.log.appendPlainText(f"{log_stamp(time.time())}  {line}")

    def refresh(self, job_id: str) -> None:
        if self.job is not None and job_id == self.job.id and self.job.state.terminal:
            self.job.record.warnings, self.job.record.error = list(self.job.warnings), self.job.error
            self.show_record(self.job.record, self.job.stamped_log())
