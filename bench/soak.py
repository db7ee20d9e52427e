"""The soak: simultaneous backups, restores and verifies under kills, full and read-only targets,
damaged and hostile sets — then proof that nothing was lost.

For --duration seconds (default 600), in a work folder of its own, with two folder stores,
two SQLite stores, a PostgreSQL and a MariaDB store (throwaway servers of its own) that a
writer keeps changing (bench/soak_world.py, bench/soak_databases.py):

- thread workers run jobs through one in-process engine, and process workers run the
  `strongroom` command line — both at random: full and incremental backups, restores into
  scratch folders (a database set: into a new database, checked and dropped), verifies; a quarter of the command-line runs are killed with SIGKILL at
  a random moment (waiting for a mutex, writing a set, restoring);
- a fault thread, in turn: fills a target (a file-size limit; a 1 MiB tmpfs), turns a
  target read-only before or during a backup, damages sets in place (flipped bytes,
  truncation, sidecar deleted or altered) and feeds them to verify and restore, and
  feeds hostile sets ('..', absolute paths, a member below a link, a hard link out of the set, a device entry);
- as root, the lock folder is shared (machine scope) with a second local user who forges waiter
  records there and swaps folders for links under root's restores and backups (soak_hostile.py).

Then it checks and prints, as a table: every catalogued set verifies and holds a state its
store really was in; every successful restore equals that state (a database: a prefix of the
writer's transactions, both tables agreeing); no killed restore's database is left on a server; no set exists for a job
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
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from soak_fault_worker import FILE_STORES, WAIT, fault_worker  # noqa: E402
from soak_faults import CLI, Fault, run_maybe_killed, unmount  # noqa: E402
from soak_checks import manifest_state  # noqa: E402
from soak_databases import DATABASE_STORES, DatabaseServers  # noqa: E402
from soak_hostile import HostileUser  # noqa: E402
from soak_prune import PRUNE_KEEP, prune_worker  # noqa: E402
from soak_world import FOLDER_STORES, World  # noqa: E402

from strongroom.core.engine import Engine  # noqa: E402
from strongroom.core.paths import resolve_paths  # noqa: E402
from strongroom.core.restore import RestoreOptions  # noqa: E402
from strongroom.core.retention.policy import RetentionPolicy  # noqa: E402
from strongroom.core.retention.prune import prune  # noqa: E402

KILL_SHARE = 0.25
DATABASE_SHARE = 0.2  # of the backups; a database job takes several times a file store's
GONE = ("does not exist", "is being deleted", "there is no backup set",  # a job on a set pruned meanwhile
        "is neither a backup set id nor a set file", "was moved or deleted", "is missing")


class Soak:
    def __init__(self, work: Path, duration: float, seed: int) -> None:
        self.work = work
        self.home = work / "home"
        self.lock_dir = self.home / "locks"
        if os.geteuid() == 0:  # a shared lock folder, with a hostile user in its group (bench/soak_hostile.py)
            os.environ["STRONGROOM_LOCK_SCOPE"] = "machine"
        self.fault_home = work / "fault-home"  # catalog of the fault runs (its own, small); same lock directory
        self.engine = Engine(resolve_paths(self.home))
        self.databases = DatabaseServers()  # a PostgreSQL and a MariaDB store (bench/soak_databases.py)
        self.world = World(work, self.engine.registry, seed, self.databases)
        for store in FILE_STORES:
            kind = "folder" if store in FOLDER_STORES else "sqlite"
            self.engine.add_store(store, kind, str(self.world.path(store)))
            Engine(resolve_paths(self.fault_home, lock_dir=self.lock_dir)).add_store(store, kind,
                                                                                      str(self.world.path(store)))
        for store in self.databases.stores:
            self.engine.add_store(store, DATABASE_STORES[store], self.databases.url(store))
        self.stores = FILE_STORES + self.databases.stores
        self.database_restores: list[tuple[str, str, bool, str]] = []  # (set id, database, ok, problem)
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

    def pick_store(self, rng) -> str:
        """A store to back up: a database store one time in DATABASE_SHARE (their jobs take longer)."""
        if self.databases.stores and rng.random() < DATABASE_SHARE:
            return rng.choice(self.databases.stores)
        return rng.choice(FILE_STORES)

    def pick_set(self, rng):
        """A catalogued set to restore or verify, marked in use until ``done_with`` (damage skips it)."""
        sets = [s for s in self.engine.catalog.list_sets() if s.store in self.stores]
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
                store = self.pick_store(rng)
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
                destination, database = self.restore_target(record, "thread")
                job = self.engine.restore_job(record.store, RestoreOptions(to=destination, to_database=database),
                                              set_id=record.id)
                try:
                    state = job.run().value
                finally:
                    self.done_with(record)
                self.count(f"thread restore {state}")
                if state.startswith("succeeded"):
                    self.restored(record.id, destination, database)
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
            destination = database = record = incremental = None
            if choice < 0.5:
                store = self.pick_store(rng)
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
                    destination, database = self.restore_target(record, "process")
                    into = ["--to", str(destination)] if database is None else ["--to-database", database]
                    args = ["restore", record.store, "--set", record.id, *into, "--wait", WAIT]
                    operation = "restore"
                else:
                    args = ["verify", record.id]
                    operation = "verify"
            kill = rng.random() < KILL_SHARE
            process, output = run_maybe_killed([*CLI, "--home", str(self.home), *args],
                                               rng.uniform(0.05, 1.5) if kill else None)
            if output is None:
                self.finished(record, incremental)
                self.count(f"process {operation} killed")
                with self.lock:
                    self.killed_pids.append(process.pid)
                    if destination is not None:
                        self.killed_restores.append((record.store, record.id, destination))
                    if database is not None:  # killed after the load was renamed: a whole restore, dropped
                        self.databases.drop(record.store, database)
                continue
            self.finished(record, incremental)
            state = "succeeded" if process.returncode == 0 else f"exit {process.returncode}"
            self.count(f"process {operation} {state}")
            if process.returncode != 0:
                if record is None or not self.pruned_meanwhile(record.id, output):
                    self.count("unexpected job failures")
                    print(f"  {' '.join(args)} failed: {output.strip()[-300:]}", file=sys.stderr)
            elif destination is not None or database is not None:
                self.restored(record.id, destination, database)

    def restore_target(self, record, worker: str) -> tuple[Path | None, str | None]:
        """Where a restore of ``record`` goes: a new scratch folder, or a new database for a database set."""
        if record.store in DATABASE_STORES:
            return None, self.databases.new_name(record.store)
        return self.scratch(worker), None

    def restored(self, set_id: str, destination: Path | None, database: str | None = None) -> None:
        """A successful restore, with its set's state read now (a prune may remove the set before the checks).

        A restored database is checked at once (a prefix of the writer's transactions, both
        tables agreeing) and dropped."""
        if database is not None:
            store = set_id.rsplit("-", 2)[0]
            ok, _, problem = self.databases.check_and_drop(store, database)
            with self.lock:
                self.database_restores.append((set_id, database, ok, problem))
            if not ok:
                print(f"  restore of {set_id} into {database} is wrong: {problem}", file=sys.stderr)
            return
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

    # -- running ----------------------------------------------------------------------------

    def run(self, threads: int, processes: int) -> None:
        writer = threading.Thread(target=self.world.run, name="writer", daemon=True)
        workers = [threading.Thread(target=self.thread_worker, args=(n,), name=f"thread worker {n}", daemon=True)
                   for n in range(threads)]
        workers += [threading.Thread(target=self.process_worker, args=(n,), name=f"process worker {n}", daemon=True)
                    for n in range(processes)]
        workers.append(threading.Thread(target=fault_worker, args=(self,), name="faults", daemon=True))
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
        for store in self.databases.stores:  # a last restore on each server drops what killed restores left
            record = max(self.engine.catalog.list_sets(store), key=lambda r: (r.created, r.id))
            destination, database = self.restore_target(record, "final")
            job = self.engine.restore_job(store, RestoreOptions(to_database=database), set_id=record.id)
            if job.run().value.startswith("succeeded"):
                self.restored(record.id, None, database)
            else:
                self.count("unexpected job failures")
                print(f"  the last restore of {store} failed: {job.error}", file=sys.stderr)


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
    if soak.databases.missing:
        print(f"soak: without database stores: {soak.databases.missing}", flush=True)
    soak.run(args.threads, args.processes)
    try:
        rows = check(soak)
    finally:
        for point in soak.mounted:
            unmount(point)
        soak.databases.stop()
    print_table(soak, rows, time.monotonic() - started)
    if context:
        context.cleanup()
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
