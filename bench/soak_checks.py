"""The soak's final checks, each a row of the table it prints."""

from __future__ import annotations

import collections
import tempfile
from dataclasses import dataclass
from pathlib import Path

from soak_databases import DATABASE_STORES
from soak_world import FOLDER_STORES, SQLITE_STORES, sqlite_rows_ok, tree_state

from strongroom.core.archive import verify_set
from strongroom.core.catalog import Catalog
from strongroom.core.engine import Engine
from strongroom.core.paths import resolve_paths
from strongroom.core.restore import RestoreOptions

TOLERANCE = 0.001  # seconds: clocks of one host, read just inside the hold


@dataclass
class Row:
    check: str
    value: str
    ok: bool


def manifest_state(engine: Engine, set_id: str) -> dict[str, str]:
    manifest = engine.manifest_for(set_id)
    state = {}
    for entry in manifest.entries:
        if entry.type == "file":
            state[entry.path] = entry.sha256
        elif entry.type == "symlink":
            state[entry.path] = "link:" + (entry.target or "")
    return state


def check(soak) -> list[Row]:
    engine = Engine(resolve_paths(soak.home), registry=soak.engine.registry)  # also closes killed jobs' records
    rows: list[Row] = []
    catalog = engine.catalog
    sets = [record for record in catalog.list_sets() if record.store != "hostile"]
    world = soak.world
    known_states = {store: [frozenset(state.items()) for state in world.states[store]] for store in FOLDER_STORES}

    # Retried restores: an administrator re-runs a restore that was killed; it removes the partial files left.
    retried = 0
    catalogued = {record.id for record in catalog.list_sets()}
    for store, set_id, destination in soak.killed_restores:
        substitute = set_id not in catalogued
        if substitute:  # pruned since: the store's newest set clears what the kill left in that destination
            set_id = max((r for r in catalog.list_sets(store)), key=lambda r: (r.created, r.id)).id
        job = engine.restore_job(store, RestoreOptions(to=destination, overwrite="always"), set_id=set_id)
        if job.run().value.startswith("succeeded") and not substitute:  # a mixed destination is not compared
            soak.restores.append((set_id, destination))
            retried += 1

    # 1. every set verifies (those the fault runs made too), and holds a state its store was really in
    fault_catalog = Catalog(soak.fault_home / "catalog.sqlite")
    fault_sets = [record for record in fault_catalog.list_sets() if record.store != "hostile"]
    bad = [record.id for record in sets + fault_sets if not verify_set(Path(record.path)).ok]
    rows.append(Row("catalogued sets that verify", f"{len(sets) + len(fault_sets) - len(bad)} of "
                    f"{len(sets) + len(fault_sets)}", not bad and bool(sets)))
    wrong = []
    with tempfile.TemporaryDirectory(prefix="soak-check-") as scratch:
        for record in sets:
            if record.store in FOLDER_STORES:
                if frozenset(manifest_state(engine, record.id).items()) not in known_states[record.store]:
                    wrong.append(record.id)
            elif record.store in DATABASE_STORES:
                database = soak.databases.new_name(record.store)
                job = engine.restore_job(record.store, RestoreOptions(to_database=database), set_id=record.id)
                if not job.run().value.startswith("succeeded") or \
                        not soak.databases.check_and_drop(record.store, database)[0]:
                    wrong.append(record.id)
                    print(f"  set {record.id} does not restore to a consistent database: {job.error}")
            else:
                out = Path(scratch) / record.id
                job = engine.restore_job(record.store, RestoreOptions(to=out), set_id=record.id)
                ok = job.run().value.startswith("succeeded") and sqlite_rows_ok(out / f"{record.store}.db")[0]
                if not ok:
                    wrong.append(record.id)
    rows.append(Row("sets equal to a state the store was in (SQLite: intact, rows 1..k; databases: a prefix)",
                    f"{len(sets) - len(wrong)} of {len(sets)}", not wrong))

    # 2. every successful restore equals the state of its set
    mismatched = []
    for set_id, destination in soak.restores:
        store = set_id.rsplit("-", 2)[0]  # the set may have been pruned since: its id names its store
        if store in FOLDER_STORES:
            state = soak.restored_states.get(destination)  # read when the restore ended
            if state is None and frozenset(tree_state(destination).items()) not in known_states[store]:
                mismatched.append(str(destination))
            elif state is not None and tree_state(destination) != state:
                mismatched.append(str(destination))
        elif not sqlite_rows_ok(destination / f"{store}.db")[0]:
            mismatched.append(str(destination))
    rows.append(Row("successful restores equal to their set's state, byte for byte",
                    f"{len(soak.restores) - len(mismatched)} of {len(soak.restores)} ({retried} retried after a kill)",
                    not mismatched and bool(soak.restores)))
    rows += database_rows(soak)

    # 3. no set without a succeeded job; no stray set files; no partial files
    jobs = catalog.list_jobs(10**6) + fault_catalog.list_jobs(10**6)
    succeeded_sets = {job.set_id for job in jobs if job.operation == "backup" and job.state.startswith("succeeded")}
    all_sets = sets + fault_sets
    orphan_sets = [record.id for record in all_sets if record.id not in succeeded_sets]
    catalogued_files = {Path(record.path).name for record in all_sets}
    stray = [path for folder in (soak.home / "backups", soak.work / "faults")
             for path in folder.rglob("*.tar.zst") if path.name not in catalogued_files and "hostile" not in path.name
             and "saved" not in path.parts]
    partials = [path for path in soak.work.rglob("*") if ".partial" in path.name and "stores" not in path.parts]
    rows.append(Row("sets without a succeeded backup job", str(len(orphan_sets)), not orphan_sets))
    rows.append(Row("set files on disk that no catalog knows", str(len(stray)), not stray))
    rows.append(Row("partial files left behind", str(len(partials)), not partials))
    for path in partials[:5]:
        print(f"  partial file left: {path}")

    # 4. mutexes: none held or stale now; never two holders at once; different types overlapped
    statuses = engine.registry.status()
    stuck = [status.name for status in statuses if status.state != "free" or status.waiters]
    rows.append(Row("mutexes held, stale or waited for at the end", str(len(stuck)), not stuck))
    type_of = {store: "folder" for store in FOLDER_STORES} | {store: "sqlite" for store in SQLITE_STORES} | \
        DATABASE_STORES
    holds = collections.defaultdict(list)
    for job in jobs:
        for took, gave in job.holds:
            holds[type_of.get(job.store, job.store)].append((took, gave, job.id))
    for store_type, took, gave in world.holds:
        holds[store_type].append((took, gave, "writer"))
    overlaps = 0
    for intervals in holds.values():
        intervals.sort()
        for (_, gave, first), (took, _, second) in zip(intervals, intervals[1:]):
            if took < gave - TOLERANCE:
                overlaps += 1
                print(f"  overlap: {first} held until {gave:.3f}, {second} took at {took:.3f}")
    counted = sum(len(v) for v in holds.values())
    rows.append(Row("two holders of one mutex at the same time", f"{overlaps} (in {counted} holds)", not overlaps))
    crossed = sum(1 for a in holds["folder"] for b in holds["sqlite"] if a[0] < b[1] and b[0] < a[1])
    rows.append(Row("folder and SQLite holds that overlapped in time", str(crossed), crossed > 0))
    if soak.databases.stores:
        others = [hold for kind in ("folder", "sqlite") for hold in holds[kind]]
        for kind in sorted(set(DATABASE_STORES.values())):
            crossed = sum(1 for a in holds[kind] for b in others if a[0] < b[1] and b[0] < a[1])
            rows.append(Row(f"{kind} holds that overlapped a folder or SQLite hold", str(crossed), crossed > 0))

    # 5. killed processes' jobs closed with a message; failures all clear
    closed = [job for job in catalog.list_jobs(10**6) if job.pid in set(soak.killed_pids)]
    phases = collections.Counter(
        ("waiting" if "was waiting" in (job.error or "") else "running" if "was running" in (job.error or "")
         else "queued" if "was queued" in (job.error or "") else job.state) + f" ({job.operation})" for job in closed)
    rows.append(Row("killed processes (their jobs' state when killed)",
                    f"{len(soak.killed_pids)}: " + ", ".join(f"{n} {k}" for k, n in sorted(phases.items())), True))
    timed_out = [job for job in jobs if job.error and "timed out after" in job.error]
    rows.append(Row("jobs that waited past their timeout (each with the holder named)",
                    str(len(timed_out)), all("waiting for mutex" in job.error for job in timed_out)))
    unclear = [job.id for job in jobs if job.error and ("unexpected error" in job.error or "Traceback" in job.error)]
    rows.append(Row("jobs that failed without a clear message", str(len(unclear)), not unclear))
    rows.append(Row("unexpected job failures (not injected)", str(soak.tally["unexpected job failures"]),
                    soak.tally["unexpected job failures"] == 0))

    # 6. faults
    injected = [fault for fault in soak.faults if fault.injected]
    by_kind = collections.Counter(fault.kind for fault in injected)
    unclear_faults = [fault for fault in injected if not fault.clear]
    for kind, number in sorted(by_kind.items()):
        answered = sum(1 for fault in injected if fault.kind == kind and fault.clear)
        rows.append(Row(f"fault: {kind}", f"{answered} of {number} answered clearly", answered == number))
    skipped = collections.Counter(f"{fault.kind}: {fault.detail}" for fault in soak.faults if not fault.injected)
    for text, number in sorted(skipped.items()):
        rows.append(Row(f"not injected: {text}", str(number), True))
    damaged = [f for f in injected if f.kind.startswith("damaged set")]
    rows.append(Row("damaged sets detected by verify", f"{sum(f.clear for f in damaged)} of {len(damaged)}",
                    all(f.clear for f in damaged)))
    escaped = Path("/tmp/strongroom-soak-escape").exists() or any(
        (path / "escape").exists() for path in (soak.work / "faults").glob("restore-*"))
    rows.append(Row("files written outside a restore destination", "1+" if escaped else "0", not escaped))
    del unclear_faults

    # 7. lost data and the catalog itself
    lost = len(wrong) + len(mismatched) + len(bad) + sum(1 for *_, ok, _ in soak.database_restores if not ok)
    rows.append(Row("bytes lost (sets or restores not equal to what the store held)", "0" if not lost else
                    f"{lost} sets/restores", not lost))
    rows.append(Row("catalog PRAGMA integrity_check", catalog.integrity_check(), catalog.integrity_check() == "ok"))
    rows.append(Row("writer errors", str(len(world.errors)), not world.errors))
    rows += soak.hostile.rows(Row)
    for error in world.errors[:5]:
        print(f"  {error}")
    return rows


