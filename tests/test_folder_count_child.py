"""The folder backup's progress count runs in a spawned child that holds nothing of its parent's.

A real parent process holds a lock and starts a count whose child blocks mid-walk; the test
looks at the child's descriptors in /proc and then kills the parent with SIGKILL.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, uses pidfds")

ROOT = Path(__file__).resolve().parent.parent

PARENT = r"""
import sys, threading
from pathlib import Path
from types import SimpleNamespace
import filelock
from strongroom.core.archive.entries import EntryList
from strongroom.core.archive.entry import new_entry
from strongroom.core.stores.folder_count import BackgroundCount
from tests.test_folder_count_child import unchanged_that_blocks

lock = filelock.FileLock(sys.argv[2])
lock.acquire(timeout=10)
parent = SimpleNamespace(entries=EntryList([new_entry(path="a.txt", type="file", mode=0o644, mtime_ns=0, size=1)]))
count = BackgroundCount(Path(sys.argv[1]), parent, unchanged_that_blocks, lambda files, size: None)
print("child", count._process.pid, flush=True)
threading.Event().wait(600)
"""


def unchanged_that_blocks(status, previous) -> bool:
    """Run in the count's child: say so on the shared stdout, then never finish the walk."""
    print("counting", os.getpid(), flush=True)
    threading.Event().wait(600)
    return False


def exits_within(pid: int, seconds: float) -> bool:
    descriptor = os.pidfd_open(pid)
    try:
        return bool(select.select([descriptor], [], [], seconds)[0])
    finally:
        os.close(descriptor)


def test_the_count_child_holds_no_lock_of_its_parent_and_dies_when_the_parent_is_killed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("a")
    lock_file = tmp_path / "strongroom.folder.lock"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tree), str(lock_file)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        started = parent.stdout.readline().split()
        assert started[:1] == ["child"], started
        child = int(started[1])
        counting = parent.stdout.readline().split()  # printed by the child, on the stdout it shares
        assert counting == ["counting", str(child)]
        held = {os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")}
        assert str(lock_file) not in held, held
        assert not any(target.endswith(".lock") for target in held), held
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert exits_within(child, 30), f"the count child {child} outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        parent.stdout.close()
