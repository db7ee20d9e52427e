"""Strongroom's engine: stores, backup sets, catalog, jobs and the per-store-type mutexes.

Nothing in this package imports Qt: every job is reachable from the command line and
plain pytest. The console in ``strongroom.gui`` is a thin layer over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("strongroom")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
