"""The restore job: bring a point in time of a store back, where and how the administrator chose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..archive import SetManifest, SetReader
from ..archive.page_delta import SetAccess
from ..catalog import Store
from ..restore import RestoreOptions, RestorePlan, apply_plan, build_plan
from ..restore.apply import RestoreHooks
from ..restore.plan import KEEP
from ..stores import StoreError, driver_for
from ..stores.database_driver import DatabaseDriver, DumpContents
from .job import DEFAULT_MUTEX_TIMEOUT, Job, JobCallbacks
from ..units import counted
from ..remedies import Remedy, with_fix

if TYPE_CHECKING:
    from .services import JobServices


class _Hooks(JobCallbacks, RestoreHooks):
    """The restore's progress and cancel checks, bound to the job."""


class _CatalogSets:
    """The catalogued sets a point in time is made of, each read back checked against its record."""

    def __init__(self, engine: JobServices, latest: SetManifest) -> None:
        self._engine = engine
        self._manifests = {latest.set_id: latest}

    def open(self, set_id: str) -> SetReader:
        return self._engine.open_set(set_id, self._manifests.get(set_id))

    def manifest(self, set_id: str) -> SetManifest:
        if set_id not in self._manifests:
            self._manifests[set_id] = self._engine.load_manifest(self._engine.catalog.get_set(set_id))
        return self._manifests[set_id]


class _FileSet:
    """One set file from elsewhere, full: nothing else can be reached from it."""

    def __init__(self, path: Path, manifest: SetManifest) -> None:
        self._path = path
        self._manifest = manifest

    def open(self, set_id: str) -> SetReader:
        return SetReader(self._path, self._manifest)

    def manifest(self, set_id: str) -> SetManifest:
        if set_id != self._manifest.set_id:
            raise StoreError(f"{self._path} relies on set {set_id}, which is not in this catalog")
        return self._manifest


