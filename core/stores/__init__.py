"""Store types and their drivers: one module per type in this package registers itself.

Adding a store type is adding one module here that defines a StoreDriver subclass and
calls ``register_driver``; it is found and imported automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from ..store_types import StoreTypeError, check_type_name
from .base import AppearedDuringRestore, RestoreSpot, SnapshotSession, StoreDriver, StoreError, place

_drivers: dict[str, StoreDriver] = {}
_lock = threading.Lock()
_NOT_DRIVERS = {"base", "database_driver", "server_location", "server_tools", "excludes", "folder_count",
                "folder_walk"}


def register_driver(driver: StoreDriver) -> StoreDriver:
    check_type_name(driver.type_name)
    with _lock:
        _drivers[driver.type_name] = driver
    return driver


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _NOT_DRIVERS:
            importlib.import_module(f"{__name__}.{module.name}")


def driver_for(type_name: str) -> StoreDriver:
    with _lock:
        driver = _drivers.get(type_name)
        known = ", ".join(sorted(_drivers))
    if driver is None:
        raise StoreTypeError(f"unknown store type {type_name!r}; known types: {known}")
    return driver


def shown_location(store_type: str, path: str) -> str:
    """Where a store is, as shown to people: a connection without secrets (a path as it is)."""
    try:
        return driver_for(store_type).shown(path)
    except StoreTypeError:
        return path


def driver_names() -> tuple[str, ...]:
    with _lock:
        return tuple(sorted(_drivers))


_load_all()

__all__ = ["AppearedDuringRestore", "RestoreSpot", "place", "SnapshotSession", "StoreDriver", "StoreError", "driver_for", "driver_names", "shown_location",
           "register_driver"]
