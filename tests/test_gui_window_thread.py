"""The window's thread stays free while jobs run: what it repaints, measures and reads, and when.

Each of these was a stall found by bench/gui_bench.py with four backups running: a Stores
table measured whole on every change, a Jobs row repainted on every progress report, the
catalog read in the window's thread at each job's end, four job workers started in the same
pass as the first paint of their rows, badges drawn the first time a job was shown.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QHeaderView, QTableView

from strongroom.core.jobs import JobState, Progress
from strongroom.gui.background import BackgroundCall
from strongroom.gui.content_columns import ContentColumns
from strongroom.gui.icons import STATE_COLOURS, state_icon, warm_state_icons
from strongroom.gui.job_manager import STAGGER_MS
from strongroom.gui.models.jobs_model import LIVE_COLUMNS, JobsModel

from .gui_support import wait_for_jobs
from .trees import make_tree


class _CountingModel(QAbstractTableModel):
    """Three columns of text; counts, per column, how often the view asks a cell for its size."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = [["a", "b", "c"], ["d", "e", "f"]]
        self.measured: Counter = Counter()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.texts)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 3

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.SizeHintRole:
            self.measured[index.column()] += 1
        if role == Qt.ItemDataRole.DisplayRole:
            return self.texts[index.row()][index.column()]
        return None

    def set_text(self, row: int, column: int, text: str) -> None:
        self.texts[row][column] = text
        self.dataChanged.emit(self.index(row, column), self.index(row, column))


def test_a_changed_cell_measures_only_its_own_column_and_the_column_grows_to_fit(qtbot):
    model = _CountingModel()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    fitted = []
    columns = ContentColumns(view, (0, 1, 2), after_fit=lambda: fitted.append(True))
    view.show()
    columns.fit_all()
    narrow = view.columnWidth(1)
    model.measured.clear()
    model.set_text(0, 1, "a much longer text than before, which needs room")
    assert model.measured[1] > 0 and model.measured[0] == model.measured[2] == 0
    assert view.columnWidth(1) > narrow + 100 and fitted
    model.measured.clear()
    model.beginResetModel()
    model.texts = [["x", "y", "z"]]
    model.endResetModel()  # new rows: every column fits again, and the long text is gone
    assert all(model.measured[column] > 0 for column in range(3))
    assert view.columnWidth(1) < narrow + 100


def test_a_jobs_row_shows_a_new_state_at_once_and_progress_in_paced_batches(engine, qtbot, tmp_path):
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    model = JobsModel()
    job = engine.backup_job("docs")
    model.add_jobs([job])
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.column(), last.column())))
    cells = [(column, column) for column in LIVE_COLUMNS]  # one announcement per cell: a range repaints all

    def announced() -> list[tuple[int, int]]:
        QCoreApplication.processEvents()
        found = sorted(changed)
        changed.clear()
        return found

    job.state = JobState.RUNNING
    model.job_changed(job.id)
    # the next pass; the job's store, operation and queued time never change, so their cells are left alone
    assert announced() == cells
    for done in range(1, 6):  # five progress reports, 100 ms apart in a real job
        job.progress = Progress(bytes_done=done * 100, bytes_total=1000)
        model.job_changed(job.id)
    assert announced() == []  # not in this pass: progress waits for the next batch
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    assert announced() == cells  # one repaint for the five
    job.progress = Progress(bytes_done=600, bytes_total=1000)
    model.job_changed(job.id)
    job.cancel()
    model.job_changed(job.id)  # cancelling is a new state: at once, taking the waiting progress with it
    assert announced() == cells


def test_a_jobs_end_reads_the_stores_off_the_windows_thread(console, qtbot, tmp_path, monkeypatch):
    import strongroom.gui.stores_reader as stores_reader

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    console.refresh_stores()
    readers: list[str] = []
    real = stores_reader.read_stores

    def recording(catalog):
        readers.append(threading.current_thread().name)
        return real(catalog)

    monkeypatch.setattr(stores_reader, "read_stores", recording)
    [job] = console.start_backups([("docs", engine.default_backup_options())])
    wait_for_jobs(qtbot, [job])
    qtbot.waitUntil(lambda: console.stores_view.model.overview_at(0).latest_set is not None, timeout=10_000)
    assert readers and threading.main_thread().name not in readers
    assert console.stores_view.model.overview_at(0).latest_set.id == job.set_id


