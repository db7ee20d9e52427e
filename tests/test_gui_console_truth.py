"""The console tells the truth at a glance (issue 17): one test per finding, on the real console.

Each test drives the main window or a wizard with qtbot the way an administrator would,
after making the situation real (a set damaged on disk and found so by verify, a job
running, ...), and checks what the window shows against the catalog and the jobs.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt

from strongroom.core.jobs import JobState
from strongroom.core.restore import RestoreOptions
from strongroom.core.units import human_time

from .conftest import cli
from .trees import make_tree


def _damage_on_disk(path: Path) -> None:
    """Flip bytes in the middle of a set file, as a failing disk would."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2)
        data = handle.read(64)
        handle.seek(size // 2)
        handle.write(bytes(byte ^ 0xFF for byte in data))


def _store_with_a_damaged_full_set(engine, tmp_path: Path):
    """A folder store whose full set was damaged and found so by verify, and an incremental set on top of it."""
    source = make_tree(tmp_path / "docs", {f"f{n}.bin": os.urandom(40_000) for n in range(20)})
    engine.add_store("docs", "folder", str(source))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    (source / "f0.bin").write_bytes(b"changed")
    assert engine.backup_job("docs", engine.default_backup_options(incremental=True)).run() == JobState.SUCCEEDED
    full, incremental = engine.catalog.list_sets("docs")
    _damage_on_disk(Path(full.path))
    verify = engine.verify_job(full.id)
    assert verify.run() == JobState.FAILED
    return engine.catalog.get_set(full.id), engine.catalog.get_set(incremental.id)


def test_a_set_that_failed_verify_is_marked_damaged_in_the_restore_wizard_and_needs_an_override(console, qtbot,
                                                                                                 tmp_path):
    full, incremental = _store_with_a_damaged_full_set(console.engine, tmp_path)
    assert full.damaged and not incremental.damaged
    wizard = console.open_restore_wizard("docs")
    wizard.next()
    page = wizard.set_page
    newest, oldest = page.tree.topLevelItem(0), page.tree.topLevelItem(1)
    assert oldest.text(5) == "DAMAGED" and full.damaged in oldest.toolTip(5)
    assert newest.text(5) == "stands on a damaged set" and full.id in newest.toolTip(5)
    for item in (newest, oldest):
        page.tree.setCurrentItem(item)
        assert not page.isComplete()
        assert page.damage.isVisible() and page.allow_damaged.isVisible()
        assert "failed its last verify" in page.damage.text()
        page.allow_damaged.setChecked(True)
        assert page.isComplete()
        assert wizard.options().allow_damaged
    page.tree.setCurrentItem(newest)
    assert not page.allow_damaged.isChecked() and not page.isComplete()  # a new choice asks again


def test_a_restore_of_a_damaged_set_is_refused_unless_allowed_and_the_set_list_says_damaged(engine, home, tmp_path):
    full, incremental = _store_with_a_damaged_full_set(engine, tmp_path)
    for record in (full, incremental):
        job = engine.restore_job("docs", RestoreOptions(to=tmp_path / f"out-{record.kind}"), set_id=record.id)
        assert job.run() == JobState.FAILED
        assert "failed its last verify" in job.error and full.id in job.error
        assert not (tmp_path / f"out-{record.kind}").exists()
    allowed = engine.restore_job("docs", RestoreOptions(to=tmp_path / "allowed", allow_damaged=True), set_id=full.id)
    allowed.run()
    assert any("restoring it anyway, as asked" in warning for warning in allowed.warnings)
    listing = cli(home, "sets", "docs")
    assert listing.returncode == 0
    line = next(line for line in listing.stdout.splitlines() if line.startswith(full.id))
    assert "DAMAGED" in line
    refused = cli(home, "restore", "docs", "--set", full.id, "--to", str(tmp_path / "cli"))
    assert refused.returncode == 1 and "failed its last verify" in refused.stdout + refused.stderr


def test_the_items_page_of_an_incremental_set_says_everything_restores_the_whole_point_in_time(console, qtbot,
                                                                                                tmp_path):
    from strongroom.core.units import human_bytes

    engine = console.engine
    source = make_tree(tmp_path / "docs", {f"d/f{n}.bin": os.urandom(30_000) for n in range(30)})
    engine.add_store("docs", "folder", str(source))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    (source / "d" / "f3.bin").write_bytes(b"x" * 1000)
    assert engine.backup_job("docs", engine.default_backup_options(incremental=True)).run() == JobState.SUCCEEDED
    manifest = engine.manifest_for(engine.catalog.latest_set("docs").id)
    assert manifest.kind == "incremental" and manifest.files == 1
    wizard = console.open_restore_wizard("docs")
    wizard.next()
    wizard.next()
    items = wizard.items_page
    qtbot.waitUntil(items.isComplete, timeout=10_000)
    text = items.status.text()
    assert items.everything.text() == "Everything at this point in time"
    assert f"held {len(manifest.entries)} items, {human_bytes(manifest.store_bytes)} of files" in text
    assert len(manifest.entries) >= 31 and manifest.store_bytes >= 29 * 30_000 + 1000
    assert "only the 1 changed file" in text and "the rest comes from the sets it stands on" in text


def test_folders_above_a_ticked_item_in_the_restore_tree_show_a_partial_tick(engine, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from strongroom.gui.models.manifest_tree import ManifestTreeModel

    source = make_tree(tmp_path / "docs", {"a/b/c.txt": "c", "a/b/d.txt": "d", "a/e.txt": "e", "z.txt": "z"})
    engine.add_store("docs", "folder", str(source))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED
    model = ManifestTreeModel()
    model.set_manifest(engine.manifest_for(engine.catalog.latest_set("docs").id))

    def child(parent, name):
        model.fetchMore(parent)
        return next(model.index(row, 0, parent) for row in range(model.rowCount(parent))
                    if model.index(row, 0, parent).data() == name)

    def state(index):
        return Qt.CheckState(model.data(index, Qt.ItemDataRole.CheckStateRole))

    a = child(model.index(-1, -1), "a")
    b = child(a, "b")
    c = child(b, "c.txt")
    z = child(model.index(-1, -1), "z.txt")
    assert model.setData(c, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert state(c) == Qt.CheckState.Checked
    assert state(b) == Qt.CheckState.PartiallyChecked and state(a) == Qt.CheckState.PartiallyChecked
    assert state(z) == Qt.CheckState.Unchecked and state(child(b, "d.txt")) == Qt.CheckState.Unchecked
    assert model.setData(a, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)  # ticking a partial folder
    assert model.selected_paths() == ("a",) and state(b) == Qt.CheckState.Checked
    assert model.setData(a, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert state(b) == Qt.CheckState.Unchecked and not model.selected_paths()





def test_the_stores_table_shows_the_last_good_backup_beside_a_later_cancelled_attempt(console, qtbot, tmp_path, home):
    from strongroom.gui.main_window import MainWindow
    from strongroom.gui.models.stores_model import RESULT, WHEN

    from .gui_support import ExternalHolder, cell_text, wait_for_jobs

    engine = console.engine
    source = make_tree(tmp_path / "docs", {"a.txt": "a"})
    engine.add_store("docs", "folder", str(source))
    [good] = console.start_backups([("docs", engine.default_backup_options())])
    wait_for_jobs(qtbot, [good])
    good_set = engine.catalog.get_set(good.set_id)
    with ExternalHolder(home, "folder"):  # the next backup waits for the mutex, and is cancelled there
        [cancelled] = console.start_backups([("docs", engine.default_backup_options())])
        qtbot.waitUntil(lambda: cancelled.state == JobState.WAITING, timeout=10_000)
        console.manager.cancel(cancelled.id)
        wait_for_jobs(qtbot, [cancelled])
    assert cancelled.state == JobState.CANCELLED
    for window in (console, MainWindow(engine, tray=False)):  # and after a restart of the console
        table = window.stores_view.table
        qtbot.waitUntil(lambda: cell_text(table, 0, RESULT).startswith("cancelled"), timeout=10_000)
        when = cell_text(table, 0, WHEN)
        assert when.startswith(human_time(good_set.created)) and when.endswith("(just now)")
        assert cell_text(table, 0, RESULT).startswith("cancelled ")  # with its own time beside it
        assert good_set.id in table.model().index(0, WHEN).data(Qt.ItemDataRole.ToolTipRole)
        if window is not console:
            window.close()


def test_the_last_attempt_column_follows_a_backup_while_it_waits_and_runs(console, qtbot, tmp_path, home):
    from strongroom.gui.models.stores_model import RESULT

    from .gui_support import ExternalHolder, cell_text, wait_for_jobs

    engine = console.engine
    source = make_tree(tmp_path / "docs", {"a.txt": "a"})
    engine.add_store("docs", "folder", str(source))
    console.refresh_stores()
    table = console.stores_view.table
    assert cell_text(table, 0, RESULT) == "never backed up"
    with ExternalHolder(home, "folder"):
        [job] = console.start_backups([("docs", engine.default_backup_options())])
        qtbot.waitUntil(lambda: cell_text(table, 0, RESULT) == "waiting for mutex", timeout=10_000)
    wait_for_jobs(qtbot, [job])
    qtbot.waitUntil(lambda: cell_text(table, 0, RESULT) == "succeeded", timeout=10_000)


def test_back_up_now_starts_the_backup_at_once_without_the_wizard(console, qtbot, tmp_path):
    from PySide6.QtWidgets import QWizard

    from .gui_support import wait_for_jobs

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    console.refresh_stores()
    view = console.stores_view
    view.table.selectRow(0)
    assert view.backup_button.isEnabled()
    view.backup_button.click()
    qtbot.waitUntil(lambda: bool(console.manager.jobs), timeout=5000)
    [job] = console.manager.jobs.values()
    assert job.operation == "backup" and job.store_name == "docs"
    assert not [widget for widget in console.findChildren(QWizard) if widget.isVisible()]
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED


def test_the_backup_summary_names_a_stale_record_instead_of_saying_nothing_is_in_the_way(console, qtbot, tmp_path,
                                                                                         lockdir):
    from strongroom.core.mutex.records import write_record

    from .conftest import dead_pid, fake_record

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    write_record(lockdir.holder_path("folder"), fake_record("folder", pid=dead_pid(), job_id="job-dead"),
                 lockdir.file_mode)
    qtbot.waitUntil(lambda: any(status.store_type == "folder" and status.state == "stale"
                                for status in console.watcher.latest), timeout=5000)
    wizard = console.open_backup_wizard({"docs"})
    while wizard.currentPage() is not wizard.summary_page:
        wizard.next()
    text = wizard.summary_page.text.toPlainText()
    assert "job-dead" in text and "whose process has ended: the first job clears it before it starts" in text
    wizard.reject()


def test_the_restore_summary_gives_the_free_space_and_refuses_a_restore_that_does_not_fit(console, qtbot, tmp_path,
                                                                                         small_disk):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"big.bin": os.urandom(300_000)})))
    assert engine.backup_job("docs").run() == JobState.SUCCEEDED

    def to_summary(destination: Path):
        wizard = console.open_restore_wizard("docs")
        wizard.next()
        wizard.next()
        qtbot.waitUntil(wizard.items_page.isComplete, timeout=10_000)
        wizard.next()
        wizard.destination_page.other.setChecked(True)
        wizard.destination_page.picker.setText(str(destination))
        wizard.next()
        qtbot.waitUntil(lambda: wizard.summary_page.plan is not None, timeout=10_000)
        return wizard

    roomy = to_summary(tmp_path / "out")
    assert "free of" in roomy.summary_page.headline.text() and roomy.summary_page.isComplete()
    roomy.reject()
    (small_disk / "filler").write_bytes(os.urandom(1_900_000))  # leaves less than the set's 300 kB
    cramped = to_summary(small_disk / "out")
    assert "This does not fit" in cramped.summary_page.headline.text()
    assert not cramped.summary_page.isComplete()
    cramped.reject()



