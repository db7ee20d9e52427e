"""What the catalog stores: stores, backup sets and jobs, as plain records."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

STORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CatalogError(Exception):
    """A catalog that cannot be opened, or a name or id it does not know."""


def check_store_name(name: str) -> str:
    if not isinstance(name, str) or not STORE_NAME.fullmatch(name):
        raise CatalogError(f"{name!r} is not a valid store name: use 1-64 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return name


@dataclass(frozen=True)
class Store:
    name: str
    type: str
    path: str
    created: str

    def public_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SetRecord:
    """A complete backup set (the catalog never holds an incomplete one)."""

    id: str
    store: str
    store_type: str
    kind: str
    parent: str | None
    created: str
    path: str
    files: int
    bytes: int
    stored_bytes: int
    manifest_sha256: str
    verified: str | None = None
    store_bytes: int | None = None  # the store's size at this point in time; None in sets recorded before it
    damaged: str | None = None  # why its last verify failed (None: not known to be damaged)

    @property
    def taken(self) -> datetime:
        """When the set was taken, as an aware UTC time (``created`` is stored as ISO text)."""
        return datetime.fromisoformat(self.created.replace("Z", "+00:00"))

    @property
    def size_of_store(self) -> int:
        return self.store_bytes if self.store_bytes is not None else self.bytes

    def public_dict(self) -> dict:
        return {key: getattr(self, key) for key in ("id", "store", "store_type", "kind", "parent", "created",
                                                    "path", "files", "bytes", "stored_bytes", "verified",
                                                    "store_bytes", "damaged")}


@dataclass
class JobRecord:
    """One job's history row; updated as the job moves through its states."""

    id: str
    operation: str
    store: str
    state: str
    created: str
    started: str | None = None
    finished: str | None = None
    bytes: int = 0
    files: int = 0
    set_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    log: list[str] = field(default_factory=list)
    host: str | None = None  # the process that ran it
    pid: int | None = None
    process_start: str | None = None
    holds: list[list[float]] = field(default_factory=list)  # [took, gave back] its store type's mutex, Unix times
    plan: str | None = None  # the plan that started it (None: started by hand)
    excluded: dict[str, list[int]] = field(default_factory=dict)  # rule -> [items, bytes] a backup left out

    def public_dict(self) -> dict:
        return asdict(self)
