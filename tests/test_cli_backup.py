"""The backup command line end to end: stores, simultaneous backups, sets, browse, verify, jobs, restore."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from strongroom.core.archive import Entry
from strongroom.core.catalog import SCHEMA_VERSION, Catalog, SetRecord

from .conftest import cli
from .test_archive_format import write_set
from .test_sqlite_store import make_database
from .trees import make_tree, tree_state

SET_KEYS = {"id", "store", "store_type", "kind", "parent", "created", "path", "files", "bytes", "stored_bytes"}
JOB_KEYS = {"job_id", "store", "state", "set_id", "files", "bytes", "warnings", "excluded", "error"}


def ok(result) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


@pytest.fixture
def stores(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    docs = make_tree(tmp_path / "docs", {"a.txt": "alpha", "sub/b.bin": os.urandom(50_000)}, links={"l": "a.txt"})
    database = make_database(tmp_path / "app.db", rows=300)
    ok(cli(home, "store", "add", "docs", "--type", "folder", str(docs)))
    ok(cli(home, "store", "add", "app", "--type", "sqlite", str(database)))
    return docs, database


def test_store_list_and_remove(home: Path, stores) -> None:
    listed = json.loads(ok(cli(home, "store", "list", "--json")))
    assert [(row["name"], row["type"]) for row in listed] == [("app", "sqlite"), ("docs", "folder")]
    assert "docs" in ok(cli(home, "store", "list"))
    assert "removed store 'docs'" in ok(cli(home, "store", "remove", "docs"))
    assert [row["name"] for row in json.loads(ok(cli(home, "store", "list", "--json")))] == ["app"]


def test_backup_several_stores_at_once_then_sets_browse_verify_jobs(home: Path, stores) -> None:
    outcome = json.loads(ok(cli(home, "backup", "docs", "app", "--json")))
    assert [set(job) for job in outcome] == [JOB_KEYS, JOB_KEYS]
    assert [(job["store"], job["state"]) for job in outcome] == [("docs", "succeeded"), ("app", "succeeded")]
    assert outcome[0]["files"] == 2 and outcome[0]["bytes"] == 50_005

    sets = json.loads(ok(cli(home, "sets", "--json")))
    assert len(sets) == 2 and all(set(record) >= SET_KEYS for record in sets)
    docs_set = next(record for record in sets if record["store"] == "docs")
    assert docs_set["kind"] == "full" and docs_set["files"] == 2 and docs_set["stored_bytes"] > 0
    assert len(json.loads(ok(cli(home, "sets", "app", "--json")))) == 1

    browsed = json.loads(ok(cli(home, "browse", docs_set["id"], "--json")))
    assert sorted(entry["path"] for entry in browsed["entries"]) == [".", "a.txt", "l", "sub", "sub/b.bin"]
    assert "sub/b.bin" in ok(cli(home, "browse", docs_set["id"]))

    assert json.loads(ok(cli(home, "verify", docs_set["id"], "--json")))["ok"] is True
    assert json.loads(ok(cli(home, "verify", docs_set["path"], "--json")))["ok"] is True  # by file, too

    jobs = json.loads(ok(cli(home, "jobs", "--json")))
    assert {(job["operation"], job["state"]) for job in jobs} == {("backup", "succeeded"), ("verify", "succeeded")}


def test_restore_round_trip_and_dry_run(home: Path, stores, tmp_path: Path) -> None:
    docs, database = stores
    ok(cli(home, "backup", "docs", "app"))
    out = tmp_path / "out"
    dry = ok(cli(home, "restore", "docs", "--to", str(out), "--dry-run"))
    assert f"create   {out / 'sub' / 'b.bin'}" in dry and not out.exists()
    ok(cli(home, "restore", "docs", "--to", str(out)))
    assert tree_state(out) == tree_state(docs)
    ok(cli(home, "restore", "app", "--to", str(out)))
    assert (out / "app.db").read_bytes() != b"" and sqlite3.connect(out / "app.db").execute(
        "SELECT COUNT(*) FROM rows").fetchone()[0] == 300


def test_verify_reports_damage_with_exit_1(home: Path, stores) -> None:
    outcome = json.loads(ok(cli(home, "backup", "docs", "--json")))
    path = Path(json.loads(ok(cli(home, "sets", "--json")))[0]["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    result = cli(home, "verify", outcome[0]["set_id"])
    assert result.returncode == 1 and "damaged" in result.stdout
    assert json.loads(ok(cli(home, "jobs", "--json")))[0]["state"] == "failed"


def test_a_hostile_set_is_refused_by_restore_naming_the_member(home: Path, stores, tmp_path: Path) -> None:
    """A set file planted in the target and catalogued (as if copied in) must not escape its destination."""
    hostile = tmp_path / "hostile.tar.zst"
    manifest = write_set(hostile, {"fine.txt": b"ok"}, set_id="evil-set",
                         extra=[Entry(path="escape", type="symlink", mode=0o777, mtime_ns=0, target="../../../etc"),
                                Entry(path="escape/cron.d", type="dir", mode=0o755, mtime_ns=0)])
    catalog = Catalog(home / "catalog.sqlite")
    catalog.add_set(SetRecord(id="evil-set", store="docs", store_type="folder", kind="full", parent=None,
                              created="2999-01-01T00:00:00Z", path=str(hostile), files=1, bytes=2,
                              stored_bytes=hostile.stat().st_size, manifest_sha256=manifest.digest()))
    out = tmp_path / "out"
    result = cli(home, "restore", "docs", "--set", "evil-set", "--to", str(out))
    assert result.returncode == 1
    assert "'escape/cron.d'" in result.stdout and "below a link" in result.stdout
    assert not out.exists()


def test_the_catalog_is_versioned_in_wal_mode_and_shared_by_processes(home: Path, stores) -> None:
    catalog = Catalog(home / "catalog.sqlite")
    with sqlite3.connect(home / "catalog.sqlite") as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    processes = [subprocess.Popen([sys.executable, "-m", "strongroom.core.cli.main", "--home", str(home), "backup",
                                   name, "--json"], stdout=subprocess.PIPE, text=True)
                 for name in ("docs", "app", "docs", "app")]
    outcomes = [json.loads(process.communicate(timeout=120)[0])[0] for process in processes]
    assert [outcome["state"] for outcome in outcomes] == ["succeeded"] * 4
    assert len(json.loads(ok(cli(home, "sets", "--json")))) == 4
    assert catalog.integrity_check() == "ok"


def test_a_newer_catalog_is_refused_with_advice(home: Path) -> None:
    Catalog(home / "catalog.sqlite")
    with sqlite3.connect(home / "catalog.sqlite") as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    result = cli(home, "store", "list")
    assert result.returncode == 1 and "newer Strongroom" in result.stderr


def test_an_unknown_set_id_for_restore(home: Path, stores) -> None:
    result = cli(home, "restore", "docs", "--set", "docs-1999")
    assert result.returncode == 1 and "no backup set 'docs-1999'" in result.stdout
