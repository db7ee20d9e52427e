"""What killed database jobs leave behind, and how the next job clears it: scratch folders and half-loaded databases.

A SIGKILLed restore cannot drop the database it was loading, nor remove its scratch folder; the
names say whose they are (leftovers.py), so the next job on that target or server removes the ones
whose process has provably ended on this host, and leaves a live one's and another host's alone.
"""

from __future__ import annotations

import os

import pytest

from strongroom.core.jobs import JobState
from strongroom.core.restore import RestoreOptions

from .db_servers import Server
from .test_database_stores import KINDS, add_store, make_database, new_name

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=KINDS)
def server(request) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


def test_the_scratch_folder_of_a_killed_restore_is_removed_by_the_next_backup(engine, server) -> None:
    from strongroom.core.identity import this_process
    from strongroom.core.leftovers import _host_label

    from .conftest import dead_pid

    database = make_database(server, rows=5)
    store = add_store(engine, server, database)
    target = engine.default_target / store
    killed = target / f".restore.1a2b3c4d.strongroom-{_host_label(this_process().host)}-{dead_pid()}.partial"
    killed.mkdir(parents=True)
    (killed / "dump.custom").write_bytes(b"half a dump")
    job = engine.backup_job(store)
    assert job.run() == JobState.SUCCEEDED
    assert not killed.exists()
    assert [path.name for path in target.iterdir() if ".partial" in path.name] == []


def test_a_restore_drops_the_half_loaded_databases_that_killed_restores_of_this_host_left(engine, server) -> None:
    import re

    from strongroom.core.leftovers import temporary_database_name

    from .conftest import dead_pid

    database = make_database(server, rows=5)
    store = add_store(engine, server, database)
    assert engine.backup_job(store).run() == JobState.SUCCEEDED
    mine = temporary_database_name(database)
    killed = re.sub(r"_\d+_([0-9a-f]{4})$", rf"_{dead_pid()}_\1", mine)  # a restore of this host that died
    alive = re.sub(r"_\d+_([0-9a-f]{4})$", rf"_{os.getppid()}_\1", mine)  # one still running (our parent)
    foreign = re.sub(r"_strongroom_[0-9a-f]{8}_", "_strongroom_0badc0de_", killed)  # another host's: unknowable
    for name in (killed, alive, foreign):
        server.create_database(name)
    job = engine.restore_job(store, RestoreOptions(to_database=new_name("copy")))
    assert job.run() == JobState.SUCCEEDED, job.error
    names = server.databases()
    assert killed not in names
    assert {alive, foreign} <= names
    assert any(f"dropped {killed}, a database a killed restore had left half-loaded" in line for line in job.log_lines)
    for name in (alive, foreign):
        server.sql(f'DROP DATABASE "{name}"' if server.kind == "postgresql" else f"DROP DATABASE `{name}`")


def test_a_temporary_database_name_fits_both_servers_limits_whatever_the_database_is_called() -> None:
    from strongroom.core.leftovers import stale_database, temporary_database_name

    for name in ("x", "a" * 200, "Ärger_" * 30, "日本語のデータベース名" * 4):
        temporary = temporary_database_name(name)
        assert len(temporary.encode("utf-8")) <= 63 and len(temporary) <= 64
        assert not stale_database(temporary)  # this process is alive