def test_the_same_stores_read_again_keep_the_administrators_selection(console, qtbot, tmp_path):
    engine = console.engine
    for name in ("docs", "mail", "web"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a": "1"})))
    console.refresh_stores()
    table = console.stores_view.table
    selection = table.selectionModel()
    for row in (0, 2):
        selection.select(table.model().index(row, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
    resets = []
    table.model().modelReset.connect(lambda: resets.append(True))
    [job] = console.start_backups([("mail", engine.default_backup_options())])
    wait_for_jobs(qtbot, [job])
    qtbot.waitUntil(lambda: console.stores_view.model.overview_at(1).latest_set is not None, timeout=10_000)
    assert [store.name for store in console.stores_view.selected()] == ["docs", "web"]
    assert not resets  # the rows changed in place


def test_jobs_started_together_show_at_once_and_reach_their_workers_one_after_another(console, qtbot, tmp_path):
    engine = console.engine
    for name in ("docs", "mail", "web"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a": "1"})))
    console.manager.isolated = False  # threads start in milliseconds: the spacing is the manager's alone
    added = []
    console.manager.job_added.connect(lambda job: added.append(job.id))
    asked = time.monotonic()
    jobs = console.start_backups([(name, engine.default_backup_options()) for name in ("docs", "mail", "web")])
    assert sorted(added) == sorted(job.id for job in jobs)  # every row is there before any pass of the loop
    started: dict[str, float] = {}
    later = [console.manager._workers[job.id] for job in jobs[1:]]
    assert not any(worker.isRunning() or worker.isFinished() for worker in later)
    for job, worker in zip(jobs[1:], later):
        worker.started.connect(lambda job_id=job.id: started.setdefault(job_id, time.monotonic()))
    wait_for_jobs(qtbot, jobs)
    assert all(job.state == JobState.SUCCEEDED for job in jobs)
    second, third = started[jobs[1].id], started[jobs[2].id]
    # a timer may fire a little early, a thread begin a little late: the spacing is checked from the start
    assert second - asked >= STAGGER_MS / 1000 * 0.9 and third - asked >= 2 * STAGGER_MS / 1000 * 0.9


def test_jobs_started_together_reach_the_table_and_the_window_counts_in_one_update(console, qtbot, tmp_path):
    engine = console.engine
    names = ("docs", "mail", "web", "wiki")
    for name in names:
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a": "1"})))
    model = console.jobs_view.model
    insertions, counts = [], []
    model.rowsInserted.connect(lambda _parent, first, last: insertions.append((first, last)))
    console.manager.counts_changed.connect(lambda running, waiting: counts.append((running, waiting)))
    jobs = console.start_backups([(name, engine.default_backup_options()) for name in names])
    # once per job, four backups fitted the columns and the window's sections four times in one pass
    assert insertions == [(0, 3)] and counts == [(0, 4)]
    assert [model.data(model.index(row, 0)) for row in range(4)] == list(reversed(names))  # newest on top
    wait_for_jobs(qtbot, jobs)


def test_every_state_badge_is_drawn_before_a_job_needs_it(qapp, qtbot):
    state_icon.cache_clear()
    context = QObject()
    warm_state_icons(context)
    assert state_icon.cache_info().currsize == 0  # nothing in the caller's pass: one badge per later pass
    qtbot.waitUntil(lambda: state_icon.cache_info().currsize >= len(STATE_COLOURS), timeout=5000)


def test_a_background_answer_for_a_closed_window_is_dropped_without_an_error(qapp, qtbot, capfd):
    owner = QObject()
    call = BackgroundCall(owner)
    release = threading.Event()
    answers = []
    call.run(lambda: release.wait(10) and "read", lambda result, error: answers.append((result, error)))
    shiboken6.delete(owner)  # the window closed while the call ran; its call and relay went with it
    assert not shiboken6.isValid(call)
    release.set()
    from PySide6.QtCore import QThreadPool

    assert QThreadPool.globalInstance().waitForDone(10_000)
    QCoreApplication.processEvents()
    assert answers == []
    assert "Error calling Python override" not in capfd.readouterr().err


def test_a_column_hidden_in_a_narrow_window_comes_back_as_wide_as_its_new_contents(console, qtbot, tmp_path):
    from datetime import datetime

    from strongroom.gui.models.stores_model import NEXT

    engine = console.engine
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", {"a": "1"})))
    console.refresh_stores()
    table = console.stores_view.table
    header = table.horizontalHeader()
    model = console.stores_view.model
    console.show()
    console.resize(1600, 1000)
    model.set_next_runs({"docs": ("a plan with a long name that runs every hour", datetime(2026, 12, 3))})
    qtbot.waitUntil(lambda: not header.isSectionHidden(NEXT), timeout=5000)
    console.resize(900, 600)  # no room for it: it steps aside
    qtbot.waitUntil(lambda: header.isSectionHidden(NEXT), timeout=5000)
    model.set_next_runs({"docs": ("a plan with a longer name, which runs every hour of every day", datetime(2026, 12, 3))})
    console.resize(1600, 1000)
    qtbot.waitUntil(lambda: not header.isSectionHidden(NEXT), timeout=5000)
    needed = table.fontMetrics().horizontalAdvance(table.model().index(0, NEXT).data())
    assert header.sectionSize(NEXT) >= needed, "it came back at the width of what it held before"


def test_the_lock_panel_makes_room_for_the_jobs_at_their_start_and_gives_it_back_when_they_end(
        console, qtbot, tmp_path, home):
    """Each resize of the sections repaints the jobs table and the lock panel whole: the lock panel grows once,
    when the jobs start, instead of once for each waiter that appears, and shrinks when the jobs have ended."""
    from .gui_support import ExternalHolder

    engine = console.engine
    for name in ("docs", "mail", "web"):
        engine.add_store(name, "folder", str(make_tree(tmp_path / name, {"a": "1"})))
    console.refresh_stores()
    console.show()
    console.resize(1280, 860)
    splitter = console.splitter
    qtbot.waitUntil(lambda: console.lock_panel.tree.topLevelItemCount() >= 4, timeout=10_000)
    idle = splitter.sizes()[2]
    with ExternalHolder(home, "folder"):
        jobs = console.start_backups([(name, engine.default_backup_options()) for name in ("docs", "mail", "web")])
        QCoreApplication.processEvents()
        reserved = splitter.sizes()[2]
        assert reserved > idle
        tree = console.lock_panel.tree
        qtbot.waitUntil(lambda: tree.topLevelItem(0) is not None and sum(
            tree.topLevelItem(i).childCount() for i in range(tree.topLevelItemCount())) >= 3, timeout=10_000)
        QCoreApplication.processEvents()
        assert splitter.sizes()[2] == reserved  # the three waiters came without another resize
    wait_for_jobs(qtbot, jobs)
    qtbot.waitUntil(lambda: splitter.sizes()[2] < reserved, timeout=10_000)


def test_the_console_keeps_its_lasting_objects_out_of_garbage_collections_once_its_window_is_shown(tmp_path):
    """A full collection walked the shown window's 48,500 objects in 45 ms, a stall whenever one ran."""
    import os
    import subprocess
    import sys

    script = ("import gc, sys\n"
              "from strongroom.gui.app import main\n"
              "code = main(['--home', sys.argv[1], '--startup-probe'])\n"
              "print('frozen', gc.get_freeze_count(), flush=True)\n"
              "sys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "home")], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    frozen = int(result.stdout.split("frozen ")[1].split()[0])
    assert frozen > 20_000
