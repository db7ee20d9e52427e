"""What a job may ask of the engine that made it, and nothing more.

The Engine makes jobs, so the jobs must not depend on the Engine: they are given an object
with these members (the Engine is one, by its shape) and use only them. A job process builds
one of the same class as its parent's (job_process.py), without this package importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..archive import SetManifest, SetReader
    from ..catalog import Catalog, SetRecord, Store
    from ..mutex import MutexRegistry
    from ..paths import StrongroomPaths
    from ..settings import Settings
    from ..stores.excludes import ExcludeRules


class JobServices(Protocol):
    """Made as ``type(services)(paths, registry=..., settings=...)`` in a job process."""

    paths: StrongroomPaths
    settings: Settings
    catalog: Catalog
    registry: MutexRegistry

    @property
    def default_target(self) -> Path:
        """Where sets go unless a job says otherwise."""

    def store(self, name: str) -> Store:
        """A registered store, or CatalogError naming it."""

    def store_excludes(self, name: str) -> ExcludeRules:
        """A folder store's own exclusion rules."""

    def load_manifest(self, record: SetRecord) -> SetManifest:
        """A catalogued set's manifest, checked against its record."""

    def open_set(self, set_id: str, manifest: SetManifest | None = None) -> SetReader:
        """A catalogued set opened for reading, checked against its record."""
