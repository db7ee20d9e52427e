"""Named per-store-type mutexes shared by threads and processes, with owner records and status.

The mutex of store type ``T`` is called ``strongroom.T``: the store type is always part
of the name, so jobs on different store types never wait for each other (see
DESIGN.md, "Why the mutex is per store type").
"""

from .breaking import break_record
from .errors import AlreadyHeldError, BreakRefused, MutexCancelled, MutexError, MutexTimeout, NotOwnerError
from .lockdir import SCOPES, LockDirectory, LockDirectoryError, Scope, mutex_name
from .records import MalformedRecord, MutexRecord
from .registry import MutexRegistry
from .status import MutexState, MutexStatus, mutex_status, snapshot
from .type_mutex import Hold, MutexOwner, StoreTypeMutex

__all__ = [
    "SCOPES",
    "AlreadyHeldError",
    "BreakRefused",
    "Hold",
    "LockDirectory",
    "LockDirectoryError",
    "MalformedRecord",
    "MutexCancelled",
    "MutexError",
    "MutexOwner",
    "MutexRecord",
    "MutexRegistry",
    "MutexState",
    "MutexStatus",
    "MutexTimeout",
    "NotOwnerError",
    "Scope",
    "StoreTypeMutex",
    "break_record",
    "mutex_name",
    "mutex_status",
    "snapshot",
]
