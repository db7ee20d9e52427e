"""A backup set is complete or absent: how one is committed, and how a commit cut short is finished.

One protocol, in one place:

1. The set and its sidecar are written under partial names beside their final ones
   (archive/writer.py, leftovers.py), then read back and verified.
2. The catalog record is the commit point (``commit_set``): the set exists from that moment.
3. The files get their final names. If that fails, the record is taken back, so the catalog
   never names a set that is not there.

A process killed between 1 and 2 leaves only partial files; one killed between 2 and 3 leaves
a complete set under its partial name. ``finish_interrupted`` settles both, and the files a
prune killed half-way had still to delete (retention/removal.py): every backup calls it on
its target folder before writing, and reading a set whose file is missing calls it on that
set's folder before saying so.
"""

from __future__ import annotations

from pathlib import Path

from .archive import SetWriter
from .archive.manifest import SET_SUFFIX, SIDECAR_SUFFIX
from .catalog import Catalog, SetRecord
from .leftovers import remove_stale_partials
from .retention.removal import finish_deletions


def commit_set(catalog: Catalog, writer: SetWriter, record: SetRecord, *, job_id: str) -> None:
    """Record the verified set that ``writer`` holds under its partial name, then give it its final name."""
    catalog.add_set(record, job_id=job_id)  # the commit point
    try:
        writer.commit()
    except BaseException:
        catalog.remove_set(record.id)
        raise


def finish_interrupted(catalog: Catalog, folder: Path) -> tuple[int, int]:
    """Finish what killed backups and prunes left in ``folder``: (sets completed, files removed).

    A partial set the catalog holds was complete when its process died just before renaming
    it: it and its sidecar get their final names. Every other partial file of an ended process
    of this host goes, and so do the files of sets a killed prune had already forgotten.
    """
    completed = []

    def catalogued(final: Path) -> bool:
        set_path = final if final.name.endswith(SET_SUFFIX) else \
            final.with_name(final.name.removesuffix(SIDECAR_SUFFIX) + SET_SUFFIX)
        if final.exists() or catalog.set_at(str(set_path)) is None:
            return False
        completed.append(final)
        return True

    removed = remove_stale_partials(folder, keep=catalogued, with_folders=True)
    deleted = finish_deletions(catalog, str(folder))
    return sum(1 for path in completed if path.name.endswith(SET_SUFFIX)), len(removed) + deleted
