"""Store type names: what makes one well-formed, and which types exist.

A store type names a kind of store (a folder tree, a SQLite database, a PostgreSQL
database, ...). Each type has its own mutex, so the name is part of every mutex name and
lock file name: it is kept to lower-case ASCII letters, digits, ``_`` and ``-`` so that
two different types can never map to one file, not even on a case-insensitive file system.

There is one registry of types: the drivers in ``stores/``, one module each. The mutex
engine needs only their names, asked for here so that it need not import the drivers
until it lists them.
"""

from __future__ import annotations

import re

from .invalid_value import InvalidValue

TYPE_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class StoreTypeError(InvalidValue):
    """A store type name that is malformed or not registered."""


def check_type_name(name: str) -> str:
    """Return ``name`` if it is a well-formed store type name, else raise StoreTypeError."""
    if not isinstance(name, str) or not TYPE_NAME_PATTERN.fullmatch(name):
        raise StoreTypeError(
            f"{name!r} is not a valid store type name: use 1-32 lower-case letters, digits, "
            "'_' or '-', starting with a letter"
        )
    return name


def registered_type_names() -> tuple[str, ...]:
    """Every store type a driver is registered for, sorted."""
    from .stores import driver_names

    return driver_names()


def check_registered(name: str) -> str:
    """``name`` if a driver is registered for it, else a StoreTypeError that lists the known types."""
    from .stores import driver_for

    return driver_for(check_type_name(name)).type_name
