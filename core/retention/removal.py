"""Removing sets so that a crash at any point leaves the catalog and the target consistent.

A set being read (a restore, a verify: they hold a shared lock on its file) is left for
the next prune. The others are locked alone, then the catalog forgets them and notes
their files as pending deletions in one transaction: that is the commit point. Only then are the files deleted, each pending row
going once its file is gone. A process killed in between leaves rows, never a record
pointing at a missing file; the next prune, or the next backup into that folder, deletes
what the rows name (``finish_deletions``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from ..archive.manifest import sidecar_path
from ..catalog import Catalog, SetRecord


def files_of(record: SetRecord) -> list[str]:
    return [record.path, str(sidecar_path(Path(record.path)))]


def remove_sets(catalog: Catalog, records: list[SetRecord],
                log: Callable[[str], None] = lambda line: None) -> tuple[int, list[SetRecord]]:
    """Forget ``records`` and delete their files: (bytes freed, the sets left alone because a restore or
    verify is reading them now). Each set file is locked alone first, and held so until it is deleted."""
    held: dict[str, int] = {}
    try:
        busy_ids = set()
        for record in records:
            fd = _lock_alone(record.path)
            if fd is False:
                busy_ids.add(record.id)
            elif fd is not None:
                held[record.id] = fd
        # a set being read needs its chain: its parents among these stay too
        by_id = {record.id: record for record in records}
        for record_id in list(busy_ids):
            record = by_id[record_id]
            while record.kind == "incremental" and record.parent in by_id:
                record = by_id[record.parent]
                busy_ids.add(record.id)
        busy = [record for record in records if record.id in busy_ids]
        chosen = [record for record in records if record.id not in busy_ids]
        if not chosen:
            return 0, busy
        files = {record.id: files_of(record) for record in chosen}
        freed = 0
        for paths in files.values():
            for path in paths:
                try:
                    freed += os.lstat(path).st_size
                except OSError:
                    pass
        catalog.remove_sets(chosen, files)  # the commit point
        finish_deletions(catalog, log=log, only=[path for paths in files.values() for path in paths])
        return freed, busy
    finally:
        for fd in held.values():
            os.close(fd)


def _lock_alone(path: str) -> int | None | bool:
    """An exclusive lock on a set file (its descriptor); False when others hold it (it is being read);
    None when there is no file to lock (it goes all the same)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    except OSError:
        pass  # no flock here: nothing to learn
    return fd


def finish_deletions(catalog: Catalog, folder: str | None = None, *, log: Callable[[str], None] = lambda line: None,
                     only: list[str] | None = None) -> int:
    """Delete the files of removed sets still pending (in ``folder``, or those in ``only``); how many went."""
    pending = catalog.pending_deletions(folder)
    if only is not None:
        wanted = set(only)
        pending = [path for path in pending if path in wanted]
    done = 0
    for path in pending:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            log(f"could not delete {path} ({error.strerror}); it is deleted at the next prune or backup there")
            continue
        catalog.deletion_done(path)
        done += 1
    return done
