"""The store types Strongroom knows by name.

A store type names a kind of store (a folder tree, a SQLite database, ...). Each type
has its own mutex, so the name is part of every mutex name and lock file name: it is
kept to lower-case ASCII letters, digits, ``_`` and ``-`` so that two different types
can never map to one file, not even on a case-insensitive file system.

The drivers that back up and restore each type register themselves here too (later);
the mutex engine needs only the names.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

TYPE_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class StoreTypeError(ValueError):
    """A store type name that is malformed or not registered."""


@dataclass(frozen=True)
class StoreType:
    """A registered store type: its name and a line that says what it is."""

    name: str
    description: str


_registry: dict[str, StoreType] = {}
_registry_lock = threading.Lock()


def check_type_name(name: str) -> str:
    """Return ``name`` if it is a well-formed store type name, else raise StoreTypeError."""
    if not isinstance(name, str) or not TYPE_NAME_PATTERN.fullmatch(name):
        raise StoreTypeError(
            f"{name!r} is not a valid store type name: use 1-32 lower-case letters, digits, "
            "'_' or '-', starting with a letter"
        )
    return name


def register_store_type(name: str, description: str) -> StoreType:
    """Make ``name`` known (idempotent for the same description)."""
    check_type_name(name)
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None:
            return existing
        store_type = StoreType(name, description)
        _registry[name] = store_type
        return store_type


def registered_type_names() -> tuple[str, ...]:
    """All registered store type names, sorted (the global mutex order)."""
    with _registry_lock:
        return tuple(sorted(_registry))


def get_store_type(name: str) -> StoreType:
    """The registered type called ``name``, or a StoreTypeError that lists the known ones."""
    with _registry_lock:
        store_type = _registry.get(name)
        known = ", ".join(sorted(_registry))
    if store_type is None:
        raise StoreTypeError(f"unknown store type {name!r}; known types: {known}")
    return store_type


register_store_type("folder", "a directory tree: files, folders, links, permissions and times")
register_store_type("sqlite", "a SQLite database file, copied consistently with the online backup API")
