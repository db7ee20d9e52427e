"""One `strongroom backup` command over four stores of four types: four mutexes held at once.

The command runs in this process (its own ``main``), with each job kept inside its store
until all four are inside: if any two types shared a mutex, the barrier would break and
the test fail — proof by construction, not by timing. Two stores of one server type, in
one command, take turns on their type's mutex.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from strongroom.core.cli import backup as backup_command
from strongroom.core.cli.main import main

from .conftest import Rendezvous
from .test_database_stores import make_database
from .test_sqlite_store import make_database as make_sqlite
from .trees import make_tree

pytestmark = pytest.mark.timeout(300)


def _run_command(home: Path, monkeypatch, listeners, *names: str) -> list[dict]:
    """`strongroom backup NAMES --json` in this process, with ``listeners()`` added to each of its jobs."""
    real = backup_command.run_simultaneously

    def with_listeners(jobs, **kwargs):
        for job in jobs:
            for listener in listeners():
                job.add_listener(listener)
        return real(jobs, **kwargs)

    monkeypatch.setattr(backup_command, "run_simultaneously", with_listeners)
    printed = []
    monkeypatch.setattr("builtins.print", lambda *parts, **kwargs: printed.append(" ".join(map(str, parts))))
    code = main(["--home", str(home), "backup", "--json", *names])
    monkeypatch.undo()
    assert code == 0, printed
    return json.loads("\n".join(printed))


def test_four_stores_of_four_types_hold_their_four_mutexes_at_the_same_time(
        home: Path, tmp_path: Path, monkeypatch, postgresql_server, mariadb_server) -> None:
    from .conftest import cli

    stores = {"files": ("folder", str(make_tree(tmp_path / "files", {"a": os.urandom(200_000)}))),
              "local": ("sqlite", str(make_sqlite(tmp_path / "local.db"))),
              "pg": ("postgresql", postgresql_server.url(make_database(postgresql_server, rows=200))),
              "maria": ("mariadb", mariadb_server.url(make_database(mariadb_server, rows=200)))}
    for name, (kind, where) in stores.items():
        added = cli(home, "store", "add", name, "--type", kind, where, timeout=60)
        assert added.returncode == 0, added.stderr
    rendezvous = Rendezvous(4, timeout=60)
    outcome = _run_command(home, monkeypatch, lambda: [rendezvous.listener()], *stores)
    assert {job["store"]: job["state"] for job in outcome} == dict.fromkeys(stores, "succeeded")
    holds = _job_holds(home)
    latest_take = max(took for took, _ in holds.values())
    assert all(latest_take < gave for _, gave in holds.values())  # all four held their mutexes together


def test_two_postgresql_stores_in_one_command_take_turns(home: Path, monkeypatch, postgresql_server) -> None:
    from .conftest import cli

    for name in ("first", "second"):
        added = cli(home, "store", "add", name, "--type", "postgresql",
                    postgresql_server.url(make_database(postgresql_server, rows=200)), timeout=60)
        assert added.returncode == 0, added.stderr
    outcome = _run_command(home, monkeypatch, lambda: [], "first", "second")
    assert [job["state"] for job in outcome] == ["succeeded", "succeeded"]
    (took_a, gave_a), (took_b, gave_b) = sorted(_job_holds(home).values())
    assert gave_a <= took_b  # one after the other on the one postgresql mutex


def _job_holds(home: Path) -> dict[str, tuple[float, float]]:
    from strongroom.core.engine import Engine
    from strongroom.core.paths import resolve_paths

    engine = Engine(resolve_paths(home))
    return {record.store: tuple(record.holds[0]) for record in engine.catalog.list_jobs()
            if record.operation == "backup"}