class RestoreJob(Job):
    operation = "restore"

    def __init__(self, engine: JobServices, store: Store, options: RestoreOptions = RestoreOptions(), *,
                 set_id: str = "latest", mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT,
                 untrusted_file: Path | None = None) -> None:
        """Restore a catalogued set of ``store``; or, with ``untrusted_file``, a set file this catalog does
        not know (``options.untrusted`` must say the administrator asked for it)."""
        super().__init__(engine, store.name, store.type, mutex_timeout=mutex_timeout)
        self.store = store
        self.options = options
        self.requested_set = set_id
        self.untrusted_file = untrusted_file
        self.plan: RestorePlan | None = None

    def _catalogued(self) -> tuple[SetManifest, SetAccess]:
        catalog = self.engine.catalog
        record = catalog.latest_set(self.store.name) if self.requested_set == "latest" else \
            catalog.get_set(self.requested_set)
        if record.store != self.store.name:
            raise with_fix(StoreError(f"set {record.id} belongs to store {record.store!r}, not {self.store.name!r}"),
                           Remedy.RESTORE_FROM_ITS_STORE, store=record.store, set=record.id)
        self._check_not_damaged(record)
        manifest = self.engine.load_manifest(record)
        return manifest, _CatalogSets(self.engine, manifest)

    def _check_not_damaged(self, record) -> None:
        """Refuse a set whose last verify failed, or that stands on one, unless the options allow it."""
        damaged = self.engine.catalog.damaged_in_chain(record)
        if damaged is None:
            return
        which = f"set {record.id}" if damaged.id == record.id else f"set {record.id} stands on set {damaged.id}, which"
        if self.options.allow_damaged:
            self.warn(f"{which} failed its last verify ({damaged.damaged}); restoring it anyway, as asked: "
                      "check what comes back")
            return
        raise with_fix(StoreError(f"{which} failed its last verify ({damaged.damaged})"), Remedy.ALLOW_DAMAGED,
                       set=damaged.id)

    def _untrusted(self, path: Path) -> tuple[SetManifest, SetAccess]:
        with SetReader(path) as reader:
            manifest = reader.manifest
        if manifest.kind != "full":
            raise StoreError(f"{path} is an incremental set whose parents are not in this catalog: restore a full "
                             "set from elsewhere, or back up and restore with the catalog that made it")
        self.warn(f"{path} is not a set of this catalog: restored as untrusted — no set-id or sticky bits, nothing "
                  "world-writable, every item owned by the restoring user, only user.* extended attributes")
        return manifest, _FileSet(path, manifest)

    def _execute(self) -> None:
        self._running()  # reading the set and planning; the store's mutex is taken only to write
        manifest, sets = (self._untrusted(self.untrusted_file) if self.untrusted_file is not None
                          else self._catalogued())
        self.set_id = manifest.set_id
        record_id = manifest.set_id
        driver = driver_for(self.store.type)
        if isinstance(driver, DatabaseDriver):
            self._restore_database(driver, manifest, sets)
            return
        if self.options.to_database is not None:
            raise StoreError(f"{self.store.name} is a {self.store.type} store, not a database: restore it into a "
                             "folder, not into a database")
        plan = build_plan(manifest, driver, Path(self.store.path), self.options)
        self.plan = plan
        self.log(f"restoring set {record_id} into {plan.root}: {plan.count('create')} to create, "
                 f"{plan.count('replace')} to replace, {plan.count(KEEP)} kept")
        if self.options.dry_run:
            for line in plan.lines():
                self.log(line)
            return
        self.meter.set_totals(plan.count("create", "file") + plan.count("replace", "file"), plan.bytes_to_write)
        with self.hold_store():
            result = apply_plan(plan, driver, sets, _Hooks(self))
        if result.leftovers_removed:
            self.log(f"removed {counted(result.leftovers_removed, 'partial file')} left in {plan.root} by restores that "
                     "were interrupted")
        for warning in result.warnings:
            self.warn(warning)
        if result.kept:
            self.warn(f"{counted(result.kept, 'existing item')} in {plan.root} {'was' if result.kept == 1 else 'were'} kept as is (overwrite policy "
                      f"{self.options.overwrite}): restore again with the overwrite policy if-older or always to replace them")
        self.log(f"restored {counted(result.files_written, 'file')} ({counted(result.bytes_written, 'byte')}), "
                 f"{counted(result.links_written, 'symbolic link')}, {counted(result.hard_links_written, 'hard link')}, "
                 f"{counted(result.fifos_written, 'FIFO')} and {counted(result.folders_created, 'folder')} into "
                 f"{plan.root}")

    def _restore_database(self, driver: DatabaseDriver, manifest: SetManifest, sets: SetAccess) -> None:
        """Load a database set into the store's server: into a new database, or replacing one if allowed."""
        if self.options.untrusted:
            raise StoreError("a database set from elsewhere cannot be restored as untrusted: add its server as a "
                             "store and back it up there, or load the dump by hand")
        if self.options.to is not None or self.options.paths:
            raise StoreError(f"{self.store.name} is a {self.store.type} store: it is restored into a database "
                             "(the store's own or a new one), not into a folder or by paths")
        location = driver.location(self.store.path)
        name = self.options.to_database or location.database
        self.log(f"restoring set {manifest.set_id} into the database {name} on {location.server} (overwrite "
                 f"{self.options.overwrite})")
        if self.options.dry_run:
            self.log(f"dry run: set {manifest.set_id} would be loaded into {name}; nothing was written")
            return
        self.meter.set_totals(manifest.files, manifest.bytes)
        hooks = _Hooks(self)
        with sets.open(manifest.set_id) as reader, self.hold_store():
            restored = driver.restore_database(location, DumpContents(reader, manifest), self.options.to_database,
                                               self.options.overwrite, hooks, self.log)
        self.log(f"restored the database {restored} on {location.server} from set {manifest.set_id}")
