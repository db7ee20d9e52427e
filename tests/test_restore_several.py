"""Restoring several stores at once: each from its newest good set as of a moment, each into a place of its
own, all at the same time; a damaged set is passed over and named, a store with nothing to restore is
named and does not stop the others."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from strongroom.core.cli import restore as restore_command
from strongroom.core.cli.main import main
from strongroom.core.jobs import JobState
from strongroom.core.restore import RestoreOptions, build_plan
from strongroom.core.restore.several import database_name_for, pick_sets, shortfalls
from strongroom.core.stores import driver_for

from .conftest import Rendezvous, cli
from .oracle import compare
from .test_sqlite_store import make_database as make_sqlite
from .trees import make_tree

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def three(engine, tmp_path: Path) -> dict[str, Path]:
    """Two folder stores and a SQLite store, each backed up once."""
    stores = {"photos": make_tree(tmp_path / "photos", {"a.jpg": os.urandom(70_000), "trip/b.jpg": "b"},
                                  links={"latest": "trip/b.jpg"}),
              "papers": make_tree(tmp_path / "papers", {"tax.pdf": "2026", "old/2025.pdf": "2025"}),
              "ledger": make_sqlite(tmp_path / "ledger.db")}
    for name, path in stores.items():
        engine.add_store(name, "sqlite" if name == "ledger" else "folder", str(path))
        assert engine.backup_job(name).run() == JobState.SUCCEEDED
    return stores


def rows(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT * FROM sqlite_master ORDER BY name").fetchall()


def test_each_store_comes_back_from_its_newest_set_into_a_folder_of_its_own_name(home, three, tmp_path) -> None:
    out = tmp_path / "out"
    result = cli(home, "restore", "photos", "papers", "ledger", "--to", str(out), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("photos", "papers"):
        found = compare(three[name], out / name, tmp_path)
        assert found["ok"], found["report"]
    assert rows(out / "ledger" / "ledger.db") == rows(three["ledger"])
    assert sorted(path.name for path in out.iterdir()) == ["ledger", "papers", "photos"]


def test_before_brings_every_store_back_as_it_was_at_that_moment(engine, home, three, tmp_path) -> None:
    moment = max(engine.catalog.latest_set(name).taken for name in ("photos", "papers"))
    (three["papers"] / "tax.pdf").write_text("changed after the moment")
    (three["photos"] / "new.jpg").write_text("taken after the moment")
    for name in ("photos", "papers"):
        assert engine.backup_job(name).run() == JobState.SUCCEEDED
    out = tmp_path / "out"
    result = cli(home, "restore", "photos", "papers", "--before", moment.isoformat(), "--to", str(out), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "papers" / "tax.pdf").read_text() == "2026"
    assert not (out / "photos" / "new.jpg").exists() and (out / "photos" / "a.jpg").is_file()


def test_a_damaged_newest_set_is_passed_over_and_named_in_the_jobs_warnings(engine, home, three, tmp_path) -> None:
    first = engine.catalog.latest_set("papers")
    (three["papers"] / "tax.pdf").write_text("newer")
    assert engine.backup_job("papers").run() == JobState.SUCCEEDED
    newest = engine.catalog.latest_set("papers")
    engine.catalog.mark_damaged(newest.id, "member tax.pdf: checksum mismatch")
    out = tmp_path / "out"
    result = cli(home, "restore", "papers", "photos", "--to", str(out), "--json", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = {job["store"]: job for job in json.loads(result.stdout)}
    assert outcome["papers"]["set_id"] == first.id and outcome["papers"]["state"] == "succeeded-with-warnings"
    assert f"set {newest.id}" in outcome["papers"]["warnings"][0]
    assert f"restoring set {first.id}" in outcome["papers"]["warnings"][0]
    assert (out / "papers" / "tax.pdf").read_text() == "2026"
    assert outcome["photos"]["state"] == "succeeded"


def test_a_store_with_nothing_to_restore_is_named_and_the_others_still_come_back(engine, home, three,
                                                                                 tmp_path) -> None:
    engine.catalog.mark_damaged(engine.catalog.latest_set("ledger").id, "cut short")
    out = tmp_path / "out"
    result = cli(home, "restore", "ledger", "papers", "--to", str(out), timeout=120)
    assert result.returncode == 1
    assert "ledger: not restored — every set failed its last verify, or stands on one that did" in result.stdout
    assert "papers: succeeded" in result.stdout and (out / "papers" / "tax.pdf").is_file()
    assert not (out / "ledger").exists()


def test_all_restores_every_store_with_a_set_removed_ones_included(engine, home, three, tmp_path) -> None:
    assert cli(home, "store", "remove", "papers").returncode == 0
    out = tmp_path / "out"
    result = cli(home, "restore", "--all", "--to", str(out), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["ledger", "papers", "photos"]
    assert (out / "papers" / "old" / "2025.pdf").read_text() == "2025"


def test_a_dry_run_of_several_lists_every_destination_and_writes_nothing(home, three, tmp_path) -> None:
    out = tmp_path / "out"
    result = cli(home, "restore", "--all", "--to", str(out), "--dry-run", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in (f"create   {out}/photos/trip/b.jpg", f"create   {out}/papers/tax.pdf",
                 f"create   {out}/ledger/ledger.db"):
        assert line in result.stdout
    assert not out.exists()


@pytest.mark.parametrize("arguments, message", [
    (["photos", "papers", "--set", "x"], "--set is for restoring one store by its set"),
    (["photos", "papers", "--path", "a.jpg"], "--path is for restoring one store by its set"),
    (["--all", "photos"], "give store names or --all, not both"),
    (["photos", "photos"], "a store is named twice"),
    ([], "name the store to restore"),
    (["photos", "--new-databases"], "--new-databases is for several stores"),
    (["photos", "papers", "--before", "yesterday"], "is not a point in time"),
])
def test_a_several_store_command_line_that_cannot_be_carried_out_gets_one_line(home, three, arguments,
                                                                               message) -> None:
    result = cli(home, "restore", *arguments)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_the_restores_of_different_store_types_hold_their_mutexes_at_the_same_time(engine, home, three, tmp_path,
                                                                                    monkeypatch) -> None:
    """Each job is kept inside its store until the other is inside too: if they took turns, it would fail."""
    rendezvous = Rendezvous(2, timeout=60)
    real = restore_command.run_simultaneously

    def with_rendezvous(jobs, **kwargs):
        for job in jobs:
            job.add_listener(rendezvous.listener())
        return real(jobs, **kwargs)

    monkeypatch.setattr(restore_command, "run_simultaneously", with_rendezvous)
    printed = []
    monkeypatch.setattr("builtins.print", lambda *parts, **kwargs: printed.append(" ".join(map(str, parts))))
    code = main(["--home", str(home), "restore", "photos", "ledger", "--to", str(tmp_path / "out"), "--json"])
    monkeypatch.undo()
    assert code == 0, printed
    assert [job["state"] for job in json.loads("\n".join(printed))] == ["succeeded", "succeeded"]
    holds = [record.holds[0] for record in engine.catalog.list_jobs() if record.operation == "restore"]
    assert len(holds) == 2 and max(took for took, _ in holds) < min(gave for _, gave in holds)
    assert rendezvous.barrier.n_waiting == 0 and not rendezvous.barrier.broken


def test_picking_skips_sets_taken_after_the_moment_and_damaged_ones(engine, three) -> None:
    papers = engine.store("papers")
    first = engine.catalog.latest_set("papers")
    assert engine.backup_job("papers").run() == JobState.SUCCEEDED
    second = engine.catalog.latest_set("papers")
    [now] = pick_sets(engine.catalog, [papers])
    assert now.record.id == second.id and now.note == ""
    [then] = pick_sets(engine.catalog, [papers], first.taken)
    assert then.record.id == first.id
    [earlier] = pick_sets(engine.catalog, [papers], first.taken.replace(year=2000))
    assert earlier.record is None and earlier.problem.startswith("no backup set taken by")
    engine.catalog.mark_damaged(first.id, "cut short")
    [on_damaged] = pick_sets(engine.catalog, [papers])
    assert on_damaged.record.id == second.id  # a full set does not stand on the damaged one
    engine.catalog.mark_damaged(second.id, "cut short")
    [none] = pick_sets(engine.catalog, [papers])
    assert none.record is None and [record.id for record in none.passed_over] == [second.id, first.id]
    assert none.problem == "every set failed its last verify, or stands on one that did"


def test_a_new_database_name_says_when_its_set_was_taken_and_fits_the_servers_limit(engine, three) -> None:
    record = engine.catalog.latest_set("ledger")
    stamp = record.taken.strftime("%Y%m%d_%H%M")
    assert database_name_for("crm", record) == f"crm_{stamp}"
    long = database_name_for("é" * 40, record)
    assert len(long.encode()) <= 63 and long.endswith(stamp)


def test_stores_that_fit_one_by_one_but_not_together_are_found_too_big(engine, tmp_path, small_disk) -> None:
    plans = []
    for name in ("left", "right"):
        source = make_tree(tmp_path / name, {"data.bin": os.urandom(1_200_000)})
        engine.add_store(name, "folder", str(source))
        assert engine.backup_job(name).run() == JobState.SUCCEEDED
        manifest = engine.load_manifest(engine.catalog.latest_set(name))
        plans.append(build_plan(manifest, driver_for("folder"), source,
                                RestoreOptions(to=small_disk / "out" / name)))
    assert shortfalls(plans[:1]) == [] and shortfalls(plans[1:]) == []
    [problem] = shortfalls(plans)
    assert "2.3 MiB to write into" in problem and str(small_disk / "out" / "left") in problem
    assert "go back and choose a folder on a file system with room" in problem


def test_database_stores_go_into_new_databases_named_after_their_sets_time(home, three, tmp_path,
                                                                          postgresql_server) -> None:
    from .test_database_stores import make_database

    database = make_database(postgresql_server, rows=120)
    added = cli(home, "store", "add", "crm", "--type", "postgresql", postgresql_server.url(database), timeout=60)
    assert added.returncode == 0, added.stderr
    backed = cli(home, "backup", "crm", timeout=120)
    assert backed.returncode == 0, backed.stdout + backed.stderr
    into_own = cli(home, "restore", "crm", "papers", "--to", str(tmp_path / "out"), timeout=120)
    assert into_own.returncode == 1 and f"the database {database!r} already exists" in into_own.stdout
    assert (tmp_path / "out" / "papers" / "tax.pdf").is_file()  # the failed database did not stop the folder
    beside = cli(home, "restore", "crm", "--before", "2999-01-01T00:00Z", "--new-databases", "--json", timeout=120)
    assert beside.returncode == 0, beside.stdout + beside.stderr
    [job] = json.loads(beside.stdout)
    from strongroom.core.engine import Engine
    from strongroom.core.paths import resolve_paths

    new_name = database_name_for(database, Engine(resolve_paths(home)).catalog.get_set(job["set_id"]))
    assert new_name in postgresql_server.databases()
    assert postgresql_server.sql("SELECT count(*) FROM ledger", new_name).strip() == "120"
    postgresql_server.sql(f'DROP DATABASE "{new_name}"')


def test_a_torture_tree_restored_with_the_others_comes_back_identical_to_an_independent_walker(engine, home,
                                                                                               tmp_path) -> None:
    """Links of every kind, hard links, xattrs, ACLs, sparse files, odd names and old dates, through --all."""
    from . import torture_tree
    from .oracle import tar_extract

    source = tmp_path / "torture"
    notes = torture_tree.build(source)
    try:
        engine.add_store("torture", "folder", str(source))
        engine.add_store("plain", "folder", str(make_tree(tmp_path / "plain", {"a": "1"})))
        for name in ("torture", "plain"):
            assert engine.backup_job(name).run() == JobState.SUCCEEDED
        out = tmp_path / "out"
        result = cli(home, "restore", "--all", "--to", str(out), timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        found = compare(source, out / "torture", tmp_path)
        assert found["ok"], found["report"]
        assert notes["xattrs"] and notes["acls"] or not os.environ.get("CI"), notes  # CI must exercise both
        by_tar = tmp_path / "by-tar"  # GNU tar reads the same set; it only fails on names past PATH_MAX
        tar_extract(Path(engine.catalog.latest_set("torture").path), by_tar)
        found = compare(by_tar, out / "torture", tmp_path)
        assert not found["missing"] and not found["diffs"], found["report"]
        deep = [str(path) for path in found["extra"]]  # tree_compare shortens long names to their two ends
        assert deep and all(path.startswith("d" * 14) for path in deep), deep  # only what lies past PATH_MAX
    finally:
        torture_tree.remove(tmp_path)
