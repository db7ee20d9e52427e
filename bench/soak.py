"""The soak: simultaneous backups, restores and verifies under kills, full and read-only targets,
damaged and hostile sets — then proof that nothing was lost.

For --duration seconds (default 600), in a work folder of its own, with two folder stores
and two SQLite stores that a writer keeps changing (bench/soak_world.py):

- thread workers run jobs through one in-process engine, and process workers run the
  `strongroom` command line — both at random: full and incremental backups, restores into
  scratch folders, verifies; a quarter of the command-line runs are killed with SIGKILL at
  a random moment (waiting for a mutex, writing a set, restoring);
- a fault thread, in turn: fills a target (a file-size limit; a 1 MiB tmpfs), turns a
  target read-only before or during a backup, damages sets in place (flipped bytes,
  truncation, sidecar deleted or altered) and feeds them to verify and restore, and
  feeds hostile sets ('..', absolute paths, a member below a link, a hard link out of the set, a device entry);
- as root, the lock folder is shared (machine scope) with a second local user who forges waiter
  records there and swaps folders for links under root's restores and backups (soak_hostile.py).

Then it checks and prints, as a table: every catalogued set verifies and holds a state its
store really was in; every successful restore equals that state; no set exists for a job
that did not succeed and no partial file is left; no mutex is held or stale and no two
holders of one mutex overlapped (from the jobs' own hold times); different store types
overlapped; every fault got a clear message and nothing was written outside a restore
destination; the catalog passes PRAGMA integrity_check. Exit 0 only when all hold.

    python bench/soak.py [--duration 600] [--work DIR] [--threads 3] [--processes 3] [--seed N]
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from soak_faults import (CLI, DAMAGE, HOSTILE, Fault, damaged_set, file_size_limit, hostile_set,  # noqa: E402
                         mount_tmpfs, read_only_target, tiny_filesystem, unmount)
from soak_checks import manifest_state  # noqa: E402
from soak_hostile import HostileUser  # noqa: E402
from soak_prune import PRUNE_KEEP, prune_worker  # noqa: E402
from soak_world import FOLDER_STORES, SQLITE_STORES, World  # noqa: E402

from strongroom.core.archive import ArchiveError  # noqa: E402
from strongroom.core.archive.reader import open_for_reading  # noqa: E402
from strongroom.core.engine import Engine  # noqa: E402
from strongroom.core.paths import resolve_paths  # noqa: E402
from strongroom.core.restore import RestoreOptions  # noqa: E402
from strongroom.core.retention.policy import RetentionPolicy  # noqa: E402
from strongroom.core.retention.prune import prune  # noqa: E402

STORES = FOLDER_STORES + SQLITE_STORES
KILL_SHARE = 0.25
GONE = ("does not exist", "is being deleted", "there is no backup set",  # a job on a set pruned meanwhile
        "is neither a backup set id nor a set file", "was moved or deleted", "is missing")
WAIT = "300"  # seconds a job may wait for its mutex


class Soak:
    def __init__(self, work: Path, duration: float, seed: int) -> None:
        self.work = work
        self.home = work / "home"
        self.lock_dir = self.home / "locks"
        if os.geteuid() == 0:  # a shared lock folder, with a hostile user in its group (bench/soak_hostile.py)
            os.environ["STRONGROOM_LOCK_SCOPE"] = "machine"
        self.fault_home = work / "fault-home"  # catalog of the fault runs (its own, small); same lock directory
        self.engine = Engine(resolve_paths(self.home))
        self.world = World(work, self.engine.registry, seed)
        for store in STORES:
            kind = "folder" if store in FOLDER_STORES else "sqlite"
            self.engine.add_store(store, kind, str(self.world.path(store)))
            Engine(resolve_paths(self.fault_home, lock_dir=self.lock_dir)).add_store(store, kind,
                                                                                      str(self.world.path(store)))
        self.deadline = time.monotonic() + duration
        self.seed = seed
        self.lock = threading.Lock()
        self.tally: collections.Counter[str] = collections.Counter()
        self.restores: list[tuple[str, Path]] = []  # (set id, destination) of successful restores
        self.restored_states: dict[Path, dict | None] = {}  # destination -> its set's state when restored
        self.killed_restores: list[tuple[str, str, Path]] = []  # (store, set id, destination)
        self.killed_pids: list[int] = []
        self.faults: list[Fault] = []
        self.busy_sets: set[str] = set()  # being damaged: nobody may pick them
        self.in_use: collections.Counter[str] = collections.Counter()  # picked by a job: not to be damaged
        self.incrementals: collections.Counter[str] = collections.Counter()  # running incremental backups per store
        self.busy_stores: set[str] = set()
        self.numbers = iter(range(10**9))
        self.mounted: list[Path] = []
        self.engine.paths.lock_directory().ensure()
        self.hostile = HostileUser(work, self.lock_dir, CLI)

    # -- choosing ---------------------------------------------------------------------------

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.tally[key] += n

    def pick_set(self, rng):
        """A catalogued set to restore or verify, marked in use until ``done_with`` (damage skips it)."""
        sets = [s for s in self.engine.catalog.list_sets() if s.store in STORES]
        if not sets:
            return None
        record = rng.choice(sets)
        with self.lock:
            if record.id in self.busy_sets:
                return None
            self.in_use[record.id] += 1
        return record

    def finished(self, record, incremental: str | None) -> None:
        if record is not None:
            self.done_with(record)
        if incremental is not None:
            self.end_incremental(incremental)

    def done_with(self, record) -> None:
        with self.lock:
            self.in_use[record.id] -= 1

    def scratch(self, prefix: str) -> Path:
        return self.work / "restores" / f"{prefix}-{next(self.numbers)}"

    def start_incremental(self, store: str) -> bool:
        """Whether an incremental backup of ``store`` may start now (not while one of its sets is damaged);
        if so it counts as running until ``end_incremental``, and no set of the store is damaged meanwhile."""
        with self.lock:
            if store in self.busy_stores:
                return False
            self.incrementals[store] += 1
            return True

    def end_incremental(self, store: str) -> None:
        with self.lock:
            self.incrementals[store] -= 1

    # -- thread workers ---------------------------------------------------------------------

    def thread_worker(self, number: int) -> None:
        rng = random.Random(self.seed * 100 + number)
        while time.monotonic() < self.deadline:
            choice = rng.random()
            if choice < 0.5:
                store = rng.choice(STORES)
                incremental = rng.random() < 0.5 and self.start_incremental(store)
                job = self.engine.backup_job(store, self.engine.default_backup_options(incremental=incremental))
                try:
                    self.count(f"thread backup {job.run().value}")
                finally:
                    if incremental:
                        self.end_incremental(store)
            elif choice < 0.8:
                record = self.pick_set(rng)
                if record is None:
                    continue
                destination = self.scratch("thread")
                job = self.engine.restore_job(record.store, RestoreOptions(to=destination), set_id=record.id)
                try:
                    state = job.run().value
                finally:
                    self.done_with(record)
                self.count(f"thread restore {state}")
                if state.startswith("succeeded"):
                    self.restored(record.id, destination)
                elif not self.pruned_meanwhile(record.id, job.error or ""):
                    self.count("unexpected job failures")
                    print(f"  restore of {record.id} failed: {job.error}", file=sys.stderr)
            else:
                record = self.pick_set(rng)
                if record is None:
                    continue
                job = self.engine.verify_job(record.id)
                try:
                    state = job.run().value
                finally:
                    self.done_with(record)
                self.count(f"thread verify {state}")
                if not state.startswith("succeeded") and not self.pruned_meanwhile(record.id, job.error or ""):
                    self.count("unexpected job failures")
                    print(f"  verify of {record.id} failed: {job.error}", file=sys.stderr)

    # -- process workers --------------------------------------------------------------------

    def process_worker(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)
        while time.monotonic() < self.deadline:
            choice = rng.random()
            destination = record = incremental = None
            if choice < 0.5:
                store = rng.choice(STORES)
                args = ["backup", store, "--wait", WAIT]
                if rng.random() < 0.5 and self.start_incremental(store):
                    args.append("--incremental")
                    incremental = store
                operation = "backup"
            else:
                record = self.pick_set(rng)
                if record is None:
                    continue
                if choice < 0.8:
                    destination = self.scratch("process")
                    args = ["restore", record.store, "--set", record.id, "--to", str(destination), "--wait", WAIT]
                    operation = "restore"
                else:
                    args = ["verify", record.id]
                    operation = "verify"
            process = subprocess.Popen([*CLI, "--home", str(self.home), *args], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            kill = rng.random() < KILL_SHARE
            try:
                output, _ = process.communicate(timeout=rng.uniform(0.05, 1.5) if kill else 600)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.communicate(timeout=60)
                self.finished(record, incremental)
                self.count(f"process {operation} killed")
                with self.lock:
                    self.killed_pids.append(process.pid)
                    if destination is not None:
                        self.killed_restores.append((record.store, record.id, destination))
                continue
            self.finished(record, incremental)
            state = "succeeded" if process.returncode == 0 else f"exit {process.returncode}"
            self.count(f"process {operation} {state}")
            if process.returncode != 0:
                if record is None or not self.pruned_meanwhile(record.id, output):
                    self.count("unexpected job failures")
                    print(f"  {' '.join(args)} failed: {output.strip()[-300:]}", file=sys.stderr)
            elif destination is not None:
                self.restored(record.id, destination)

    def restored(self, set_id: str, destination: Path) -> None:
        """A successful restore, with its set's state read now (a prune may remove the set before the checks)."""
        try:
            state = manifest_state(self.engine, set_id)
        except Exception:  # noqa: BLE001 - pruned in between: the checks compare with every known state
            state = None
        with self.lock:
            self.restores.append((set_id, destination))
            self.restored_states[destination] = state

    def pruned_meanwhile(self, set_id: str, error: str) -> bool:
        """A restore or verify refused because a prune removed its set after it was picked: not a failure."""
        # "being deleted": a prune held the set alone (it may have been killed before removing it)
        if "is being deleted" in error or (any(words in error for words in GONE)
                                           and set_id not in {s.id for s in self.engine.catalog.list_sets()}):
            self.count("jobs on a set pruned meanwhile (refused cleanly)")
            return True
        return False

    # -- faults -----------------------------------------------------------------------------

    def fault_worker(self) -> None:
        rng = random.Random(self.seed + 7)
        folder = self.work / "faults"
        tiny, read_only = folder / "tiny", folder / "read-only"
        tiny_problem = mount_tmpfs(tiny, "1m")
        ro_problem = mount_tmpfs(read_only, "64m")
        kinds = ["file-size limit", "tiny", "read-only before", "read-only during", *DAMAGE, *HOSTILE]
        turn = 0
        try:
            while time.monotonic() < self.deadline:
                kind = kinds[turn % len(kinds)]
                turn += 1
                try:
                    self.inject(kind, rng, folder, tiny, read_only, tiny_problem, ro_problem)
                except Exception as error:  # a broken fault is a soak bug: show it, go on
                    self.count("fault harness errors")
                    print(f"  fault {kind}: {error!r}", file=sys.stderr)
                time.sleep(rng.uniform(0.5, 2.0))  # spacing between faults, not synchronisation
        finally:
            for point, problem in ((tiny, tiny_problem), (read_only, ro_problem)):
                if not problem:
                    self.final_sweep_target(point)
                    self.mounted.append(point)  # unmounted after the final checks, which read its sets

    def inject(self, kind, rng, folder, tiny, read_only, tiny_problem, ro_problem) -> None:
        store = rng.choice(FOLDER_STORES)  # the folder stores are the larger ones: they reach the limits
        if kind == "file-size limit":
            self.record(file_size_limit(self.fault_home, self.lock_dir, folder / "fsize", store))
        elif kind == "tiny":
            self.record(tiny_filesystem(self.fault_home, self.lock_dir, tiny, store) if not tiny_problem
                        else Fault("target full (1 MiB file system)", True, tiny_problem, injected=False))
        elif kind.startswith("read-only"):
            delay = 0 if kind.endswith("before") else rng.uniform(0.05, 0.6)
            self.record(read_only_target(self.fault_home, self.lock_dir, read_only, store, delay) if not ro_problem
                        else Fault("target turned read-only", True, ro_problem, injected=False))
        elif kind in DAMAGE:
            self.damage(kind, rng, folder)
        else:
            for fault in hostile_set(self.fault_home, self.lock_dir, folder, kind, next(self.numbers)):
                self.record(fault)

    def damage(self, kind: str, rng, folder: Path) -> None:
        sets = self.engine.catalog.list_sets()
        parents = {record.parent for record in sets if record.parent}
        with self.lock:
            # Only a set no other set builds on, and no incremental backup of its store meanwhile.
            candidates = [s for s in sets if s.id not in parents and s.store not in self.busy_stores
                          and s.store in STORES and not self.in_use[s.id] and not self.incrementals[s.store]]
            if not candidates:
                return
            record = rng.choice(candidates)
            self.busy_sets.add(record.id)
            self.busy_stores.add(record.store)
        try:
            # A shared lock on the set, as a restore takes: a prune leaves the set alone meanwhile.
            with open_for_reading(Path(record.path)):
                faults = damaged_set(self.home, self.lock_dir, record, kind, self.scratch("damaged"), rng)
            for fault in faults:
                if fault is not None:
                    self.record(fault)
        except ArchiveError:  # pruned after it was chosen
            self.count("damage skipped: set pruned meanwhile")
        finally:
            with self.lock:
                self.busy_sets.discard(record.id)
                self.busy_stores.discard(record.store)

    def record(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)
        if not fault.clear:
            print(f"  fault without a clear answer: {fault.kind}: {fault.detail}", file=sys.stderr)

    def final_sweep_target(self, target: Path) -> None:
        """A last backup into a fault target: it removes partial files that killed or failed runs left."""
        subprocess.run([*CLI, "--home", str(self.fault_home), "--lock-dir", str(self.lock_dir), "backup",
                        "crm", "--target", str(target), "--wait", WAIT], capture_output=True, timeout=600)

    # -- running ----------------------------------------------------------------------------

    def run(self, threads: int, processes: int) -> None:
        writer = threading.Thread(target=self.world.run, name="writer", daemon=True)
        workers = [threading.Thread(target=self.thread_worker, args=(n,), name=f"thread worker {n}", daemon=True)
                   for n in range(threads)]
        workers += [threading.Thread(target=self.process_worker, args=(n,), name=f"process worker {n}", daemon=True)
                    for n in range(processes)]
        workers.append(threading.Thread(target=self.fault_worker, name="faults", daemon=True))
        workers.append(threading.Thread(target=prune_worker, args=(self,), name="prune", daemon=True))
        workers.append(threading.Thread(target=self.hostile.worker, args=(self.deadline,), name="hostile user's root",
                                        daemon=True))
        self.hostile.start()
        writer.start()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(max(60, self.deadline - time.monotonic() + 900))
            if worker.is_alive():
                self.count("workers that did not stop")
        self.world.stop.set()
        writer.join(120)
        self.hostile.stop()
        # what killed prunes left is deleted by the next prune (which keeps what the last one kept)
        prune(self.engine, overrides=RetentionPolicy(keep_last=PRUNE_KEEP))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one, removed after)")
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    args = parser.parse_args()
    from soak_checks import check, print_table

    context = tempfile.TemporaryDirectory(prefix="strongroom-soak-") if args.work is None else None
    work = Path(context.name) if context else args.work
    work.mkdir(parents=True, exist_ok=True)
    print(f"soak: {args.duration:.0f} s, seed {args.seed}, work folder {work}", flush=True)
    started = time.monotonic()
    soak = Soak(work, args.duration, args.seed)
    soak.run(args.threads, args.processes)
    try:
        rows = check(soak)
    finally:
        for point in soak.mounted:
            unmount(point)
    print_table(soak, rows, time.monotonic() - started)
    if context:
        context.cleanup()
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
