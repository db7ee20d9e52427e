"""``backup --dry-run``: what a backup of a store would store, keep from its parent, and leave out (by rule).

It walks the store as the backup would, with the same exclude rules and, for an
incremental, the same comparison with the latest set, but reads no file and writes
nothing. Each item is handed to ``emit`` as it is met, so a million files need no list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..archive import ROOT, ArchiveError
from ..catalog import CatalogError
from ..stores import driver_for
from ..stores.excludes import Excluder
from ..stores.folder import unchanged_since
from ..stores.folder_walk import walk
from .backup import BackupOptions

if TYPE_CHECKING:
    from .services import JobServices

Emit = Callable[[str, str, str], None]  # (what: store | unchanged | exclude | warning, path, why)


def dry_run(engine: JobServices, store_name: str, options: BackupOptions, emit: Emit) -> dict[str, int]:
    """Walk the store and emit each item; return the counts of each kind."""
    store = engine.store(store_name)
    driver = driver_for(store.type)
    path = driver.check_path(store.path)
    counts = {"store": 0, "unchanged": 0, "exclude": 0, "warning": 0}

    def say(what: str, item: str, why: str = "") -> None:
        counts[what] += 1
        emit(what, item, why)

    if not driver.excludes:
        say("store", str(path), f"a {store.type} store is backed up whole")
        return counts
    rules = engine.store_excludes(store_name).merged(options.excludes)
    excluder = Excluder(rules.checked(), lambda item, rule: say("exclude", item, rule)) if rules else None
    cursor = None
    if options.incremental:
        try:
            cursor = engine.load_manifest(engine.catalog.latest_set(store_name)).entries.cursor()
        except (CatalogError, ArchiveError) as error:
            say("warning", store_name, f"no parent set ({error}): a full set would be taken")
    for item in walk(path, lambda message: say("warning", message), excluder):
        if item.path == ROOT:
            continue
        previous = cursor.get(item.path) if cursor is not None and item.kind == "file" else None
        if previous is not None and unchanged_since(item.status, previous):
            say("unchanged", item.path)
        else:
            say("store", item.path)
    return counts
