"""What the Stores table shows (each store's overview and health), read now or off the window's thread.

After the administrator's own change the table is read at once; after a job's end it is
read in the thread pool, since the catalog's sets and 1,000 history rows took 18-34 ms to
read on a busy machine, and the window must not stall while other jobs run. A read at once
supersedes one still running, so an older answer never replaces a newer one.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from ..core.catalog import Catalog
from ..core.expected_errors import EXPECTED_ERRORS
from ..core.health import store_health
from ..core.store_overview import store_overviews
from .background import BackgroundCall
from .messages import error_text


class StoresReader(QObject):
    read = Signal(object, object)  # overviews, health
    failed = Signal(str)  # what went wrong, in words

    def __init__(self, catalog: Catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._background = BackgroundCall(self)

    def read_now(self) -> None:
        self._background.supersede()
        try:
            self.read.emit(*read_stores(self.catalog))
        except EXPECTED_ERRORS as error:
            self.failed.emit(error_text(error))

    def read_soon(self) -> None:
        self._background.run(partial(read_stores, self.catalog), self._answered)

    def _answered(self, result: tuple | None, error: str | None) -> None:
        if error is not None:
            self.failed.emit(error)
        else:
            self.read.emit(*result)


def read_stores(catalog: Catalog) -> tuple[list, list]:
    """Each store's overview and its health."""
    return store_overviews(catalog), store_health(catalog)
