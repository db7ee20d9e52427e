"""The backup job: copy one store into a new set, verify it, then record it in the catalog.

The set only enters the catalog once it is complete and (by default) verified; a
failure or cancel at any point removes the set file and its sidecar.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..archive import PRIVATE, SHARED_WITH_GROUP, ArchiveError, Entry, Expected, SetManifest, SetWriter
from ..archive.readback import read_back
from ..archive.manifest import SetInfo
from ..catalog import CatalogError, SetRecord, Store, now_text
from ..invalid_value import InvalidValue
from ..set_commit import commit_set, finish_interrupted
from ..stores import driver_for
from ..stores.excludes import Excluder, ExcludeRules
from .job import DEFAULT_MUTEX_TIMEOUT, Job, JobCallbacks, new_id
from ..units import counted

if TYPE_CHECKING:
    from .services import JobServices


@dataclass(frozen=True)
class BackupOptions:
    incremental: bool = False
    target: Path | None = None
    verify: bool = True
    level: int = 3
    threads: int = 0  # 0: one per CPU
    excludes: ExcludeRules = ExcludeRules()  # besides the store's own rules

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 22:
            raise InvalidValue(f"compression level {self.level} is out of range: use 1 (fastest) to 22 (smallest)")


def _others_can_reach(folder: Path) -> bool:
    """Whether users other than the owner and group can go through every folder down to ``folder``."""
    for place in (folder, *folder.parents):
        try:
            if not os.stat(place).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


class _Session(JobCallbacks):
    """What the store driver sees of the job (see stores.base.SnapshotSession)."""

    def __init__(self, job: BackupJob, writer: SetWriter, parent: SetManifest | None, scratch: Path,
                 excluder: Excluder | None) -> None:
        super().__init__(job)
        self.writer = writer
        self.parent = parent
        self.scratch = scratch
        self.excluder = excluder
        self._parent_cursor = parent.entries.cursor() if parent is not None else None

    def add(self, entry: Entry) -> None:
        """Record an entry; the parent's entries passed over on the way are gone since (a merge of the two)."""
        self.writer.record(entry)
        if self._parent_cursor is not None:
            gone: list[Entry] = []
            self._parent_cursor.get(entry.path, gone)
            for earlier in gone:
                self.writer.record_deleted(earlier.path)

    def finish_deleted(self) -> None:
        if self._parent_cursor is not None:
            for earlier in self._parent_cursor.rest():
                self.writer.record_deleted(earlier.path)

    def warn(self, message: str) -> None:
        self.job.warn(message)

    def log(self, line: str) -> None:
        self.job.log(line)

    def set_totals(self, files: int, size: int) -> None:
        self.job.meter.set_totals(files, size)

    def release_store(self) -> None:
        self.job.release_store()


