"""Counting what a folder backup will read, in a child process, while the backup reads.

Progress needs totals (the files and bytes to read) before the end, which takes a walk
of its own: at 100,000 files a third of an incremental backup. In a thread it only takes
turns with the backup on the interpreter, so it runs in a forked child on the other core
and sends its two numbers back through a pipe. The child closes every descriptor it
inherited (a mutex's lock must not outlive its holder in a child), dies with its parent,
and only walks and reads the parent manifest through descriptors of its own; it never
logs, prints or touches the set being written. Where there is no fork, the count is made before the copy, as before.
"""

from __future__ import annotations

import ctypes
import gc
import os
import select
import signal
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from ..archive import Entry, SetManifest
from .excludes import Excluder, ExcludeRules
from .folder_walk import walk

Unchanged = Callable[[os.stat_result, Entry], bool]
Totals = Callable[[int, int], None]


def count(path: Path, parent: SetManifest | None, unchanged: Unchanged,
          rules: ExcludeRules | None = None) -> tuple[int, int]:
    """The files whose contents the backup will read, and their bytes (warnings come with the real walk)."""
    files = size = 0
    cursor = parent.entries.cursor() if parent is not None else None
    for item in walk(path, lambda message: None, Excluder(rules) if rules else None):
        if item.kind == "file":
            previous = cursor.get(item.path) if cursor is not None else None
            if previous is None or not unchanged(item.status, previous):
                files += 1
                size += min(item.status.st_size, item.status.st_blocks * 512)
    return files, size


def _detach(keep: int, parent_pid: int) -> None:
    """Make the child hold nothing of its parent's: no lock, no set file, no pipe but its own.

    A descriptor inherited from the parent keeps what it stands for alive — the flock of a
    store type's mutex above all — for as long as the child runs, even after the parent is
    killed. So every descriptor but the answer pipe is closed (the objects that held them
    are never collected: the collector is off and the child ends with os._exit), and the
    child is killed with its parent (PR_SET_PDEATHSIG).
    """
    gc.disable()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before the death signal was asked for
        os._exit(1)
    os.closerange(3, keep)
    os.closerange(keep + 1, _max_descriptors())


def _max_descriptors() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        return 65536


_PR_SET_PDEATHSIG = 1


class BackgroundCount:
    """Counts in a child process and hands the totals to ``on_totals`` (from a thread of this process)."""

    POLL = 0.2

    def __init__(self, path: Path, parent: SetManifest | None, unchanged: Unchanged, on_totals: Totals,
                 rules: ExcludeRules | None = None) -> None:
        self._stop = threading.Event()
        self._pid = 0
        self._thread: threading.Thread | None = None
        if not hasattr(os, "fork"):
            on_totals(*count(path, parent, unchanged, rules))
            return
        readable, writable = os.pipe()
        parent_pid = os.getpid()
        with warnings.catch_warnings():  # the child only walks: no lock another thread holds is needed there
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: count, answer, leave without running anything of the parent's
            status = 1
            try:
                _detach(writable, parent_pid)
                source = getattr(parent.entries, "source", None) if parent is not None else None
                if source is not None:
                    source.forget()
                files, size = count(path, parent, unchanged, rules)
                os.write(writable, b"%d %d" % (files, size))
                status = 0
            finally:
                os._exit(status)
        os.close(writable)
        self._pid = pid
        self._thread = threading.Thread(target=self._wait, args=(readable, on_totals), name="folder count",
                                        daemon=True)
        self._thread.start()

    def _wait(self, readable: int, on_totals: Totals) -> None:
        try:
            data = b""
            while not self._stop.is_set():
                ready, _, _ = select.select([readable], [], [], self.POLL)
                if not ready:
                    continue
                chunk = os.read(readable, 64)
                if not chunk:
                    break
                data += chunk
            if not self._stop.is_set() and data:
                files, size = (int(number) for number in data.split())
                on_totals(files, size)
        finally:
            os.close(readable)

    def stop(self) -> None:
        """End the count (it is only for progress): the child is killed if it has not finished."""
        self._stop.set()
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._thread is not None:
            self._thread.join(5)
