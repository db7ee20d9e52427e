"""The main window: empty state, stores, jobs (waiting, cancel, close), errors, settings (the lock panel has
test_gui_lock_panel.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from strongroom.core.jobs import JobState
from strongroom.core.settings import load_settings
from strongroom.gui.models.jobs_model import CANCEL, DETAILS, STATE as JOB_STATE
from strongroom.gui.models.stores_model import HEALTH, RESULT
from strongroom.gui.settings_dialog import SettingsDialog
from strongroom.gui.store_dialog import StoreDialog

from .gui_support import (ExternalHolder, HoldUntil, answer, cell_text, error_messages, lock_state,
                          submit_store_dialog, wait_for_jobs)
from .trees import make_tree


def no_sets_left(engine, target: Path) -> bool:
    leftovers = [path for path in target.rglob("*") if path.is_file()] if target.exists() else []
    return not engine.catalog.list_sets() and not leftovers


# -- stores ---------------------------------------------------------------------------------------

def test_first_start_shows_the_empty_state_and_adds_a_store(console, qtbot, tmp_path):
    assert console.stores_view.empty
    assert console.stores_view.empty_add.isVisible()
    qtbot.mouseClick(console.stores_view.empty_add, Qt.MouseButton.LeftButton)
    dialog = console.findChild(StoreDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.name.setText("docs")
    dialog.type.setCurrentIndex(dialog.type.findData("folder"))
    dialog.path.setText(str(tmp_path / "missing"))
    dialog.accept()
    assert dialog.isVisible() and dialog.error.isVisible()
    assert str(tmp_path / "missing") in dialog.error.text()  # the engine's message, naming the path
    source = make_tree(tmp_path / "docs", {"a.txt": "a"})
    dialog.path.setText(str(source))
    dialog.accept()
    qtbot.waitUntil(lambda: not console.stores_view.empty)
    assert console.stores_view.model.names() == ["docs"]
    assert cell_text(console.stores_view.table, 0, RESULT) == "never backed up"
    assert cell_text(console.stores_view.table, 0, HEALTH) == "critical"  # never backed up: status exits 2


def test_a_sqlite_store_must_be_a_database(console, qtbot, tmp_path):
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    dialog = submit_store_dialog(console, "crm", "sqlite", not_a_db)
    assert dialog.error.isVisible() and "notes.txt" in dialog.error.text()
    assert console.engine.catalog.list_stores() == []


def test_edit_checks_the_new_path_and_remove_keeps_the_sets(console, qtbot, tmp_path, monkeypatch):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "a", {"x": "1"})))
    engine.backup_job("docs").run()
    console.refresh_stores()
    dialog = StoreDialog(engine, engine.store("docs"), parent=console)
    dialog.show()
    assert dialog.name.isReadOnly() and not dialog.type.isEnabled()
    dialog.path.setText(str(tmp_path / "nowhere"))
    dialog.accept()
    assert dialog.error.isVisible()
    dialog.path.setText(str(make_tree(tmp_path / "b", {"y": "2"})))
    dialog.accept()
    assert engine.store("docs").path == str(tmp_path / "b")
    asked = answer(monkeypatch, "strongroom.gui.main_window", True)
    console.remove_store(engine.store("docs"))
    assert "sets stay" in asked[0]
    assert engine.catalog.list_stores() == [] and len(engine.catalog.list_sets("docs")) == 1
    assert console.stores_view.empty


def test_last_backup_kind_result_and_size_are_shown(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": b"x" * 3000})))
    job = console.start_backups([("docs", engine.default_backup_options())])[0]
    wait_for_jobs(qtbot, [job])
    qtbot.waitUntil(lambda: cell_text(console.stores_view.table, 0, RESULT) == "succeeded")
    assert cell_text(console.stores_view.table, 0, HEALTH) == "fresh"
    row = [cell_text(console.stores_view.table, 0, column) for column in range(8)]
    assert row[2] == "folder" and row[5] == "full" and row[7] == "2.9 KiB" and row[4] != "never"


# -- jobs -----------------------------------------------------------------------------------------

def test_a_job_blocked_behind_a_mutex_shows_waiting_with_the_holder_named(console, qtbot, home, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    with ExternalHolder(home, "folder", job_id="cli-nightly") as holder:
        job = console.start_backups([("docs", engine.default_backup_options())])[0]
        table = console.jobs_view.table

        def shows_holder():
            row = console.jobs_view.model.row_of(job.id)
            return (cell_text(table, row, JOB_STATE) == "waiting for mutex"
                    and "cli-nightly" in cell_text(table, row, DETAILS)
                    and f"pid {holder.pid}" in cell_text(table, row, DETAILS))

        qtbot.waitUntil(shows_holder, timeout=10_000)
        assert console.counts_label.text() == "0 running · 1 waiting"
        holder.release()
        wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED
    qtbot.waitUntil(lambda: console.counts_label.text() == "Idle")


def test_cancel_button_leaves_no_set_and_no_held_mutex(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {f"f{n}": "x" * 5000 for n in range(50)})))
    console.manager.isolated = False  # the hold below runs in the job's thread (test_gui_job_processes.py: a real one)
    never = threading.Event()
    hold = HoldUntil(never, cancel_aware=True)
    console.manager.job_added.connect(lambda job: job.add_listener(hold))
    job = console.start_backups([("docs", engine.default_backup_options())])[0]
    assert hold.entered.wait(10)
    qtbot.waitUntil(lambda: lock_state(console, "folder") == "held")
    table = console.jobs_view.table
    row = console.jobs_view.model.row_of(job.id)
    rect = table.visualRect(table.model().index(row, CANCEL))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.CANCELLED
    assert no_sets_left(engine, engine.default_target)
    qtbot.waitUntil(lambda: lock_state(console, "folder") == "free")
    status = {s.store_type: s for s in engine.registry.status()}["folder"]
    assert status.holder is None and not status.waiters
    assert cell_text(table, console.jobs_view.model.row_of(job.id), JOB_STATE) == "cancelled"


def test_closing_with_running_jobs_asks_then_cancels_cleanly(engine, qtbot, tmp_path, monkeypatch):
    from strongroom.gui.main_window import MainWindow

    window = MainWindow(engine, tray=False)
    qtbot.addWidget(window)
    window.show()
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1" * 10000})))
    window.manager.isolated = False  # the hold below runs in the job's thread (test_gui_job_processes.py: a real one)
    never = threading.Event()
    hold = HoldUntil(never, cancel_aware=True)
    window.manager.job_added.connect(lambda job: job.add_listener(hold))
    job = window.start_backups([("docs", engine.default_backup_options())])[0]
    assert hold.entered.wait(10)
    asked = answer(monkeypatch, "strongroom.gui.closing", False)
    window.close()
    assert window.isVisible() and not job.cancel_requested and "1 job is still running" in asked[0]
    answer(monkeypatch, "strongroom.gui.closing", True)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert job.state == JobState.CANCELLED
    assert no_sets_left(engine, engine.default_target)
    status = {s.store_type: s for s in engine.registry.status()}["folder"]
    assert status.state == "free"


def test_engine_errors_are_shown_as_their_own_message(console, qtbot):
    assert console.start_backups([("ghost", console.engine.default_backup_options())]) == []
    qtbot.waitUntil(lambda: bool(error_messages(console)))
    [text] = error_messages(console)
    assert "there is no store called 'ghost'" in text and "Traceback" not in text


def test_a_failed_job_shows_its_message_and_the_details_keep_its_log(console, qtbot, tmp_path):
    engine = console.engine
    source = make_tree(tmp_path / "docs", {"a": "1"})
    engine.add_store("docs", "folder", str(source))
    (source / "a").unlink()
    source.rmdir()
    job = console.start_backups([("docs", engine.default_backup_options())])[0]
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.FAILED
    row = console.jobs_view.model.row_of(job.id)
    assert str(source) in cell_text(console.jobs_view.table, row, DETAILS)
    console.refresh_history()
    dialog = console.show_job_details(job.id)
    assert f"Error: {job.error}" in dialog.summary.text()
    assert dialog.log.toPlainText().splitlines() == job.stamped_log()
    dialog.close()


def test_history_from_an_earlier_session_has_each_jobs_log(engine, qtbot, tmp_path):
    from strongroom.gui.main_window import MainWindow

    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    job = engine.backup_job("docs")
    job.run()
    window = MainWindow(engine, tray=False)
    qtbot.addWidget(window)
    row = window.jobs_view.model.row_of(job.id)
    assert row is not None and cell_text(window.jobs_view.table, row, JOB_STATE) == "succeeded"
    dialog = window.show_job_details(job.id)
    assert dialog.log.toPlainText().splitlines() == job.stamped_log()
    dialog.close()
    window.watcher.stop()


def test_verify_dialog_runs_a_verify_job(console, qtbot, tmp_path):
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    engine.backup_job("docs", engine.default_backup_options(verify=False)).run()
    [record] = engine.catalog.list_sets()
    assert record.verified is None
    dialog = console.open_verify_dialog()
    assert dialog.tree.topLevelItemCount() == 1
    dialog.accept()
    qtbot.waitUntil(lambda: bool(console.manager.jobs))
    job = next(iter(console.manager.jobs.values()))
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED and engine.catalog.get_set(record.id).verified



@pytest.mark.parametrize("agreed", [True, False])
def test_a_set_file_from_elsewhere_is_verified_as_untrusted_once_the_user_agrees(console, qtbot, tmp_path, monkeypatch,
                                                                                 agreed):
    # Before, the console started a verify that failed with "verify it with --untrusted", a flag it does not have.
    import shutil

    from strongroom.core.archive import sidecar_path

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    made = engine.backup_job("docs", engine.default_backup_options(verify=False))
    made.run()
    copied = tmp_path / "from-elsewhere"
    copied.mkdir()
    original = Path(engine.catalog.get_set(made.set_id).path)
    for path in (original, sidecar_path(original)):
        shutil.copy2(path, copied / path.name)
    asked = answer(monkeypatch, "strongroom.gui.verify_dialog", agreed)
    monkeypatch.setattr("strongroom.gui.verify_dialog.QFileDialog.getOpenFileName",
                        lambda *_args, **_kwargs: (str(copied / original.name), ""))
    dialog = console.open_verify_dialog()
    [from_file] = [button for button in dialog.findChildren(QPushButton) if button.text() == "Verify a set file…"]
    from_file.click()
    assert len(asked) == 1 and "nothing vouches for it" in asked[0]
    if not agreed:
        assert not console.manager.jobs and dialog.chosen is None
        return
    qtbot.waitUntil(lambda: bool(console.manager.jobs))
    job = next(iter(console.manager.jobs.values()))
    wait_for_jobs(qtbot, [job])
    assert job.state == JobState.SUCCEEDED, job.error


# -- settings -------------------------------------------------------------------------------------

def test_settings_are_saved_and_used_by_the_next_wizard(console, qtbot, tmp_path):
    dialog = console.open_settings()
    assert isinstance(dialog, SettingsDialog)
    dialog.target.setText("relative/path")
    dialog.accept()
    assert dialog.isVisible() and "absolute" in dialog.error.text()
    dialog.target.setText(str(tmp_path / "vault"))
    dialog.level.setValue(9)
    dialog.verify.setChecked(False)
    dialog.scope.setCurrentIndex(dialog.scope.findData("machine"))
    dialog.accept()
    saved = load_settings(console.engine.paths.settings).settings
    assert (saved.default_target, saved.compression_level, saved.verify_after_backup, saved.lock_scope) == \
        (str(tmp_path / "vault"), 9, False, "machine")
    wizard = console.open_backup_wizard()
    assert wizard.options_page.level.value() == 9 and not wizard.options_page.verify.isChecked()
    assert str(tmp_path / "vault") in wizard.destination_page.use_default.text()
    wizard.reject()


@pytest.mark.timeout(60)
def test_self_test_command_exits_zero(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "strongroom.gui.app", "--self-test"], capture_output=True,
                            text=True, timeout=50, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert "self-test passed" in result.stdout


def test_tray_says_idle_or_busy_and_notes_finished_jobs(console, qtbot, tmp_path, monkeypatch):
    from strongroom.gui.tray import Tray

    tray = Tray(console, [console.backup_action])
    assert tray.toolTip() == "Strongroom: idle"
    tray.counts(2, 1)
    assert tray.toolTip() == "Strongroom: 2 running, 1 waiting"
    shown = []
    monkeypatch.setattr(tray, "showMessage", lambda title, text, *_: shown.append((title, text)))
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    job = engine.backup_job("docs")
    job.run()
    tray.job_finished(job)
    assert shown[-1][0] == "Backup of docs finished"


def test_jobs_run_inside_the_console_below_the_window_in_cpu_priority(console, qtbot, tmp_path):
    import os
    import sys

    from strongroom.core.jobs import JobListener
    from strongroom.core.jobs.job_process import JOB_NICENESS

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread priority is lowered on Linux only")
    seen: list[int] = []

    class Priority(JobListener):
        def job_state(self, job, state) -> None:
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    console.manager.isolated = False  # where no job process can start (test_gui_job_processes.py: the usual way)
    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    console.manager.job_added.connect(lambda job: job.add_listener(Priority()))
    job = console.start_backups([("docs", engine.default_backup_options())])[0]
    wait_for_jobs(qtbot, [job])
    window_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen and set(seen) == {min(19, window_priority + JOB_NICENESS)}


def test_a_catalog_the_console_cannot_open_is_a_message_not_a_traceback(tmp_path, monkeypatch, qapp):
    import sqlite3

    from strongroom.gui import app as gui_app

    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "catalog.sqlite") as connection:
        connection.execute("PRAGMA user_version = 99")
    shown = []
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.critical", lambda _parent, title, text: shown.append(text))
    assert gui_app.main(["--home", str(home)]) == 1
    assert "written by a newer Strongroom" in shown[0] and "Traceback" not in shown[0]


def test_closing_right_after_the_last_job_ended_asks_nothing(engine, qtbot, tmp_path, monkeypatch):
    from strongroom.gui.main_window import MainWindow

    window = MainWindow(engine, tray=False)
    window.show()
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    job = window.start_backups([("docs", engine.default_backup_options())])[0]
    wait_for_jobs(qtbot, [job])  # its worker thread may still be finishing
    asked = answer(monkeypatch, "strongroom.gui.closing", False)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert asked == [] and job.state == JobState.SUCCEEDED