class BackupJob(Job):
    operation = "backup"

    def __init__(self, engine: JobServices, store: Store, options: BackupOptions = BackupOptions(), *,
                 mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT, plan: str | None = None) -> None:
        super().__init__(engine, store.name, store.type, mutex_timeout=mutex_timeout, plan=plan)
        self.store = store
        self.options = options
        self.target = options.target or engine.default_target

    def _execute(self) -> None:
        driver = driver_for(self.store.type)
        store_path = driver.check_path(self.store.path)
        parent = self._parent() if self.options.incremental and driver.incremental else None
        if self.options.incremental and not driver.incremental:
            self.log(f"{self.store.type} sets are always full")
        set_id = new_id(self.store.name)
        folder = self.target / self.store.name
        set_path = folder / f"{set_id}.tar.zst"
        kind = "incremental" if parent is not None else "full"
        completed, removed = finish_interrupted(self.engine.catalog, folder)
        if completed or removed:
            self.log(f"in {folder}: completed {counted(completed, 'set')} and removed {counted(removed, 'partial file')} left by "
                     "backups that were interrupted")
        self.log(f"writing a {kind} set {set_id} to {set_path}")
        self._warn_if_readable(folder)
        self._write_set(driver, store_path, set_path, set_id, kind, parent)

    def _warn_if_readable(self, folder: Path) -> None:
        """Sets hold every file of their store: say so when other users can reach into an existing target folder."""
        for place in (folder, self.target):
            try:
                mode = os.stat(place).st_mode
            except OSError:
                continue
            if mode & 0o005 and _others_can_reach(place.parent):
                self.warn(f"the target folder {place} can be read by other users (mode {stat.S_IMODE(mode):04o}), "
                          f"and a set holds every file of its store: chmod o-rwx {place} to keep the sets private")
                return

    def _write_set(self, driver, store_path: Path, set_path: Path, set_id: str, kind: str,
                   parent: SetManifest | None) -> None:
        """Write the set under its partial name, verify it, then commit it (core/set_commit.py)."""
        permissions = SHARED_WITH_GROUP if self.engine.paths.lock_scope == "machine" else PRIVATE
        with SetWriter(set_path, set_id=set_id, level=self.options.level, threads=self.options.threads,
                       permissions=permissions, check_cancelled=self.check_cancelled) as writer:
            excluder = self._excluder(driver)
            session = _Session(self, writer, parent, set_path.parent, excluder)
            with self.hold_store():
                driver.snapshot(store_path, session)
            self.check_cancelled()
            if excluder is not None:
                self.excluded = excluder.tally
                self.log(f"left out: {excluder.summary() or 'nothing'} (rules: {excluder.rules.describe()})")
            session.finish_deleted()
            manifest = writer.finish(SetInfo(
                set_id=set_id, store=self.store.name, store_type=self.store.type, kind=kind,
                parent=parent.set_id if parent else None, created=now_text(), source=str(store_path),
                compression_level=self.options.level, notes=tuple(self.warnings)), commit=False)
            del parent, session
            record = SetRecord(
                id=manifest.set_id, store=manifest.store, store_type=manifest.store_type, kind=manifest.kind,
                parent=manifest.parent, created=manifest.created, path=str(set_path), files=manifest.files,
                bytes=manifest.bytes, stored_bytes=writer.temporary.stat().st_size, manifest_sha256=manifest.digest(),
                store_bytes=manifest.store_bytes)
            del manifest
            record = self._verified(writer.temporary, record)
            self.check_cancelled()
            commit_set(self.engine.catalog, writer, record, job_id=self.id)
            self.set_id = self.record.set_id = record.id
        self.log(f"set {record.id} recorded: {counted(record.files, 'file')}, {counted(record.bytes, 'byte')}")

    def _excluder(self, driver) -> Excluder | None:
        rules = self.engine.store_excludes(self.store.name).merged(self.options.excludes)
        if not rules:
            return None
        if not driver.excludes:
            self.warn(f"{self.store.type} stores are backed up whole: the exclude rules ({rules.describe()}) were "
                      "not used")
            return None
        return Excluder(rules.checked())

    def _parent(self) -> SetManifest | None:
        """The latest set's manifest, when every set it relies on is still there."""
        try:
            record = self.engine.catalog.latest_set(self.store.name)
        except CatalogError:
            self.log("no earlier set of this store: taking a full set")
            return None
        try:
            manifest = self.engine.load_manifest(record)
            for holder in self._chain(record):
                if not Path(self.engine.catalog.get_set(holder).path).exists():
                    raise ArchiveError(f"set {holder}, which it relies on, is missing")
        except (ArchiveError, CatalogError) as error:
            self.warn(f"the latest set {record.id} cannot be the parent of an incremental set ({error}); "
                      "a full set was taken instead")
            return None
        return manifest

    def _chain(self, record: SetRecord) -> set[str]:
        """The sets a point in time may read from: its parents, up to a full set (every entry of an
        incremental set is held by the set itself or one of them)."""
        chain = set()
        while record.parent is not None and record.parent not in chain:
            chain.add(record.parent)
            record = self.engine.catalog.get_set(record.parent)
        return chain

    def _verified(self, path: Path, record: SetRecord) -> SetRecord:
        """The record, marked verified once every byte of the set at ``path`` has been read back."""
        if not self.options.verify:
            return record
        self.log("verifying the new set")

        def on_data(size: int, member: str) -> None:
            self.check_cancelled()

        report = read_back(path, Expected(record.id, record.stored_bytes, record.manifest_sha256), on_data)
        if not report.ok:
            raise ArchiveError(f"the new set failed verification and was removed: {report.summary()} — "
                               "check the target's disk")
        return replace(record, verified=now_text())
