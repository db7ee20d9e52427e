"""Shared fixtures: an offscreen Qt platform, a private lock directory, CLI runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from strongroom.core.identity import this_process
from strongroom.core.mutex import LockDirectory, MutexRecord, MutexRegistry

CLI = [sys.executable, "-m", "strongroom.core.cli.main"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def lockdir(home: Path) -> LockDirectory:
    return LockDirectory(home / "locks")


@pytest.fixture
def registry(lockdir: LockDirectory) -> MutexRegistry:
    """A registry of its own (not the process-wide one), so tests cannot see each other."""
    return MutexRegistry(lockdir)


@pytest.fixture
def engine(home: Path, registry: MutexRegistry):
    """A backup engine that keeps everything under ``home``."""
    from strongroom.core.engine import Engine
    from strongroom.core.paths import resolve_paths

    return Engine(resolve_paths(home), registry=registry)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MiB tmpfs (root only)."""
    point = tmp_path / "small-disk"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield point
    subprocess.run(["umount", str(point)], check=True, timeout=30)


@pytest.fixture
def docs(engine, tmp_path: Path) -> Path:
    """A small folder store: two small files and one large enough to be streamed (5 MiB)."""
    from .trees import make_tree

    source = make_tree(tmp_path / "docs", {"a.txt": "alpha", "b.txt": "beta", "big.bin": os.urandom(5 << 20)})
    engine.add_store("docs", "folder", str(source))
    return source


def run_backup(engine, **options):
    """Run a backup of the ``docs`` store to its end; the job, for its state and warnings."""
    from strongroom.core.jobs import BackupOptions

    job = engine.backup_job("docs", BackupOptions(**options))
    job.run()
    return job


def cli(home: Path, *args: str, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the strongroom CLI to completion with --home."""
    return subprocess.run([*CLI, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def cli_status(home: Path) -> dict[str, dict]:
    """`strongroom locks --json`, keyed by store type."""
    result = cli(home, "locks", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["store_type"]: entry for entry in json.loads(result.stdout)}


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> object:
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)  # polling another process's state; the deadline bounds it


def fake_record(store_type: str, **changes) -> MutexRecord:
    """A holder record as this process would write it, with fields changed."""
    me = this_process()
    now = time.time()
    fields = dict(store_type=store_type, job_id="job-x", operation="backup", store="docs", host=me.host,
                  pid=me.pid, process_start=me.start, pid_namespace=me.pid_namespace, thread="Worker",
                  thread_id=1, since=now, heartbeat=now)
    fields.update(changes)
    return MutexRecord(**fields)


class Rendezvous:
    """Keeps each of several jobs inside its store (holding its mutex) until all of them are inside.

    If two of them could not hold their mutexes at the same time, the first one in waits
    in vain and the test fails after ``timeout``: proof by construction, not by timing.
    """

    def __init__(self, count: int, timeout: float = 20.0) -> None:
        import threading

        self.barrier = threading.Barrier(count, timeout=timeout)

    def listener(self):
        from strongroom.core.jobs import JobListener, JobState

        barrier = self.barrier

        class Inside(JobListener):
            def job_state(self, job, state) -> None:
                if state == JobState.RUNNING and job.store_intervals and not getattr(self, "met", False):
                    self.met = True
                    barrier.wait()  # raises BrokenBarrierError (the job fails) if the others never get in

        return Inside()


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


@pytest.fixture
def console(engine, qtbot, monkeypatch):
    """The main window over the test engine; at the end every job is cancelled and has ended."""
    from strongroom.gui.main_window import MainWindow

    window = MainWindow(engine, tray=False)  # closed here, not by qtbot, which would close it before this teardown
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.manager.cancel_all()
    qtbot.waitUntil(lambda: not window.manager.busy, timeout=30_000)
    monkeypatch.setattr("strongroom.gui.closing.ask", lambda *args, **kwargs: True)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    window.watcher.stop()
    window.deleteLater()


@pytest.fixture(scope="session")
def attacker():
    """An unprivileged local user of its own, created for the tests and removed after (root only).

    Yields (uid, gid, name). The user has no home and no login shell.
    """
    import pwd
    import shutil

    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"):
        pytest.skip("needs root, useradd and setpriv to act as a second local user")
    name = f"srattack{os.getpid() % 100000}"
    try:
        pwd.getpwnam(name)  # left by a run that was killed: used again, removed at the end
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name],
                       check=True, capture_output=True, timeout=60)
    try:
        entry = pwd.getpwnam(name)
        yield entry.pw_uid, entry.pw_gid, name
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=60)


def as_user(user: tuple[int, int, str], *command: str, **kwargs) -> subprocess.Popen:
    """Start ``command`` as ``user`` (from the ``attacker`` fixture), with no supplementary groups."""
    uid, gid, _ = user
    return subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command], **kwargs)


def _started(start):
    """Start a throwaway server; without its programs, skip — or fail where servers are required (CI)."""
    from .db_servers import ServerUnavailable

    try:
        return start()
    except ServerUnavailable as missing:
        if os.environ.get("STRONGROOM_REQUIRE_SERVERS"):
            pytest.fail(f"{missing} (STRONGROOM_REQUIRE_SERVERS is set: .ci/run must install it)")
        pytest.skip(str(missing))


def _serving(start):
    server, _, stop = _started(start)
    try:
        yield server
    finally:
        stop()


@pytest.fixture(scope="session")
def postgresql_server():
    """A throwaway PostgreSQL server for the whole test run (see db_servers.py)."""
    from .db_servers import start_postgresql

    yield from _serving(start_postgresql)


@pytest.fixture(scope="session")
def mariadb_server():
    """A throwaway MariaDB server for the whole test run (see db_servers.py)."""
    from .db_servers import start_mariadb

    yield from _serving(start_mariadb)