def test_an_errors_fix_is_worded_for_the_command_line_there_and_for_the_console_here(console, qtbot, tmp_path,
                                                                                    home):
    from .gui_support import submit_store_dialog

    a_file = tmp_path / "crm.db"
    a_file.write_text("not a folder")
    result = cli(home, "store", "add", "docs", "--type", "folder", str(a_file))
    assert result.returncode != 0 and "or use --type sqlite for a SQLite database" in result.stderr
    dialog = submit_store_dialog(console, "docs", "folder", a_file)
    shown = dialog.error.text()
    assert "is a file, not a folder" in shown and "or choose the type “sqlite” for a SQLite database" in shown
    assert "--" not in shown and "strongroom " not in shown
    dialog.reject()


def test_a_refused_restore_tells_the_console_what_to_click_and_the_command_line_what_to_type(console, qtbot,
                                                                                            tmp_path, home):
    from strongroom.core.remedies import Remedy
    from strongroom.gui.models.jobs_model import DETAILS

    from .gui_support import cell_text, wait_for_jobs

    full, _ = _store_with_a_damaged_full_set(console.engine, tmp_path)
    [job] = console.start_restore("docs", full.id, RestoreOptions(to=tmp_path / "out"))
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.FAILED and job.fix.remedy == Remedy.ALLOW_DAMAGED
    assert "--" not in job.error  # the core's own words: what is wrong
    detail = cell_text(console.jobs_view.table, console.jobs_view.model.row_of(job.id), DETAILS)
    assert "Restore this damaged set anyway" in detail and "--allow-damaged" not in detail
    refused = cli(home, "restore", "docs", "--set", full.id, "--to", str(tmp_path / "cli"))
    assert "give --allow-damaged to restore it anyway" in refused.stdout + refused.stderr


