"""One job's details: outcome, warnings and its whole log (live while the job runs)."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

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
        lines.extend(f"Warning: {warning}" for warning in record.warnings)
        self.summary.setText("\n".join(lines))
        self.log.setPlainText("\n".join(log))

    def append(self, job_id: str, line: str) -> None:
        if self.job is not None and job_id == self.job.id:
            self.log.appendPlainText(f"{log_stamp(time.time())}  {line}")

    def refresh(self, job_id: str) -> None:
        if self.job is not None and job_id == self.job.id and self.job.state.terminal:
            self.job.record.warnings, self.job.record.error = list(self.job.warnings), self.job.error
            self.show_record(self.job.record, self.job.stamped_log())
