"""The backup-set format: a tar stream inside zstd, with a manifest for random access.

``zstd -dc SET | tar -x`` restores a set without Strongroom; Strongroom itself reads any
member straight from its frame (see manifest.py) and verifies every byte (verify.py).
"""

from .errors import ArchiveError, DamagedSet, HostileSet, TargetFull
from .manifest import SET_SUFFIX, Entry, SetManifest, parse_manifest, sidecar_path
from .member_paths import ROOT, display_path
from .reader import Expected, NotTheSetWritten, SetReader
from .verify import VerifyReport, verify_set
from .writer import IN_MEMORY, PRIVATE, SHARED_WITH_GROUP, SetPermissions, SetWriter, SourceError, fsync_directory, target_error, temporary_name

__all__ = [
    "IN_MEMORY",
    "PRIVATE",
    "SHARED_WITH_GROUP",
    "SetPermissions",
    "ROOT",
    "SET_SUFFIX",
    "NotTheSetWritten",
    "ArchiveError",
    "DamagedSet",
    "Entry",
    "Expected",
    "HostileSet",
    "SetManifest",
    "SetReader",
    "SetWriter",
    "SourceError",
    "TargetFull",
    "VerifyReport",
    "display_path",
    "fsync_directory",
    "parse_manifest",
    "sidecar_path",
    "target_error",
    "temporary_name",
    "verify_set",
]
