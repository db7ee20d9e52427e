"""``strongroom-gui --self-test``: build the console offscreen, walk both wizards, exit 0 if all is well.

It works in a throw-away home (unless --home is given): it registers a small folder
store, backs it up through the engine, opens the main window, walks the backup wizard
to its summary and the restore wizard to its plan, and checks each page built. The
installer's smoke test runs it on machines with no display.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

STEP_TIMEOUT_MS = 20_000


def run_self_test(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _quiet_offscreen_notes()
    with tempfile.TemporaryDirectory(prefix="strongroom-self-test-") as scratch:
        try:
            _walk(Path(args.home) if args.home else Path(scratch) / "home", Path(scratch))
        except Exception as error:  # every failure is reported as one line and exit 1
            print(f"strongroom-gui self-test FAILED: {error}", file=sys.stderr)
            return 1
    print("strongroom-gui self-test passed: main window, backup wizard (4 pages), restore wizard (5 pages)")
    return 0


def _quiet_offscreen_notes() -> None:
    """The offscreen platform notes each window it cannot size; those notes are not failures."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(kind, context, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def _wait(condition, what: str) -> None:
    """Run the event loop until ``condition()`` holds, for at most STEP_TIMEOUT_MS."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    loop = QEventLoop()
    poll, deadline = QTimer(), QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start(STEP_TIMEOUT_MS)
    loop.exec()
    poll.stop()
    deadline.stop()
    if not condition():
        raise RuntimeError(f"timed out waiting for {what}")


def _walk(home: Path, scratch: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from ..core.engine import Engine
    from ..core.job_state import JobState
    from ..core.paths import resolve_paths
    from .main_window import MainWindow

    _app = QApplication.instance() or QApplication(["strongroom-gui"])  # kept alive while the windows exist
    engine = Engine(resolve_paths(home))
    source = scratch / "self-test-store"
    (source / "sub").mkdir(parents=True, exist_ok=True)
    (source / "hello.txt").write_text("hello\n")
    (source / "sub" / "data.bin").write_bytes(os.urandom(4096))
    name = "self-test"
    if name not in {store.name for store in engine.catalog.list_stores()}:
        engine.add_store(name, "folder", str(source))
    job = engine.backup_job(name)
    if job.run() is not JobState.SUCCEEDED:
        raise RuntimeError(f"the self-test backup failed: {job.error}")

    window = MainWindow(engine, tray=False)
    window.show()
    _wait(lambda: window.lock_panel.tree.topLevelItemCount() > 0, "the lock panel")
    if window.stores_view.model.rowCount() < 1:
        raise RuntimeError("the stores table is empty")

    backup = window.open_backup_wizard({name})
    for _page in range(3):
        if not backup.currentPage().isComplete():
            raise RuntimeError(f"backup wizard page {backup.currentPage().title()!r} is not complete")
        backup.next()
    if "self-test" not in backup.summary_page.text.toPlainText():
        raise RuntimeError("the backup summary does not name the store")
    backup.reject()

    restore = window.open_restore_wizard(name)
    restore.next()  # -> set
    restore.next()  # -> items (read in the background)
    _wait(restore.items_page.isComplete, "the set's contents")
    restore.next()  # -> destination
    restore.destination_page.other.setChecked(True)
    restore.destination_page.picker.setText(str(scratch / "restored"))
    restore.next()  # -> summary (planned in the background)
    _wait(restore.summary_page.isComplete, "the restore plan")
    if "hello.txt" not in restore.summary_page.lines.toPlainText():
        raise RuntimeError("the restore summary does not list hello.txt")
    restore.reject()
    window.close()
    _wait(lambda: not window.isVisible(), "the window to close")
