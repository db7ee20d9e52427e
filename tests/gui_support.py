"""Helpers for the console's pytest-qt tests: a main window over the test engine, holders, clicks."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from strongroom.core.jobs import Job, JobListener, JobState
from strongroom.gui.lock_panel import STATE as LOCK_STATE

from .conftest import CLI

JOB_TIMEOUT_MS = 30_000


def wait_for_jobs(qtbot, jobs: list[Job], timeout: int = JOB_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: all(job.state.terminal for job in jobs), timeout=timeout)


def answer(monkeypatch, module: str, reply: bool) -> list[str]:
    """Make ``ask`` in ``module`` answer ``reply``; returns the questions it was asked."""
    asked: list[str] = []

    def ask(_parent, title, text, *_args, **_kwargs) -> bool:
        asked.append(f"{title}\n{text}")
        return reply

    monkeypatch.setattr(f"{module}.ask", ask)
    return asked


def error_messages(parent: QWidget) -> list[str]:
    return [box.text() for box in parent.findChildren(QMessageBox, "errorMessage") if box.isVisible()]


class ExternalHolder:
    """`strongroom locks with TYPE -- <reads stdin>` in another process, until ``release``."""

    def __init__(self, home: Path, store_type: str, job_id: str = "cli-holder", store: str = "nightly") -> None:
        self.job_id = job_id
        self.process = subprocess.Popen(
            [*CLI, "--home", str(home), "locks", "with", store_type, "--job-id", job_id, "--store", store, "--",
             sys.executable, "-c", "import sys; print('holding', flush=True); sys.stdin.read()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # printed only once the mutex is held
        assert line.strip() == "holding", f"the holder did not start: {line!r}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(30)

    def __enter__(self) -> ExternalHolder:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


class HoldUntil(JobListener):
    """Keeps a job inside its store (holding its mutex) until ``release`` is set, or it is cancelled."""

    def __init__(self, release: threading.Event, cancel_aware: bool = False) -> None:
        self.release = release
        self.entered = threading.Event()
        self.cancel_aware = cancel_aware

    def job_state(self, job, state) -> None:
        if state != JobState.RUNNING or self.entered.is_set():
            return
        self.entered.set()
        if self.cancel_aware:
            deadline = time.monotonic() + 30
            while not self.release.wait(0.01):  # simulated work that notices a cancel
                job.check_cancelled()
                assert time.monotonic() < deadline, "the job was neither released nor cancelled"
            return
        assert self.release.wait(20), "the other job never got its turn"


def cell_text(view, row: int, column: int) -> str:
    return str(view.model().index(row, column).data(Qt.ItemDataRole.DisplayRole) or "")


def submit_store_dialog(console, name: str, store_type: str, path) -> object:
    """Open the Add-store dialog, fill it in as a user would and press OK; the dialog (still open on an error)."""
    from strongroom.gui.store_dialog import StoreDialog

    dialog = StoreDialog(console.engine, parent=console)
    dialog.show()
    dialog.name.setText(name)
    dialog.type.setCurrentIndex(dialog.type.findData(store_type))
    dialog.path.setText(str(path))
    dialog.accept()
    return dialog


def lock_row(window, store_type: str):
    """The lock panel's row of a store type's mutex, if shown."""
    return window.lock_panel.items.get(store_type)


def lock_state(window, store_type: str) -> str:
    item = lock_row(window, store_type)
    return item.text(LOCK_STATE) if item is not None else ""
