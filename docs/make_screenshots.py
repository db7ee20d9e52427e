"""Render the console into docs/screenshots/: the main window with running and waiting jobs
and a busy lock panel, the empty first start, the Plans tab and the plan dialog, and every
page of both wizards (the backup wizard's last page also as "Save as a plan").

Runs offscreen in a throw-away home. To have something to show, a CLI process holds the
sqlite mutex (so SQLite jobs visibly wait for it) and the folder jobs are slowed to a
crawl (a few milliseconds per file) so they are caught mid-way.

    make screenshots        # or: python docs/make_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTime, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from strongroom.core.engine import Engine  # noqa: E402
from strongroom.core.jobs.job import JobCallbacks  # noqa: E402
from strongroom.core.paths import resolve_paths  # noqa: E402
from strongroom.core.plans.plan import Plan  # noqa: E402
from strongroom.core.plans.plan_book import PlanBook, Trigger  # noqa: E402
from strongroom.core.plans.plan_run import PlanRunner  # noqa: E402
from strongroom.gui.main_window import MainWindow  # noqa: E402
from strongroom.gui.store_dialog import StoreDialog  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "screenshots"
SLOW_FILE_SECONDS = 0.004


def settle(app: QApplication, ms: int = 400, until=lambda: True, timeout_ms: int = 20_000) -> None:
    """Let the event loop run for ``ms``, then until ``until()`` holds (bounded by ``timeout_ms``)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    waited = 0
    while not until() and waited < timeout_ms:
        QTimer.singleShot(50, loop.quit)
        loop.exec()
        waited += 50


def grab(widget: QWidget, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(OUT / f"{name}.png"))
    print(f"wrote {OUT / name}.png ({widget.width()}x{widget.height()})")


