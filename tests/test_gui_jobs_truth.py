"""The console tells the truth at a glance (issue 17), about jobs: cancel, progress, logs, details, the window.

As in test_gui_console_truth.py, each test drives the real console with qtbot after making the
situation real (a job waiting on another process's mutex, a slow compressor, a narrow window).
"""

from __future__ import annotations


from PySide6.QtCore import Qt

from strongroom.core.jobs import JobState
from strongroom.core.restore import RestoreOptions

from .trees import make_tree


def test_the_window_title_does_not_repeat_the_application_name(console):
    # The application's display name is added to every title by Qt: the window's own title must not repeat it.
    assert console.windowTitle() == "Backup console"

def test_a_failed_job_shows_no_full_progress_bar_and_a_verify_counts_its_files(console, qtbot, tmp_path):
    import shutil

    from strongroom.gui.models.jobs_model import FRACTION_ROLE, JOB_ID_ROLE, PROGRESS

    from .gui_support import wait_for_jobs

    engine = console.engine
    source = make_tree(tmp_path / "docs", {f"f{n}.txt": f"file {n}" for n in range(7)})
    engine.add_store("docs", "folder", str(source))
    [good] = console.start_backups([("docs", engine.default_backup_options())])
    wait_for_jobs(qtbot, [good])
    [verify] = console.start_verify(good.set_id)
    wait_for_jobs(qtbot, [verify])
    assert verify.state == JobState.SUCCEEDED and verify.progress.files_done == 7 == verify.progress.files_total
    shutil.rmtree(source)
    [failed] = console.start_backups([("docs", engine.default_backup_options())])
    wait_for_jobs(qtbot, [failed])
    assert failed.state == JobState.FAILED
    model = console.jobs_view.model
    row = next(row for row in range(model.rowCount()) if model.index(row, 0).data(JOB_ID_ROLE) == failed.id)
    assert model.index(row, PROGRESS).data(FRACTION_ROLE) is None

def test_counts_in_messages_agree_with_their_nouns(engine, tmp_path):
    from strongroom.core.units import counted

    assert (counted(1, "file"), counted(0, "file"), counted(2, "incremental set")) == \
        ("1 file", "0 files", "2 incremental sets")
    source = make_tree(tmp_path / "docs", {"only.txt": "one"})
    engine.add_store("docs", "folder", str(source))
    backup = engine.backup_job("docs")
    assert backup.run() == JobState.SUCCEEDED
    assert any("recorded: 1 file, 3 bytes" in line for line in backup.log_lines)
    restore = engine.restore_job("docs", RestoreOptions(to=tmp_path / "out"))
    assert restore.run() == JobState.SUCCEEDED
    assert any(line.startswith("restored 1 file (3 bytes), 0 symbolic links") for line in restore.log_lines)

def test_a_producer_waiting_for_a_slow_compressor_sees_a_cancel_at_once():
    """At a slow level the compressor takes seconds per batch: the backup thread waiting to hand it more must
    still notice a cancel, not wait for the compressor (the cancel took 3.5 s to 89 s at level 19)."""
    import io
    import threading

    import pytest

    from strongroom.core.archive.compression_pipe import DEPTH, CompressionPipe

    busy, cancelled = threading.Event(), threading.Event()

    class SlowWriter:  # a compressor that takes forever (until the test ends) on its first batch
        def write(self, data):
            busy.wait(30)

        def flush(self, mode=None):
            pass

    class Cancelled(Exception):
        pass

    def check() -> None:
        if cancelled.is_set():
            raise Cancelled()

    pipe = CompressionPipe(SlowWriter, io.BytesIO(), check)
    for _ in range(DEPTH + 1):  # the compressor holds one batch, the queue the rest: now it is full
        pipe.write(b"x")
    cancelled.set()
    waiter = threading.Thread(target=lambda: pytest.raises(Cancelled, pipe.write, b"x"), daemon=True)
    waiter.start()
    waiter.join(10)
    stuck = waiter.is_alive()
    busy.set()
    assert not stuck, "the producer did not notice the cancel while the compressor was busy"

def test_nothing_left_to_read_gives_no_eta_rather_than_zero_seconds():
    from strongroom.core.jobs import ProgressMeter

    now = [100.0]
    meter = ProgressMeter(lambda progress: None, clock=lambda: now[0])
    meter.set_totals(files=1, size=1000)
    for _ in range(4):
        now[0] += 0.5
        meter.advance(250)
    final = meter.finish()
    assert final.bytes_done == final.bytes_total and final.eta is None  # not "0 s" while the set is completed


def test_a_jobs_log_is_stamped_says_when_it_got_the_mutex_and_its_queued_time_does_not_move(console, qtbot,
                                                                                            tmp_path, home):
    import re

    from PySide6.QtWidgets import QPlainTextEdit

    from strongroom.gui.models.jobs_model import STARTED

    from .gui_support import ExternalHolder, cell_text, wait_for_jobs

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    with ExternalHolder(home, "folder"):
        [job] = console.start_backups([("docs", engine.default_backup_options())])
        qtbot.waitUntil(lambda: job.state == JobState.WAITING, timeout=10_000)
        model = console.jobs_view.model
        queued = cell_text(console.jobs_view.table, model.row_of(job.id), STARTED)
    wait_for_jobs(qtbot, [job])
    assert cell_text(console.jobs_view.table, model.row_of(job.id), STARTED) == queued  # not moved by the mutex
    tip = model.index(model.row_of(job.id), STARTED).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("queued ") and "started " in tip and "finished " in tip
    saved = engine.catalog.get_job(job.id).log
    assert saved and all(re.match(r"^\d\d:\d\d:\d\d\.\d{3}  ", line) for line in saved)
    assert any(re.search(r"  acquired the mutex strongroom\.folder after \d+\.\d s$", line) for line in saved)
    dialog = console.show_job_details(job.id)
    assert dialog.log.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert dialog.log.toPlainText().splitlines() == saved
    dialog.close()

