"""Temporary ("partial") files, named so that the ones a killed process left can be found and removed.

Sets and restored files are written under a temporary name beside their final one and
renamed when complete. A process killed in between cannot remove its temporary file, so
the name says whose it is: ``.<name>.strongroom-<host>-<pid>.partial``. The next job
writing into that folder removes the partial files of processes that have provably
ended on this host; a partial file of a live process, or one from another host sharing
the folder, is never touched.

Databases loaded by a restore get the same treatment on their server: a temporary name
that says whose it is (``temporary_database_name``), so the next restore on that server
drops the ones a killed restore left (``stale_database``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from .identity import Liveness, liveness, this_process

# SQLite may add its side files to a partial database copy's name.
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.strongroom-(?P<host>[^.]+)-(?P<pid>\d+)\.partial(-journal|-wal|-shm)?$")


def _host_label(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", host)[:64] or "host"


_NAME_MAX = 255


def partial_name(path: Path) -> Path:
    """This process's temporary name for ``path``."""
    return path.with_name(temporary_name_for(path.name))


def temporary_name_for(name: str) -> str:
    """This process's temporary name beside a file called ``name``; never longer than NAME_MAX.

    A name too long to carry inside it is replaced by a digest of itself (such a partial
    file is only ever removed, never completed, so nothing needs to read the name back).
    """
    me = this_process()
    tag = f".strongroom-{_host_label(me.host)}-{me.pid}.partial"
    full = f".{name}{tag}"
    if len(full.encode("utf-8", "surrogateescape")) <= _NAME_MAX:
        return full
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f".{digest}{tag}"


def split_partial(path: Path) -> tuple[str, str] | None:
    """(final name, "strongroom-HOST-PID.partial" tag) of a partial file's name, or None."""
    match = _PARTIAL.match(path.name)
    if match is None or match.group(4):
        return None
    return match["name"], path.name[len(match["name"]) + 2:]


def remove_stale_partials(folder: Path | int, keep: Callable[[Path], bool] = lambda final: False, *,
                          with_folders: bool = False) -> list[Path]:
    """Remove the partial files in ``folder`` left by ended processes of this host; return them.

    With ``with_folders`` (a target folder, Strongroom's own) partial folders go too: the
    scratch space of a database dump or load whose process was killed.

    ``folder`` is a path or an open folder's descriptor (a restore reaches its folders
    only through descriptors). A partial file whose final path ``keep(final)`` claims is
    not removed but renamed to that final path: it was complete, and its owner died just
    before renaming it (only for a folder given by path).
    """
    me = this_process()
    label = _host_label(me.host)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _PARTIAL.match(name)
        if match is None or match["host"] != label or int(match["pid"]) == me.pid:
            continue
        if liveness(me.host, int(match["pid"]), None, None) is not Liveness.DEAD:
            continue
        at = folder if isinstance(folder, int) else None
        path = Path(name) if at is not None else folder / name
        try:
            if stat.S_ISDIR(os.stat(name if at is not None else path, dir_fd=at, follow_symlinks=False).st_mode):
                if not with_folders or at is not None:
                    continue
                shutil.rmtree(path)
                removed.append(path)
                continue
            if at is None and not match.group(4) and keep(folder / match["name"]):
                os.replace(path, folder / match["name"])
                continue
            os.unlink(name if at is not None else path, dir_fd=at)
        except OSError:
            continue
        removed.append(path)
    return removed


_DATABASE = re.compile(r"_strongroom_(?P<host>[0-9a-f]{8})_(?P<pid>\d+)_[0-9a-f]{4}$")
_DATABASE_PREFIX_BYTES = 28  # + the 33-byte tag stays within PostgreSQL's 63 bytes and MariaDB's 64 characters


def _host_digest(host: str) -> str:
    return hashlib.sha256(host.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def temporary_database_name(name: str) -> str:
    """This process's name for a database it loads before it is given its final name (or dropped).

    ``<name>_strongroom_<host digest>_<pid>_<random>``: the host and pid say whose it is, so
    that one left by a killed restore can be told from one being loaded right now.
    """
    me = this_process()
    prefix = name.encode("utf-8")[:_DATABASE_PREFIX_BYTES].decode("utf-8", "ignore")
    return f"{prefix}_strongroom_{_host_digest(me.host)}_{me.pid}_{secrets.token_hex(2)}"


def stale_database(name: str) -> bool:
    """Whether ``name`` is a temporary database of a process of this host that has provably ended."""
    match = _DATABASE.search(name)
    if match is None:
        return False
    me = this_process()
    if match["host"] != _host_digest(me.host) or int(match["pid"]) == me.pid:
        return False
    return liveness(me.host, int(match["pid"]), None, None) is Liveness.DEAD