def dark_palette():
    """A dark theme, to check that state badges and text stay readable on it."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in ((role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1e1e1e"),
                         (role.AlternateBase, "#262626"), (role.Text, "#e6e6e6"), (role.Button, "#353535"),
                         (role.ButtonText, "#e6e6e6"), (role.Highlight, "#2a6fb0"), (role.HighlightedText, "#ffffff"),
                         (role.ToolTipBase, "#353535"), (role.ToolTipText, "#e6e6e6")):
        palette.setColor(name, QColor(colour))
    for name in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, name, QColor("#7a7a7a"))
    return palette


def make_data(root: Path) -> dict[str, tuple[str, Path]]:
    stores = {}
    for name, files in (("documents", 1500), ("photos", 800), ("projects", 600)):
        folder = root / name
        for number in range(files):
            path = folder / f"dir{number % 20:02d}" / f"file-{number:05d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(2048) + b"text " * 400)
        stores[name] = ("folder", folder)
    documents = root / "documents"  # what real folders hold besides files: links of both kinds, a FIFO, odd names
    os.symlink("dir00/file-00000.txt", documents / "latest.txt")
    os.symlink("/etc/hostname", documents / "hostname")
    os.link(documents / "dir00" / "file-00020.txt", documents / "same-inode.txt")
    os.mkfifo(documents / "inbox.fifo")
    (documents / "line\nbreak.txt").write_bytes(b"a newline in the name")
    for name in ("crm", "inventory"):
        db = root / f"{name}.db"
        with sqlite3.connect(db) as connection:
            connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT)")
            connection.executemany("INSERT INTO items (body) VALUES (?)", [("x" * 200,)] * 5000)
        stores[name] = ("sqlite", db)
    return stores


def main() -> int:
    app = QApplication.instance() or QApplication(["strongroom-gui"])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory(prefix="strongroom-shots-") as scratch:
        scratch = Path(scratch)
        home = scratch / "home"
        engine = Engine(resolve_paths(home))

        empty = MainWindow(engine, tray=False)
        empty.show()
        settle(app)
        grab(empty, "main-window-empty")
        empty.close()
        settle(app, 100)

        for name, (kind, path) in make_data(scratch / "data").items():
            engine.add_store(name, kind, str(path))
        for name in ("documents", "crm"):
            engine.backup_job(name).run()
        (scratch / "data" / "documents" / "dir00" / "file-00000.txt").write_text("edited after the first backup")
        engine.backup_job("documents", engine.default_backup_options(incremental=True)).run()

        book = PlanBook(engine.catalog)
        book.add(Plan(name="nightly", stores=("documents", "crm"), schedule="daily 02:30", excludes=("*.tmp",)))
        book.add(Plan(name="hourly-inventory", stores=("inventory",), schedule="hourly", full_every=24))
        book.add(Plan(name="weekly-photos", stores=("photos",), schedule="weekly sat 03:00", enabled=False))
        PlanRunner(engine, book, book.get("nightly"), Trigger.MANUAL).run()

        window = MainWindow(engine, tray=False)
        window.show()
        settle(app)
        window.top_tabs.setCurrentWidget(window.plans_view)
        settle(app, 150)
        grab(window, "main-window-plans")
        dialog = window.plans.open_dialog(book.get("nightly"))
        settle(app, 150)
        grab(dialog, "plan-dialog")
        dialog.reject()
        sets = window.open_sets_dialog("documents")
        sets.keep["last"].setValue(1)
        sets.preview()
        settle(app, 150)
        grab(sets, "sets-dialog-preview")
        sets.reject()
        window.top_tabs.setCurrentWidget(window.stores_view)
        store_dialog = StoreDialog(engine, parent=window)
        store_dialog.show()
        settle(app, 150)
        grab(store_dialog, "add-store-folder")
        store_dialog.type.setCurrentIndex(store_dialog.type.findData("postgresql"))
        store_dialog.name.setText("crm")
        store_dialog.server.host.setText("db1.example.net")
        store_dialog.server.user.setText("backup")
        store_dialog.server.database.setText("crm")
        settle(app, 150)
        grab(store_dialog, "add-store-postgresql")
        store_dialog.reject()

        backup = window.open_backup_wizard({"documents", "photos", "crm"})
        for index, page in enumerate(("stores", "destination", "options", "summary"), 1):
            settle(app, 150)
            grab(backup, f"backup-wizard-{index}-{page}")
            if page != "summary":
                backup.next()
        backup.summary_page.as_plan.setChecked(True)
        backup.summary_page.plan_name.setText("every-evening")
        backup.summary_page.schedule.at.setTime(QTime(21, 0))
        settle(app, 150)
        grab(backup, "backup-wizard-5-save-as-plan")
        backup.reject()

        restore = window.open_restore_wizard("documents")
        settle(app, 150)
        grab(restore, "restore-wizard-1-store")
        restore.next()
        settle(app, 150)
        grab(restore, "restore-wizard-2-set")
        restore.next()
        settle(app, 100, restore.items_page.isComplete)
        restore.items_page.view.expandToDepth(0)
        restore.items_page.some.setChecked(True)
        restore.items_page.model.set_checked("dir03", True)
        settle(app, 100)
        grab(restore, "restore-wizard-3-items")
        restore.items_page.filter.setText("file-0004")
        settle(app, 100)
        grab(restore, "restore-wizard-3-items-filtered")
        restore.items_page.filter.setText("")
        restore.next()
        restore.destination_page.other.setChecked(True)
        restore.destination_page.picker.setText(str(scratch / "restored"))
        settle(app, 100)
        grab(restore, "restore-wizard-4-destination")
        restore.next()
        settle(app, 100, restore.summary_page.isComplete)
        grab(restore, "restore-wizard-5-summary")
        restore.reject()

        full = engine.catalog.list_sets("documents")[0]  # found damaged by a verify: the wizard asks for an override
        engine.catalog.mark_damaged(full.id, "dir02/file-00021.txt: SHA-256 differs from the manifest's")
        damaged = window.open_restore_wizard("documents")
        damaged.next()
        damaged.set_page.tree.setCurrentItem(damaged.set_page.tree.topLevelItem(1))
        settle(app, 150)
        grab(damaged, "restore-wizard-2-damaged-set")
        damaged.reject()
        engine.catalog.mark_verified(full.id)

        newest = engine.catalog.latest_set("documents")  # several stores at once: a damaged newest set passed over
        engine.catalog.mark_damaged(newest.id, "dir00/file-00000.txt: SHA-256 differs from the manifest's")
        several = window.open_several_restore_wizard({"documents", "crm"})
        settle(app, 150)
        grab(several, "restore-several-1-stores")
        several.next()
        several.places_page.choice.other.setChecked(True)
        several.places_page.choice.picker.setText(str(scratch / "restored-all"))
        settle(app, 100)
        grab(several, "restore-several-2-destination")
        several.next()
        settle(app, 100, several.summary_page.isComplete)
        grab(several, "restore-several-3-summary")
        several.reject()
        engine.catalog.mark_verified(newest.id)

        # A busy console: a CLI holds the sqlite mutex; folder jobs crawl, one runs and one queues.
        holder = subprocess.Popen([sys.executable, "-m", "strongroom.core.cli.main", "--home", str(home), "locks",
                                   "with", "sqlite", "--job-id", "cli-nightly-db", "--store", "crm", "--", "cat"],
                                  stdin=subprocess.PIPE)
        original = JobCallbacks.file_done

        def crawl(self, path, size=0):
            time.sleep(SLOW_FILE_SECONDS)  # simulated slow disk, so the picture catches jobs mid-way
            original(self, path, size)

        JobCallbacks.file_done = crawl
        window.manager.isolated = False  # the crawl is patched into this process: the jobs must run here to crawl
        try:
            settle(app, 300, lambda: any(s.store_type == "sqlite" and s.holder for s in window.watcher.latest))
            options = engine.default_backup_options()
            window.start_backups([(name, options) for name in ("documents", "photos", "crm", "inventory")])
            window.start_backups([("projects", engine.default_backup_options(incremental=True))])
            settle(app, 2500)
            grab(window, "main-window-busy")
            for name, (width, height) in (("small", (900, 600)), ("large", (1600, 1000))):
                window.resize(width, height)
                settle(app, 300)
                grab(window, f"main-window-{name}")
            window.resize(1280, 860)
            settle(app, 200)
            app.setPalette(dark_palette())
            settle(app, 300)
            grab(window, "main-window-busy-dark")
            app.setPalette(app.style().standardPalette())
        finally:
            window.cancel_all()
            holder.stdin.close()
            holder.wait(30)
            settle(app, 100, lambda: not window.manager.busy)
            JobCallbacks.file_done = original
        window.close()
        settle(app, 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
