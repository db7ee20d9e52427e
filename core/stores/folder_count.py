"""Counting what a folder backup will read, in a child process, while the backup reads.

Progress needs totals (the files and bytes to read) before the end, which takes a walk
of its own: at 100,000 files a third of an incremental backup. In a thread it only takes
turns with the backup on the interpreter, so it runs in a child process on the other core
and sends its two numbers back through a socket.

The child is a fresh interpreter (child_process.py), never a fork of this multi-threaded
process: such a fork once crashed in its first garbage collection. It holds no descriptor of
the parent's but its socket, so no mutex's flock outlives its holder in it; it reads the
parent manifest through a file of its own, dies with its parent, and never logs, prints or
touches the set being written. Where no child can be started, the count is made before the
copy.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..archive import Entry, SetManifest
from ..archive.entries import Entries
from ..child_process import ChildError, start_child
from .excludes import Excluder, ExcludeRules
from .folder_walk import walk

Unchanged = Callable[[os.stat_result, Entry], bool]
Totals = Callable[[int, int], None]

_PR_SET_PDEATHSIG = 1
_CHECK_PARENT_EVERY = 4096  # walked items between two looks at whether the parent still lives


def count(path: Path, parent: Entries | None, unchanged: Unchanged, rules: ExcludeRules | None = None,
          parent_alive: Callable[[], bool] = lambda: True) -> tuple[int, int]:
    """The files whose contents the backup will read, and their bytes (warnings come with the real walk)."""
    files = size = 0
    cursor = parent.cursor() if parent is not None else None
    for number, item in enumerate(walk(path, lambda message: None, Excluder(rules) if rules else None)):
        if number % _CHECK_PARENT_EVERY == 0 and not parent_alive():
            break
        if item.kind == "file":
            previous = cursor.get(item.path) if cursor is not None else None
            if previous is None or not unchanged(item.status, previous):
                files += 1
                size += min(item.status.st_size, item.status.st_blocks * 512)
    return files, size


def _child(answer: Connection, work: tuple) -> None:
    """The child's whole life: die with the parent, count, answer."""
    path, parent, unchanged, rules, parent_pid = work
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # Linux; elsewhere the walk looks at its parent
    except (OSError, AttributeError):
        pass
    alive = lambda: os.getppid() == parent_pid  # noqa: E731
    if not alive():
        return
    totals = count(path, parent, unchanged, rules, alive)
    if alive():
        answer.send(totals)


class BackgroundCount:
    """Counts in a child process and hands the totals to ``on_totals`` (from a thread of this process)."""

    POLL = 0.2

    def __init__(self, path: Path, parent: SetManifest | None, unchanged: Unchanged, on_totals: Totals,
                 rules: ExcludeRules | None = None) -> None:
        self._stop = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        entries = parent.entries if parent is not None else None
        try:
            self._process, connection = start_child(f"{__name__}:_child",
                                                    (path, entries, unchanged, rules, os.getpid()))
        except ChildError:  # no child here: count first
            on_totals(*count(path, entries, unchanged, rules))
            return
        self._thread = threading.Thread(target=self._wait, args=(connection, on_totals), name="folder count",
                                        daemon=True)
        self._thread.start()

    def _wait(self, connection: Connection, on_totals: Totals) -> None:
        try:
            while not self._stop.is_set():
                if wait([connection], self.POLL):
                    try:
                        files, size = connection.recv()
                    except (EOFError, OSError, ValueError, TypeError):
                        return  # the child ended without an answer: progress goes without totals
                    if not self._stop.is_set():
                        on_totals(files, size)
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        """End the count (it is only for progress): the child is killed if it has not finished."""
        self._stop.set()
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
        if self._thread is not None:
            self._thread.join(5)
        if process is not None:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass  # SIGKILLed: the kernel reaps it; nothing of ours is held by it