def database_rows(soak) -> list[Row]:
    """The database stores' rows: every restore held a consistent prefix; no half-loaded database is left."""
    if not soak.databases.stores:
        return [Row("database stores", f"not run: {soak.databases.missing}", True)]
    restores = soak.database_restores
    wrong = [(set_id, problem) for set_id, _, ok, problem in restores if not ok]
    for set_id, problem in wrong[:5]:
        print(f"  restore of {set_id}: {problem}")
    rows = [Row("database restores holding a prefix of the writes, both tables agreeing",
                f"{len(restores) - len(wrong)} of {len(restores)} (rows written: " +
                ", ".join(f"{store} {count}" for store, count in soak.databases.rows.items()) + ")",
                not wrong and bool(restores))]
    left = soak.databases.leftovers()
    for name in left[:5]:
        print(f"  database left on a server: {name}")
    rows.append(Row("half-loaded databases left on the servers (killed restores')", str(len(left)), not left))
    return rows


def print_table(soak, rows: list[Row], seconds: float) -> None:
    tally = soak.tally
    jobs = sum(n for key, n in tally.items() if key.startswith(("thread ", "process ")))
    print(f"\nSoak finished in {seconds:.0f} s: {jobs} jobs, {soak.world.changes} store changes, "
          f"{len(soak.faults)} faults")
    print("\n| jobs | count |\n|---|---|")
    for key, number in sorted(tally.items()):
        print(f"| {key} | {number} |")
    print("\n| check | result | ok |\n|---|---|---|")
    for row in rows:
        print(f"| {row.check} | {row.value} | {'yes' if row.ok else 'NO'} |")
