"""Benchmark of the per-store-type mutex engine; prints a table.

Measures, in each lock directory given (default: one on tmpfs, where the user runtime
dir lives on a desktop, and one on the disk, where ``--home`` puts it):

- uncontended acquire + release, next to bare filelock and raw flock(2) on the same
  directory (the ratios say what our owner records cost);
- handoff latency between two threads (release -> the waiter holds);
- handoff latency between two processes;
- one status snapshot with 10 store types and 20 waiters.

Usage: python bench/mutex_bench.py [--dir DIR ...] [--rounds N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import filelock

from strongroom.core.identity import this_process
from strongroom.core.mutex import LockDirectory, MutexOwner, MutexRegistry, mutex_status, snapshot
from strongroom.core.mutex.records import MutexRecord
from strongroom.core.mutex.waiter_files import write_locked

OWNER = MutexOwner("bench", "backup", "bench-store")
TARGETS = {"uncontended": 200e-6, "thread handoff": 1e-3, "process handoff": 60e-3, "snapshot": 5e-3}


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def bench_uncontended(registry: MutexRegistry, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        registry.acquire("folder", OWNER, timeout=1).release()
        samples.append(time.perf_counter() - start)
    return samples


def bench_bare_filelock(path: Path, rounds: int) -> list[float]:
    lock = filelock.FileLock(path, thread_local=False, preserve_lock_file=True)  # as the engine uses it
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        lock.acquire(timeout=0)
        lock.release()
        samples.append(time.perf_counter() - start)
    return samples


def bench_raw_flock(path: Path, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        samples.append(time.perf_counter() - start)
    return samples


def bench_thread_handoff(registry: MutexRegistry, rounds: int) -> list[float]:
    samples = []

    def take(got: list[float]) -> None:
        hold = registry.acquire("sqlite", OWNER, timeout=5)
        got.append(time.perf_counter())
        hold.release()

    for _ in range(rounds):
        hold = registry.acquire("sqlite", OWNER, timeout=5)
        got: list[float] = []
        waiter = threading.Thread(target=take, args=(got,))
        waiter.start()
        deadline = time.monotonic() + 5
        while not mutex_status(registry.lockdir, "sqlite").waiters and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(0.001)  # let the waiter settle into its wait
        released = time.perf_counter()
        hold.release()
        waiter.join(5)
        samples.append(got[0] - released)
    return samples


CHILD = """
import sys, time
from strongroom.core.mutex import LockDirectory, MutexOwner, MutexRegistry
registry = MutexRegistry(LockDirectory(sys.argv[1]))
owner = MutexOwner("child", "restore", "bench-store")
for line in sys.stdin:
    hold = registry.acquire("folder", owner, timeout=10)
    print(time.time(), flush=True)
    hold.release()
"""


def bench_process_handoff(lockdir: LockDirectory, registry: MutexRegistry, rounds: int) -> list[float]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(lockdir.path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    samples = []
    try:
        for _ in range(rounds):
            hold = registry.acquire("folder", OWNER, timeout=10)
            child.stdin.write("go\n")
            child.stdin.flush()
            deadline = time.monotonic() + 10
            while not any(lockdir.waiting_dir("folder").glob("*.json")) and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(0.01)  # let the child settle into its polling wait
            released = time.time()
            hold.release()
            samples.append(float(child.stdout.readline()) - released)
    finally:
        child.stdin.close()
        child.wait(10)
    return samples


def bench_snapshot(lockdir: LockDirectory, rounds: int) -> list[float]:
    types = [f"bench{n}" for n in range(8)]
    all_types = ["folder", "sqlite", *types]
    me = this_process()
    now = time.time()
    held = []  # a waiter's record counts only while its lock is held, as a real waiter holds it
    for n in range(20):
        store_type = all_types[n % len(all_types)]
        record = MutexRecord(store_type, f"w{n}", "backup", "s", me.host, me.pid, me.start, me.pid_namespace,
                             f"waiter-{n}", 1000 + n, now, now, ticket=n + 1)
        directory = lockdir.ensure_waiting_dir(store_type)
        held.append(write_locked(directory / f"{n + 1:020d}-{me.pid}-{1000 + n}.json", record, 0o600, None))
    samples = []
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            statuses = snapshot(lockdir, all_types)
            samples.append(time.perf_counter() - start)
    finally:
        for fd in held:
            os.close(fd)
    assert len(statuses) == 10 and sum(len(s.waiters) for s in statuses) == 20
    return samples


def run(directory: Path, rounds: int) -> list[tuple[str, float, float, str]]:
    lockdir = LockDirectory(directory)
    registry = MutexRegistry(lockdir)
    rows = []
    ours = percentiles(bench_uncontended(registry, rounds))
    bare = percentiles(bench_bare_filelock(directory / "bare.lock", rounds))
    raw = percentiles(bench_raw_flock(directory / "raw.lock", rounds))
    rows.append(("uncontended acquire+release", *ours, "uncontended"))
    rows.append(("  bare filelock (reference)", *bare, ""))
    rows.append(("  raw flock(2) (reference)", *raw, ""))
    rows.append(("thread handoff", *percentiles(bench_thread_handoff(registry, max(50, rounds // 10))), "thread handoff"))
    rows.append(("process handoff", *percentiles(bench_process_handoff(lockdir, registry, 40)), "process handoff"))
    rows.append(("snapshot, 10 types + 20 waiters", *percentiles(bench_snapshot(lockdir, rounds // 2)), "snapshot"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", action="append", type=Path, help="lock directory parent to measure in")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    parents = args.dir or [p for p in (Path("/dev/shm"), Path(tempfile.gettempdir())) if p.is_dir()]
    print(f"strongroom mutex benchmark -- {os.cpu_count()} cores, filelock {filelock.__version__}, "
          f"Python {sys.version.split()[0]}")
    for parent in parents:
        with tempfile.TemporaryDirectory(dir=parent, prefix="strongroom-bench-") as directory:
            fs = subprocess.run(["stat", "-f", "-c", "%T", directory], capture_output=True, text=True).stdout.strip()
            print(f"\nlock directory on {parent} ({fs or 'unknown fs'})")
            print(f"{'measure':<34}{'median':>12}{'p99':>12}{'target':>12}  met")
            ours = None
            for label, median, p99, target_key in run(Path(directory), args.rounds):
                target = TARGETS.get(target_key)
                met = "" if target is None else ("yes" if median <= target else "NO")
                target_text = f"{target * 1e6:,.0f} us" if target else ""
                print(f"{label:<34}{median * 1e6:>9,.0f} us{p99 * 1e6:>9,.0f} us{target_text:>12}  {met}")
                if label.startswith("uncontended"):
                    ours = median
                elif ours and "reference" in label:
                    print(f"{'':<34}(ours is {ours / median:.1f}x this)")


if __name__ == "__main__":
    main()
