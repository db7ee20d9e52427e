"""The lock panel: holders from other processes and this one, waiters in order, and breaking what is stale."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QPushButton

from strongroom.core.jobs import JobState
from strongroom.core.mutex.records import write_record
from strongroom.gui.lock_panel import ACTION, JOB, PID, STATE

from .conftest import dead_pid, fake_record
from .gui_support import ExternalHolder, HoldUntil, answer, lock_row, lock_state, wait_for_jobs
from .trees import make_tree


def test_lock_panel_shows_a_holder_from_another_process_and_clears(console, qtbot, home):
    qtbot.waitUntil(lambda: lock_state(console, "folder") == "free")
    with ExternalHolder(home, "folder", job_id="cli-watch") as holder:
        qtbot.waitUntil(lambda: lock_row(console, "folder").text(JOB) == "cli-watch", timeout=5000)
        item = lock_row(console, "folder")
        assert item.text(STATE) == "held" and item.text(PID) == str(holder.pid)
        assert console.lock_panel.tree.itemWidget(item, ACTION) is None  # a live local holder cannot be broken
        holder.release()
        qtbot.waitUntil(lambda: lock_state(console, "folder") == "free", timeout=5000)
    assert lock_row(console, "folder").text(JOB) == ""


def test_in_process_jobs_show_in_the_lock_panel_with_their_queue(console, qtbot, tmp_path):
    engine = console.engine
    for name in ("one", "two"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"f": name})))
    console.manager.isolated = False  # the hold below runs in the job's thread
    release = threading.Event()
    first_hold = HoldUntil(release)
    console.manager.job_added.connect(lambda job: job.add_listener(first_hold) if job.store_name == "one" else None)
    first = console.start_backups([("one", engine.default_backup_options())])[0]
    assert first_hold.entered.wait(10)
    second = console.start_backups([("two", engine.default_backup_options())])[0]

    def queue_shown():
        item = lock_row(console, "folder")
        return (item is not None and item.text(JOB) == first.id and item.childCount() == 1
                and item.child(0).text(JOB) == second.id and item.child(0).text(STATE) == "waiting #1")

    qtbot.waitUntil(queue_shown, timeout=5000)
    release.set()
    wait_for_jobs(qtbot, [first, second])
    assert [first.state, second.state] == [JobState.SUCCEEDED] * 2


def test_a_stale_lock_offers_break_behind_a_confirmation(console, qtbot, monkeypatch, lockdir):
    write_record(lockdir.holder_path("sqlite"), fake_record("sqlite", pid=dead_pid(), job_id="job-dead"),
                 lockdir.file_mode)
    qtbot.waitUntil(lambda: lock_state(console, "sqlite") == "stale", timeout=5000)
    button = console.lock_panel.tree.findChild(QPushButton, "break-sqlite")
    assert button is not None and button.text() == "Break lock…"
    asked = answer(monkeypatch, "strongroom.gui.lock_panel", False)
    button.click()
    assert "job-dead" in asked[0] and "two jobs could then change stores" in asked[0]
    assert lock_state(console, "sqlite") == "stale"
    answer(monkeypatch, "strongroom.gui.lock_panel", True)
    console.lock_panel.findChild(QPushButton, "break-sqlite").click()
    qtbot.waitUntil(lambda: lock_state(console, "sqlite") == "free", timeout=5000)
    assert "cleared the stale record" in console.statusBar().currentMessage()



@pytest.mark.parametrize("record", ["other host", "unreadable"])
def test_a_lock_the_console_cannot_clear_itself_says_what_to_click_not_what_to_type(console, qtbot, monkeypatch,
                                                                                  lockdir, record):
    # Before, the tooltip and the Break lock… question said "strongroom locks break folder".
    path = lockdir.holder_path("folder")
    if record == "other host":
        write_record(path, fake_record("folder", host="far-away.example", pid=4242), lockdir.file_mode)
    else:
        path.write_bytes(b"{not json")
    qtbot.waitUntil(lambda: lock_state(console, "folder") in ("held (other host)", "unknown"), timeout=5000)
    tooltip = lock_row(console, "folder").toolTip(STATE)
    assert tooltip.endswith("clear it with “Break lock…” in the lock panel") and "strongroom locks" not in tooltip
    asked = answer(monkeypatch, "strongroom.gui.lock_panel", False)
    console.lock_panel.tree.findChild(QPushButton, "break-folder").click()
    assert "strongroom locks" not in asked[0] and "Break lock…" not in asked[0]