def test_lock_rows_keep_one_height_whether_a_break_button_is_in_the_first_row_the_last_or_none(console, qtbot,
                                                                                             lockdir) -> None:
    """Finding 13: uniform row heights come from the first row, so a button there made every row taller,
    and a button in a later row was clipped; now every row is sized for the button, shown or not."""
    from PySide6.QtWidgets import QPushButton

    from strongroom.core.mutex.records import write_record

    from .conftest import dead_pid, fake_record

    panel = console.lock_panel
    tree = panel.tree

    def heights() -> list[int]:
        return [tree.visualItemRect(tree.topLevelItem(row)).height() for row in range(tree.topLevelItemCount())]

    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 4, timeout=5000)
    free = heights()
    assert len(set(free)) == 1
    for store_type in ("folder", "sqlite"):  # the first row, then the last
        write_record(lockdir.holder_path(store_type), fake_record(store_type, pid=dead_pid()), lockdir.file_mode)
        qtbot.waitUntil(lambda: tree.findChild(QPushButton, f"break-{store_type}") is not None, timeout=5000)
        assert heights() == free
        button = tree.findChild(QPushButton, f"break-{store_type}")
        assert button.height() <= free[0]
        os.unlink(lockdir.holder_path(store_type))
        qtbot.waitUntil(lambda: tree.findChild(QPushButton, f"break-{store_type}") is None, timeout=5000)
        assert heights() == free


