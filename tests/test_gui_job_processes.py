"""The console runs each job in a process of its own (core/jobs/job_process.py) and shows it as its own.

Real jobs in real child processes: a level-19 backup of 32 MiB of base64 text runs for seconds
(it compresses about 2 MB/s here), long enough to be found in /proc, cancelled with the
Cancel button or killed from outside.
"""

from __future__ import annotations

import base64
import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from strongroom.core.jobs import JobListener, JobState
from strongroom.core.jobs.job_process import JOB_NICENESS
from strongroom.gui.lock_panel import STATE as LOCK_STATE
from strongroom.gui.models.jobs_model import CANCEL, STATE as JOB_STATE

from .gui_support import cell_text, wait_for_jobs
from .trees import make_tree


def slow_store(engine, tmp_path: Path, name: str = "docs") -> None:
    """A store whose backup at level 19 takes seconds: 32 MiB that compress slowly."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "slow.txt").write_bytes(base64.b64encode(os.urandom(24 << 20)))
    engine.add_store(name, "folder", str(folder))


def job_process(job, qtbot) -> int:
    """The pid of the process running ``job``, a child of this one, once the job runs there."""
    def running_child() -> int | None:
        if job.state != JobState.RUNNING:
            return None
        for task in Path("/proc/self/task").iterdir():
            for pid in (task / "children").read_text().split():
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"strongroom.core.jobs.job_process:_child" in command:
                    return int(pid)
        return None

    qtbot.waitUntil(lambda: running_child() is not None, timeout=20_000)
    return running_child()


def finished(console, qtbot, job) -> None:
    """The job has ended and its worker with it (its history row is saved after its last state)."""
    wait_for_jobs(qtbot, [job], timeout=10_000)
    qtbot.waitUntil(lambda: not console.manager.busy, timeout=10_000)


def holder_of(engine, store_type: str):
    return {status.store_type: status for status in engine.registry.status()}[store_type].holder


def test_a_console_job_runs_in_its_own_process_below_the_window_and_cancels_cleanly(console, qtbot, tmp_path):
    engine = console.engine
    slow_store(engine, tmp_path)
    [job] = console.start_backups([("docs", engine.default_backup_options(level=19, verify=False))])
    pid = job_process(job, qtbot)
    window_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, window_priority + JOB_NICENESS)
    assert [took for took, _ in job.store_intervals]  # it held its mutex: in its process, as the log says
    assert any(line.startswith("acquired the mutex strongroom.folder") for line in job.log_lines)

    table = console.jobs_view.table
    rect = table.visualRect(table.model().index(console.jobs_view.model.row_of(job.id), CANCEL))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    finished(console, qtbot, job)
    assert job.state == JobState.CANCELLED
    assert job.record.state == JobState.CANCELLED.value and job.record.finished
    assert not engine.catalog.list_sets()
    assert not [path for path in engine.default_target.rglob("*") if path.is_file()]
    assert holder_of(engine, "folder") is None
    assert engine.catalog.get_job(job.id).state == JobState.CANCELLED.value
    assert cell_text(table, console.jobs_view.model.row_of(job.id), JOB_STATE) == "cancelled"


def test_what_a_job_process_reports_reaches_the_console_job_the_views_and_the_catalog(console, qtbot, tmp_path):
    engine = console.engine
    files = {f"d{n // 10}/f{n}.txt": f"file {n}" * n for n in range(40)}
    engine.add_store("docs", "folder", str(make_tree(tmp_path / "docs", files)))
    states: list[JobState] = []
    console.manager.job_added.connect(lambda added: added.add_listener(_States(states)))
    [job] = console.start_backups([("docs", engine.default_backup_options())])
    finished(console, qtbot, job)
    assert job.state == JobState.SUCCEEDED, job.error
    assert states == [JobState.WAITING, JobState.RUNNING, JobState.SUCCEEDED]
    assert job.progress.files_done == len(files)  # (the totals may come after the end: a count is for progress)
    record = engine.catalog.get_set(job.set_id)
    assert record.files == len(files)
    assert [line.split("  ", 1)[1] for line in engine.catalog.get_job(job.id).log] == job.log_lines
    assert job.store_intervals and all(gave >= took > 0 for took, gave in job.store_intervals)
    qtbot.waitUntil(lambda: console.counts_label.text() == "Idle")


def test_a_job_process_killed_from_outside_fails_its_job_and_frees_the_mutex(console, qtbot, tmp_path):
    engine = console.engine
    slow_store(engine, tmp_path)
    [job] = console.start_backups([("docs", engine.default_backup_options(level=19, verify=False))])
    os.kill(job_process(job, qtbot), signal.SIGKILL)
    finished(console, qtbot, job)
    assert job.state == JobState.FAILED
    assert job.error == "the job stopped: its process was killed by signal 9 before the job ended"
    saved = engine.catalog.get_job(job.id)
    assert saved.state == JobState.FAILED.value and saved.error == job.error
    assert not engine.catalog.list_sets()
    qtbot.waitUntil(lambda: console.lock_panel.items["folder"].text(LOCK_STATE) in ("free", "stale"), timeout=5000)
    # The next backup takes the mutex (the dead holder is provably dead) and succeeds.
    (tmp_path / "docs" / "slow.txt").write_text("small now")
    [again] = console.start_backups([("docs", engine.default_backup_options())])
    wait_for_jobs(qtbot, [again])
    assert again.state in (JobState.SUCCEEDED, JobState.WARNINGS), again.error


class _States(JobListener):
    def __init__(self, seen: list) -> None:
        self.seen = seen

    def job_state(self, job, state) -> None:
        self.seen.append(state)


pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the job process in /proc")]
