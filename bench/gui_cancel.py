"""How fast the console's jobs react to Cancel at the slowest compression, and whether their progress keeps moving.

In the console (offscreen), a folder of compressible files is backed up at zstd level 19,
the level that made a cancel take 3.5 s and left progress frozen for tens of seconds. For
each round the backup is cancelled at a different moment of its run, and the time from the
cancel to the job's end (as the console sees it) is measured; meanwhile the longest time the
job's written bytes did not move is recorded. A last round cancels four such backups at once,
as "Cancel jobs and close" does. Used by gui_bench.py; the target is a reaction within 0.5 s.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

_TEXT = bytes((b"etaoinshrdlu \n,.-0123456789"[i % 27]) for i in range(256))


def make_folder(root: Path, mib: int) -> Path:
    """Text-like files of 4 MiB (about 3:1 for zstd), made once."""
    if root.exists():
        return root
    root.mkdir(parents=True)
    for index in range(max(1, mib // 4)):
        (root / f"part-{index:03d}.txt").write_bytes(os.urandom(4 << 20).translate(_TEXT))
    return root


def _run_until(app: QApplication, done, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.002)  # polling the event loop in a bench, bounded by the deadline
    return True


def cancel_round(app: QApplication, window, stores: list[str], after: float, level: int) -> tuple[float, float]:
    """(seconds from cancel to every job ended, longest stretch without written bytes moving) for one round."""
    options = replace(window.engine.default_backup_options(), level=level, verify=False)
    jobs = window.start_backups([(store, options) for store in stores])
    started = time.monotonic()
    last_bytes, last_move, longest = -1, time.monotonic(), 0.0

    def watch() -> bool:
        nonlocal last_bytes, last_move, longest
        now = time.monotonic()
        done = sum(job.progress.bytes_done for job in jobs)
        if done != last_bytes:
            last_bytes, last_move = done, now
        elif any(job.state.value == "running" for job in jobs):
            longest = max(longest, now - last_move)
        return now - started >= after or all(job.state.terminal for job in jobs)

    _run_until(app, watch, after + 60)
    cancelled = time.monotonic()
    for job in jobs:
        window.manager.cancel(job.id)
    if not _run_until(app, lambda: all(job.state.terminal for job in jobs), 120):
        raise SystemExit("a cancelled job did not end within 120 s")
    reaction = time.monotonic() - cancelled
    if not _run_until(app, lambda: not window.manager.busy, 120):  # its worker thread too, before the next round
        raise SystemExit("a cancelled job's worker thread did not end within 120 s")
    return reaction, longest


def cancel_reaction(app: QApplication, window, data: Path, mib: int, rounds: int, level: int = 19) -> dict:
    """Cancel reaction of one job at several moments, and of four jobs at once."""
    folders = [make_folder(data / f"cancel-{mib}-{n}", mib) for n in range(4)]
    for number, folder in enumerate(folders):
        name = f"slow{number}"
        if name not in {store.name for store in window.engine.catalog.list_stores()}:
            window.engine.add_store(name, "folder", str(folder))
    single = [cancel_round(app, window, ["slow0"], 0.5 + 1.5 * round_number, level) for round_number in range(rounds)]
    four = cancel_round(app, window, [f"slow{n}" for n in range(4)], 2.0, level)
    return {"one job": single, "four jobs at once": [four]}