def test_the_add_store_dialogs_fields_line_up_for_a_folder_and_for_a_server(console, qtbot) -> None:
    """The path row and the server's rows sit in a page of their own; their fields start where Name's does."""
    from strongroom.gui.store_dialog import StoreDialog

    dialog = StoreDialog(console.engine, parent=console)
    dialog.show()
    qtbot.waitExposed(dialog)

    def left(widget) -> int:
        return widget.mapTo(dialog, widget.rect().topLeft()).x()

    assert left(dialog.path) == left(dialog.name) == left(dialog.type)
    dialog.type.setCurrentIndex(dialog.type.findData("postgresql"))
    qtbot.waitUntil(lambda: dialog.server.isVisible(), timeout=2000)
    server = dialog.server
    assert {left(field) for field in (server.host, server.port, server.user, server.database, server.credentials,
                                      dialog.name)} == {left(dialog.name)}
    dialog.reject()


def test_a_stores_live_cell_shows_a_new_state_at_once_and_new_words_in_paced_batches(engine, qtbot, tmp_path):
    """Each repaint of the Stores table costs the window's thread 4-15 ms under load; progress comes ten times
    a second per job and the words ("running 42%") change at most once per percent. A new state is announced
    in the next pass of the event loop; new words of the same state wait for the next paced batch, so several
    percents become one repaint. Only the changed cell is announced."""
    from PySide6.QtCore import QCoreApplication

    from strongroom.core.jobs import Progress
    from strongroom.core.store_overview import store_overviews
    from strongroom.gui.models.stores_model import RESULT, StoresModel

    for name in ("docs", "mail"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a": "1"})))
    model = StoresModel()
    model.set_overviews(store_overviews(engine.catalog))
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row(), first.column(),
                                                                      last.column())))
    docs, mail = engine.backup_job("docs"), engine.backup_job("mail")

    def announced() -> list[tuple[int, int, int, int]]:
        QCoreApplication.processEvents()  # a new state's announcement runs here
        found = sorted(changed)
        changed.clear()
        return found

    model.job_changed(docs)
    model.job_changed(mail)  # both queued in one pass: one batch, one cell each
    assert announced() == [(0, 0, RESULT, RESULT), (1, 1, RESULT, RESULT)]
    docs.state = JobState.RUNNING
    for done in (100, 101, 102, 103, 104):  # within one percent of 10,000 bytes
        docs.progress = Progress(bytes_done=done, bytes_total=10_000)
        model.job_changed(docs)
        assert model.data(model.index(0, RESULT)) == "running 1%"
    assert announced() == [(0, 0, RESULT, RESULT)]  # a new state: at once
    for done in (200, 300, 400, 500):  # four new percents, one after the other
        docs.progress = Progress(bytes_done=done, bytes_total=10_000)
        model.job_changed(docs)
        assert model.data(model.index(0, RESULT)) == f"running {done // 100}%"  # what a repaint reads is the latest
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    assert announced() == [(0, 0, RESULT, RESULT)]  # one repaint for the four
    docs.progress = Progress(bytes_done=600, bytes_total=10_000)  # paced: waits for a batch
    model.job_changed(docs)
    mail.cancel()
    model.job_changed(mail)  # a new state (cancelling) goes out at once, and takes the paced change with it
    assert announced() == [(0, 0, RESULT, RESULT), (1, 1, RESULT, RESULT)]
    assert model.data(model.index(1, RESULT)) == "cancelling…"
