"""Temporary ("partial") files, named so that the ones a killed process left can be found and removed.

Sets and restored files are written under a temporary name beside their final one and
renamed when complete. A process killed in between cannot remove its temporary file, so
the name says whose it is: ``.<name>.strongroom-<host>-<pid>.partial``. The next job
writing into that folder removes the partial files of processes that have provably
ended on this host; a partial file of a live process, or one from another host sharing
the folder, is never touched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from .identity import Liveness, liveness, this_process

# SQLite may add its side files to a partial database copy's name.
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.strongroom-(?P<host>[^.]+)-(?P<pid>\d+)\.partial(-journal|-wal|-shm)?$")


def _host_label(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", host)[:64] or "host"


def partial_name(path: Path) -> Path:
    """This process's temporary name for ``path``."""
    me = this_process()
    return path.with_name(f".{path.name}.strongroom-{_host_label(me.host)}-{me.pid}.partial")


def split_partial(path: Path) -> tuple[str, str] | None:
    """(final name, "strongroom-HOST-PID.partial" tag) of a partial file's name, or None."""
    match = _PARTIAL.match(path.name)
    if match is None or match.group(4):
        return None
    return match["name"], path.name[len(match["name"]) + 2:]


def remove_stale_partials(folder: Path, keep: Callable[[Path], bool] = lambda final: False) -> list[Path]:
    """Remove the partial files in ``folder`` left by ended processes of this host; return them.

    A partial file whose final path ``keep(final)`` claims is not removed but renamed to
    that final path: it was complete, and its owner died just before renaming it.
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
        path = folder / name
        final = folder / match["name"]
        try:
            if not path.is_symlink() and path.is_dir():
                continue
            if not match.group(4) and keep(final):
                os.replace(path, final)
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed
