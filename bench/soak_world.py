"""The soak's world: stores that keep changing, and a record of every state they were in.

Folder stores are changed by a writer that takes the store type's mutex for each batch
of changes (like an application that coordinates with its backups), so a backup sees one
whole state, and every state is recorded (path -> SHA-256, links as their target). SQLite
stores get rows inserted in transactions; row ``n`` always holds ``payload(n)``, so a copy
is right when it passes ``integrity_check`` and holds exactly rows 1..k. The PostgreSQL and
MariaDB stores get rows in two tables per transaction (bench/soak_databases.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import threading
import time
from pathlib import Path

from strongroom.core.mutex import MutexOwner, MutexRegistry

FOLDER_STORES = ("docs", "projects")
SQLITE_STORES = ("crm", "ledger")


def payload(row: int) -> str:
    return f"row {row} " + "x" * (row % 300)


def tree_state(root: Path) -> dict[str, str]:
    """path -> SHA-256 of a file, or "link:" + target of a link (folders are implied)."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[relative] = "link:" + os.readlink(path)
            else:
                state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def sqlite_rows_ok(path: Path) -> tuple[bool, int, str]:
    """(ok, rows, problem): integrity passes and the rows are exactly 1..k with their payloads."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            check = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                return False, 0, f"integrity_check: {check}"
            rows = connection.execute("SELECT id, body FROM t ORDER BY id").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return False, 0, str(error)
    for expected, (row, body) in enumerate(rows, 1):
        if row != expected or body != payload(row):
            return False, len(rows), f"row {row} is not what was written (expected row {expected})"
    return True, len(rows), ""


class World:
    """Creates the stores under ``root`` and changes them until ``stop`` is set."""

    def __init__(self, root: Path, registry: MutexRegistry, seed: int, databases=None) -> None:
        self.root = root
        self.databases = databases
        self.registry = registry
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.states: dict[str, list[dict[str, str]]] = {}
        self.rows: dict[str, int] = {}
        self.holds: list[tuple[str, float, float]] = []  # the writer's own mutex holds (type, took, gave)
        self.changes = 0
        self.stop = threading.Event()
        self.errors: list[str] = []
        for name in FOLDER_STORES:
            folder = root / "stores" / name
            for number in range(120):
                self._write(folder / f"d{number % 8}" / f"f{number:03d}.txt", number)
            (folder / "d0" / "big.bin").write_bytes(os.urandom(1_500_000))
            os.symlink("d1/f001.txt", folder / "link")
            self.states[name] = [tree_state(folder)]
        for name, mode in zip(SQLITE_STORES, ("wal", "delete")):
            connection = sqlite3.connect(root / "stores" / f"{name}.db")
            connection.execute(f"PRAGMA journal_mode={mode}")
            connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            connection.executemany("INSERT INTO t VALUES (?, ?)", ((n, payload(n)) for n in range(1, 2001)))
            connection.commit()
            connection.close()
            self.rows[name] = 2000

    def path(self, store: str) -> Path:
        return self.root / "stores" / (store if store in FOLDER_STORES else f"{store}.db")

    def _write(self, path: Path, version: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{path.name} version {version}\n" * (1 + version % 50))

    def run(self) -> None:
        while not self.stop.wait(self.random.uniform(0.03, 0.12)):
            try:
                choice = self.random.random()
                if choice < 0.4:
                    self._change_folder(self.random.choice(FOLDER_STORES))
                elif choice < 0.7 or not (self.databases and self.databases.stores):
                    self._insert(self.random.choice(SQLITE_STORES))
                else:
                    self.databases.insert(self.random.choice(self.databases.stores), self.random.randint(1, 40))
                    with self.lock:
                        self.changes += 1
            except Exception as error:  # recorded and reported; the soak goes on
                self.errors.append(f"writer: {error!r}")

    def _change_folder(self, store: str) -> None:
        folder = self.path(store)
        owner = MutexOwner(f"soak-writer-{store}", "hold", store)
        with self.registry.acquire("folder", owner, timeout=120) as hold:
            took = time.time()
            files = sorted(p for p in folder.rglob("*.txt"))
            for _ in range(self.random.randint(1, 5)):
                action = self.random.random()
                if action < 0.6 and files:
                    self._write(self.random.choice(files), self.random.randint(0, 10_000))
                elif action < 0.85:
                    self._write(folder / f"d{self.random.randint(0, 9)}" / f"n{self.random.randint(0, 10**6)}.txt",
                                self.random.randint(0, 10_000))
                elif len(files) > 20:
                    victim = self.random.choice(files)
                    victim.unlink()
                    files.remove(victim)
            state = tree_state(folder)
            with self.lock:
                self.states[store].append(state)
                self.changes += 1
            gave = time.time()
        self.holds.append(("folder", took, gave))
        del hold

    def _insert(self, store: str) -> None:
        connection = sqlite3.connect(self.path(store), timeout=60)
        try:
            with connection:
                start = self.rows[store] + 1
                count = self.random.randint(1, 40)
                connection.executemany("INSERT INTO t VALUES (?, ?)",
                                       ((n, payload(n)) for n in range(start, start + count)))
            self.rows[store] += count
            with self.lock:
                self.changes += 1
        finally:
            connection.close()
