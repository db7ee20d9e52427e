"""The engine: one object that ties paths, catalog, mutexes and store drivers together.

The CLI and the console both create one Engine and ask it for stores, sets and jobs;
nothing else in them knows where files live or how a set is read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .archive import ArchiveError, Expected, SetManifest, SetReader, sidecar_path
from .catalog import Catalog, CatalogError, SetRecord, Store
from .identity import Liveness, liveness
from .jobs import BackupJob, BackupOptions, RestoreJob, VerifyJob
from .jobs.job import DEFAULT_MUTEX_TIMEOUT
from .mutex import MutexRegistry
from .paths import StrongroomPaths
from .restore import RestoreOptions
from .set_commit import finish_interrupted
from .settings import Settings, load_settings
from .stores import StoreError, driver_for
from .retention.policy import RetentionPolicy
from .stores.excludes import ExcludeRules


def expected_of(record: SetRecord) -> Expected:
    """What a set must be when read back: the catalog's record of it."""
    return Expected(record.id, record.stored_bytes, record.manifest_sha256)


class Engine:
    def __init__(self, paths: StrongroomPaths, registry: MutexRegistry | None = None,
                 settings: Settings | None = None) -> None:
        self.paths = paths
        if settings is None:
            loaded = load_settings(paths.settings)
            settings, self.settings_problem = loaded.settings, loaded.problem
        else:
            self.settings_problem = ""
        self.settings = settings
        self.catalog = Catalog(paths.catalog)
        self.orphaned_jobs = self.catalog.close_orphaned_jobs(
            lambda job: liveness(job.host or "", job.pid or 0, job.process_start, None) is Liveness.DEAD)
        self.registry = registry or MutexRegistry.for_directory(paths.lock_directory())

    @property
    def default_target(self) -> Path:
        """Where sets go unless a job says otherwise: the settings' folder, else the data folder's."""
        return self.settings.target(self.paths.default_target)

    def default_backup_options(self, **changes) -> BackupOptions:
        """Backup options as the settings have them (compression level, verify), with ``changes``."""
        values = {"level": self.settings.compression_level, "verify": self.settings.verify_after_backup}
        values.update(changes)
        return BackupOptions(**values)

    # -- stores ---------------------------------------------------------------------------

    def add_store(self, name: str, store_type: str, path: str) -> Store:
        """Register a store after checking that ``path`` really is one of ``store_type``."""
        absolute = driver_for(store_type).check_path(path)
        return self.catalog.add_store(name, store_type, str(absolute))

    def update_store(self, name: str, path: str) -> Store:
        """Point a store at a new path, after checking it is still one of the store's type."""
        store = self.store(name)
        absolute = driver_for(store.type).check_path(path)
        return self.catalog.update_store(name, str(absolute))

    def store(self, name: str) -> Store:
        return self.catalog.get_store(name)

    def store_excludes(self, name: str) -> ExcludeRules:
        """What backups of a store leave out, as saved with the store."""
        saved = self.catalog.store_excludes(name)
        return ExcludeRules() if saved is None else ExcludeRules.from_document(saved, f"store {name}")

    def store_retention(self, name: str) -> RetentionPolicy:
        """Which sets of a store made by hand prune keeps (RetentionError when the saved policy is damaged)."""
        saved = self.catalog.store_retention(name)
        return RetentionPolicy() if saved is None else RetentionPolicy.from_document(saved, f"store {name}")

    def set_store_retention(self, name: str, policy: RetentionPolicy) -> None:
        self.catalog.set_store_retention(name, policy.checked().document() if policy else None)

    def set_store_excludes(self, name: str, rules: ExcludeRules) -> None:
        store = self.store(name)
        if rules and not driver_for(store.type).excludes:
            raise StoreError(f"{store.type} stores are backed up whole: exclude rules apply to folder stores only")
        self.catalog.set_store_excludes(name, rules.checked().document() if rules else None)

    # -- sets -----------------------------------------------------------------------------

    def open_set(self, set_id: str, manifest: SetManifest | None = None) -> SetReader:
        """Open a catalogued set, checked against its record; pass its manifest when already loaded, to skip
        parsing it again."""
        record = self.catalog.get_set(set_id)
        own = manifest if manifest is not None and manifest.set_id == set_id else None
        return SetReader(Path(record.path), own, expected=expected_of(record))

    def load_manifest(self, record: SetRecord) -> SetManifest:
        """A set's manifest (from its sidecar when intact, else from inside the set)."""
        path = Path(record.path)
        if not path.exists():
            finish_interrupted(self.catalog, path.parent)  # its backup may have died just before renaming it
        if not path.exists():
            raise ArchiveError(f"the file of set {record.id} is missing ({path}): it was moved or deleted")
        with SetReader(path, expected=expected_of(record)) as reader:
            manifest = reader.manifest
        if manifest.set_id != record.id:
            raise ArchiveError(f"{path} holds set {manifest.set_id}, not {record.id}: the file was replaced")
        return manifest

    def manifest_for(self, set_id_or_file: str) -> SetManifest:
        """The manifest of a catalogued set, or of a set file given by path."""
        try:
            return self.load_manifest(self.catalog.get_set(set_id_or_file))
        except CatalogError:
            path = Path(set_id_or_file)
            if not path.is_file() and not sidecar_path(path).is_file():
                raise
        with SetReader(path) as reader:
            return reader.manifest

    # -- jobs -----------------------------------------------------------------------------

    def backup_job(self, store_name: str, options: BackupOptions = BackupOptions(), *,
                   mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT, plan: str | None = None) -> BackupJob:
        return BackupJob(self, self.store(store_name), options, mutex_timeout=mutex_timeout, plan=plan)

    def restore_job(self, store_name: str, options: RestoreOptions = RestoreOptions(), *, set_id: str = "latest",
                    mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT) -> RestoreJob:
        return RestoreJob(self, self.restorable_store(store_name), options, set_id=set_id,
                          mutex_timeout=mutex_timeout)

    def untrusted_restore_job(self, set_file: Path, options: RestoreOptions, *,
                              mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT) -> RestoreJob:
        """Restore a set file this catalog does not know, as untrusted (the administrator asked for it)."""
        if self.catalog.set_at(str(set_file.absolute())) is not None:
            raise ArchiveError(f"{set_file} is a set of this catalog: restore it by its store and id, as trusted")
        with SetReader(set_file) as reader:
            manifest = reader.manifest
        store = Store(manifest.store, manifest.store_type, manifest.source, manifest.created)
        return RestoreJob(self, store, replace(options, untrusted=True), mutex_timeout=mutex_timeout,
                          untrusted_file=set_file.absolute())

    def restorable_store(self, name: str) -> Store:
        """A registered store, or — for a removed one — what its latest set says it was."""
        try:
            return self.store(name)
        except CatalogError:
            sets = self.catalog.list_sets(name)
            if not sets:
                raise
        manifest = self.load_manifest(sets[-1])
        return Store(name, manifest.store_type, manifest.source, manifest.created)

    def verify_job(self, set_id_or_file: str, *, untrusted: bool = False, deep: str | None = None) -> VerifyJob:
        return VerifyJob(self, set_id_or_file, untrusted=untrusted, deep=deep)
