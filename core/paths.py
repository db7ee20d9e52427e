"""Where Strongroom keeps its files.

With a home folder (``--home DIR`` or ``STRONGROOM_HOME``) everything Strongroom writes
goes under it: catalog, settings, default backup target, lock directory and logs.
Without one, platformdirs decides per platform, so a new user's first run needs no
configuration. The lock directory can be set on its own (``--lock-dir`` or
``STRONGROOM_LOCK_DIR``) so that several administrators on one host can share it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .invalid_value import InvalidValue
from .mutex.lockdir import SCOPES, LockDirectory, Scope

APP = "strongroom"


@dataclass(frozen=True)
class StrongroomPaths:
    """Every place Strongroom reads or writes."""

    data_dir: Path
    config_dir: Path
    log_dir: Path
    lock_dir: Path
    lock_scope: Scope

    @property
    def catalog(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def default_target(self) -> Path:
        return self.data_dir / "backups"

    @property
    def settings(self) -> Path:
        return self.config_dir / "settings.json"

    def lock_directory(self) -> LockDirectory:
        return LockDirectory(self.lock_dir, self.lock_scope)


def _default_lock_dir(scope: Scope) -> Path:
    if scope == "machine":
        if sys.platform.startswith("linux"):
            return Path(platformdirs.site_runtime_dir(APP))
        return Path(platformdirs.site_data_dir(APP)) / "locks"
    # The user runtime dir is private and emptied at boot: right for locks. Without
    # XDG_RUNTIME_DIR, platformdirs would fall back to a guessable /tmp path, so use
    # the private state dir instead.
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        return Path(platformdirs.user_state_dir(APP)) / "locks"
    return Path(platformdirs.user_runtime_dir(APP))


def resolve_paths(home: str | os.PathLike[str] | None = None, *, lock_dir: str | os.PathLike[str] | None = None,
                  lock_scope: str | None = None, environ: Mapping[str, str] = os.environ) -> StrongroomPaths:
    """Decide every path from the arguments, then the environment, then platformdirs."""
    home = home or environ.get("STRONGROOM_HOME") or None
    scope = lock_scope or environ.get("STRONGROOM_LOCK_SCOPE") or "user"
    if scope not in SCOPES:
        raise InvalidValue(f"unknown lock scope {scope!r}; use one of: {', '.join(SCOPES)}")
    lock_dir = lock_dir or environ.get("STRONGROOM_LOCK_DIR") or None
    if home is not None:
        base = Path(home).expanduser().absolute()
        return StrongroomPaths(
            data_dir=base, config_dir=base, log_dir=base / "logs",
            lock_dir=Path(lock_dir).absolute() if lock_dir else base / "locks", lock_scope=scope,
        )
    return StrongroomPaths(
        data_dir=Path(platformdirs.user_data_dir(APP)),
        config_dir=Path(platformdirs.user_config_dir(APP)),
        log_dir=Path(platformdirs.user_log_dir(APP)),
        lock_dir=Path(lock_dir).absolute() if lock_dir else _default_lock_dir(scope),
        lock_scope=scope,
    )