def test_a_jobs_log_can_be_copied_and_saved_from_its_details(console, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QGuiApplication

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    job = engine.backup_job("docs")
    assert job.run() == JobState.SUCCEEDED
    console.refresh_history()
    dialog = console.show_job_details(job.id)
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert "backup of store docs: succeeded" in copied and all(line in copied for line in job.stamped_log())
    saved = dialog.save_log(str(tmp_path / "job.log"))
    assert saved is not None and saved.read_text() == copied
    warned = []
    monkeypatch.setattr("strongroom.gui.job_details.QMessageBox.warning", lambda *args: warned.append(args[2]))
    assert dialog.save_log(str(tmp_path / "missing-folder" / "job.log")) is None
    assert warned and "could not be written" in warned[0] and "choose another place" in warned[0]
    dialog.close()

def test_a_small_window_keeps_cancel_job_ids_and_three_store_rows_in_view_and_a_large_one_hides_nothing(
        console, qtbot, tmp_path, home):
    from strongroom.gui.models.jobs_model import CANCEL, DETAILS
    from strongroom.gui.lock_panel import JOB

    from .gui_support import ExternalHolder, wait_for_jobs

    engine = console.engine
    for number in range(5):
        engine.add_store(f"store{number}", "folder", str(make_tree(tmp_path / f"s{number}", {"a.txt": "a"})))
    console.refresh_stores()
    console.show()
    with ExternalHolder(home, "folder", job_id="cli-holder-with-a-long-job-id-20261202T050532-a22df3"):
        jobs = console.start_backups([(f"store{number}", engine.default_backup_options()) for number in range(3)])
        qtbot.waitUntil(lambda: all(job.state == JobState.WAITING for job in jobs), timeout=10_000)
        for width, height in ((900, 600), (1600, 1000)):
            console.resize(width, height)
            qtbot.waitUntil(lambda: console.width() == width, timeout=5000)
            table = console.jobs_view.table
            header = table.horizontalHeader()
            # the columns fit once the layout has followed the resize (it must, within the timeout)
            qtbot.waitUntil(lambda: header.length() <= table.viewport().width() + 1, timeout=5000)
            assert not header.isSectionHidden(CANCEL) and not header.isSectionHidden(DETAILS)
            assert header.sectionSize(DETAILS) >= 150
            tree = console.lock_panel.tree
            held = console.lock_panel.items["folder"]
            needed = tree.fontMetrics().horizontalAdvance(held.text(JOB))
            assert tree.header().sectionSize(JOB) >= needed, f"the holder's job id is cut at {width}"
            stores = console.stores_view.table
            rows = stores.viewport().height() / stores.verticalHeader().defaultSectionSize()
            assert rows >= 3, f"only {rows:.1f} store rows show at {width}x{height}"
            if width == 1600:
                assert not console.jobs_view.fitting.hidden() and not console.stores_view.fitting.hidden()
                assert not console.lock_panel.fitting.hidden()
    wait_for_jobs(qtbot, jobs)
    assert console.minimumWidth() >= 800 and console.minimumHeight() >= 550

def test_a_job_that_got_its_mutex_reads_the_same_in_the_jobs_list_the_lock_panel_and_the_status_bar(
        console, qtbot, tmp_path, home):
    import threading

    from strongroom.gui.models.jobs_model import DETAILS, STATE

    from .gui_support import ExternalHolder, HoldUntil, cell_text, wait_for_jobs

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a.txt": "a"})))
    console.manager.isolated = False  # the hold below runs in the job's thread
    release = threading.Event()
    hold = HoldUntil(release)  # keeps the job at the moment it has its mutex, before it reads a file
    console.manager.job_added.connect(lambda job: job.add_listener(hold))
    table = console.jobs_view.table
    try:
        with ExternalHolder(home, "folder") as holder:
            [job] = console.start_backups([("docs", engine.default_backup_options())])
            qtbot.waitUntil(lambda: job.state == JobState.WAITING, timeout=10_000)
            holder.release()
            assert hold.entered.wait(20)
        row = console.jobs_view.model.row_of(job.id)

        def agreed() -> bool:
            panel = console.lock_panel.items.get("folder")
            return (cell_text(table, row, STATE) == "running" and console.counts_label.text() == "1 running · 0 waiting"
                    and panel is not None and panel.text(2) == job.id and panel.childCount() == 0)

        qtbot.waitUntil(agreed, timeout=5000)
        assert "waiting" not in cell_text(table, row, DETAILS)
        assert cell_text(table, row, DETAILS).startswith("acquired the mutex strongroom.folder")
    finally:
        release.set()
    wait_for_jobs(qtbot, [job])

def test_the_job_details_list_a_repeated_warning_once_with_its_count(qtbot):
    from strongroom.core.catalog import JobRecord
    from strongroom.gui.job_details import JobDetailsDialog

    record = JobRecord(id="backup-x", store="docs", operation="backup",
                       state="succeeded-with-warnings", created="2026-12-02T05:00:00Z",
                       warnings=["a.txt changed while it was read", "b.txt unreadable", "a.txt changed while it was read"])
    dialog = JobDetailsDialog(record)
    qtbot.addWidget(dialog)
    text = dialog.summary.text()
    assert text.count("Warning: a.txt changed while it was read (2 times)") == 1
    assert "Warning: b.txt unreadable" in text and "b.txt unreadable (" not in text
