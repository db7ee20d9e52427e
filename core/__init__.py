"""Strongroom's engine: stores, backup sets, catalog, jobs and the per-store-type mutexes.

Nothing in this package imports Qt: every job is reachable from the command line and
plain pytest. The console in ``strongroom.gui`` is a thin layer over it.
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it from here)
