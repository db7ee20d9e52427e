"""What the restore wizard does differently for a database store: restored whole, into a database."""

from __future__ import annotations

from ...core.catalog import CatalogError, SetRecord, Store
from ...core.restore import RestoreOptions
from ...core.stores import driver_for
from ...core.units import human_bytes, human_time

DATABASE_POLICY_TEXT = {
    "never": "never: refuse when the database already exists (safest)",
    "always": "always: replace the database, once the dump has loaded under a temporary name",
}


def database_outcome(store: Store, record: SetRecord, options: RestoreOptions) -> tuple[str, str]:
    """Into which database a restore goes and what happens there, having asked the server whether it exists
    (off the GUI thread); refused when it exists and the policy does not allow replacing it."""
    driver = driver_for(store.type)
    location = driver.location(store.path)
    name = options.to_database or location.database
    exists = driver.database_exists(location, name)
    if exists and options.overwrite != "always":
        raise CatalogError(f"the database {name} already exists on {location.server}; choose a new database, or the "
                           "policy 'always' to replace it")
    what = ("It exists and will be replaced once the dump has loaded under a temporary name."
            if exists else "It does not exist yet and will be created; if the load fails, nothing is left behind.")
    return f"the database {name} on {location.server}", what


def database_summary(store: Store, record: SetRecord, options: RestoreOptions) -> str:
    """What a database restore will do, in words (off the GUI thread)."""
    into, what = database_outcome(store, record, options)
    return (f"Restore set {record.id} (taken {human_time(record.created)}) into {into}.\n{what} "
            f"{human_bytes(record.bytes)} of dump to load.")
