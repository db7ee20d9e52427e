"""The soak's fault thread: full and read-only targets, damaged sets and hostile sets, one after another.

Faults run against the file stores (folder and SQLite) in a catalog of their own
(``soak.fault_home``), sharing the soak's lock folder; damaged sets are the soak's own,
damaged in place and put back. Each fault is recorded with whether it got a clear answer.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from soak_faults import (CLI, DAMAGE, HOSTILE, Fault, damaged_set, file_size_limit, hostile_set, mount_tmpfs,
                         read_only_target, tiny_filesystem)
from soak_world import FOLDER_STORES, SQLITE_STORES

from strongroom.core.archive import ArchiveError
from strongroom.core.archive.reader import open_for_reading

FILE_STORES = FOLDER_STORES + SQLITE_STORES  # damaged and fault-injected sets come from these
WAIT = "300"  # seconds a job may wait for its mutex


def fault_worker(soak) -> None:
    """The soak's fault thread: target limits, read-only targets, damaged and hostile sets, in turn."""
    rng = random.Random(soak.seed + 7)
    folder = soak.work / "faults"
    tiny, read_only = folder / "tiny", folder / "read-only"
    tiny_problem = mount_tmpfs(tiny, "1m")
    ro_problem = mount_tmpfs(read_only, "64m")
    kinds = ["file-size limit", "tiny", "read-only before", "read-only during", *DAMAGE, *HOSTILE]
    turn = 0
    try:
        while time.monotonic() < soak.deadline:
            kind = kinds[turn % len(kinds)]
            turn += 1
            try:
                _inject(soak, kind, rng, folder, tiny, read_only, tiny_problem, ro_problem)
            except Exception as error:  # a broken fault is a soak bug: show it, go on
                soak.count("fault harness errors")
                print(f"  fault {kind}: {error!r}", file=sys.stderr)
            time.sleep(rng.uniform(0.5, 2.0))  # spacing between faults, not synchronisation
    finally:
        for point, problem in ((tiny, tiny_problem), (read_only, ro_problem)):
            if not problem:
                _final_sweep_target(soak, point)
                soak.mounted.append(point)  # unmounted after the final checks, which read its sets


def _inject(soak, kind, rng, folder, tiny, read_only, tiny_problem, ro_problem) -> None:
    store = rng.choice(FOLDER_STORES)  # the folder stores are the larger ones: they reach the limits
    if kind == "file-size limit":
        _note(soak, file_size_limit(soak.fault_home, soak.lock_dir, folder / "fsize", store))
    elif kind == "tiny":
        _note(soak, tiny_filesystem(soak.fault_home, soak.lock_dir, tiny, store) if not tiny_problem
              else Fault("target full (1 MiB file system)", True, tiny_problem, injected=False))
    elif kind.startswith("read-only"):
        delay = 0 if kind.endswith("before") else rng.uniform(0.05, 0.6)
        _note(soak, read_only_target(soak.fault_home, soak.lock_dir, read_only, store, delay) if not ro_problem
              else Fault("target turned read-only", True, ro_problem, injected=False))
    elif kind in DAMAGE:
        _damage(soak, kind, rng, folder)
    else:
        for fault in hostile_set(soak.fault_home, soak.lock_dir, folder, kind, next(soak.numbers)):
            _note(soak, fault)


def _damage(soak, kind: str, rng, folder: Path) -> None:
    sets = soak.engine.catalog.list_sets()
    parents = {record.parent for record in sets if record.parent}
    with soak.lock:
        # Only a set no other set builds on, and no incremental backup of its store meanwhile.
        candidates = [s for s in sets if s.id not in parents and s.store not in soak.busy_stores
                      and s.store in FILE_STORES and not soak.in_use[s.id] and not soak.incrementals[s.store]]
        if not candidates:
            return
        record = rng.choice(candidates)
        soak.busy_sets.add(record.id)
        soak.busy_stores.add(record.store)
    try:
        # A shared lock on the set, as a restore takes: a prune leaves the set alone meanwhile.
        with open_for_reading(Path(record.path)):
            faults = damaged_set(soak.home, soak.lock_dir, record, kind, soak.scratch("damaged"), rng)
        for fault in faults:
            if fault is not None:
                _note(soak, fault)
    except ArchiveError:  # pruned after it was chosen
        soak.count("damage skipped: set pruned meanwhile")
    finally:
        with soak.lock:
            soak.busy_sets.discard(record.id)
            soak.busy_stores.discard(record.store)


def _note(soak, fault: Fault) -> None:
    with soak.lock:
        soak.faults.append(fault)
    if not fault.clear:
        print(f"  fault without a clear answer: {fault.kind}: {fault.detail}", file=sys.stderr)


def _final_sweep_target(soak, target: Path) -> None:
    """A last backup into a fault target: it removes partial files that killed or failed runs left."""
    subprocess.run([*CLI, "--home", str(soak.fault_home), "--lock-dir", str(soak.lock_dir), "backup",
                    "crm", "--target", str(target), "--wait", WAIT], capture_output=True, timeout=600)
