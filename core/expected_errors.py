"""The errors that are the user's to act on: one list for the jobs, the CLI and the console.

Each carries a message that names the thing and what is wrong, and through core/remedies.py
what to do. A job ends "failed" with it, the CLI prints it, the console shows it in a dialog.
Anything else is a bug: a job logs its traceback and asks for a report, the CLI and the
console let it through to their own last-resort handlers.
"""

from __future__ import annotations

from .archive import ArchiveError
from .catalog import CatalogError
from .invalid_value import InvalidValue
from .mutex import LockDirectoryError, MutexError
from .stores import StoreError

# InvalidValue covers every refused value: store types, settings, plans, schedules, retention, notifications.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (ArchiveError, CatalogError, StoreError, MutexError, LockDirectoryError,
                                                InvalidValue)


def os_error_text(error: OSError) -> str:
    """An operating-system error in a line: the file it was about, and why (``/srv/x: Permission denied``)."""
    return f"{error.filename or 'a file'}: {error.strerror or error}"
