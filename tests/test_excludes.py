"""Exclude rules: gitignore patterns (git itself is the oracle), CACHEDIR.TAG (GNU tar is), size limits."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import PlanBook, Trigger
from strongroom.core.plans.plan_run import PlanRunner
from strongroom.core.restore import RestoreOptions
from strongroom.core.stores import StoreError
from strongroom.core.stores.excludes import CACHEDIR_SIGNATURE, ExcludeRules
from strongroom.core.stores.folder import unchanged_since
from strongroom.core.stores.folder_count import count

from .conftest import cli
from .trees import make_tree

PATTERNS = ("*.log", "!keep.log", "build/", "/top-only.txt", "**/tmp/**", "docs/*.pdf", "name with space")
FILES = ["a.c", "b.log", "keep.log", "sub/c.log", "sub/keep.log", "build/out.o", "sub/build/x.o", "build.txt",
         "top-only.txt", "sub/top-only.txt", "x/tmp/y/z.txt", "tmp-not.txt", "docs/a.pdf", "docs/deep/b.pdf",
         "name with space", "sub/name with space", "sub/ok.txt"]


def stored_files(engine, set_id: str) -> set[str]:
    return {entry.path for entry in engine.manifest_for(set_id).entries if entry.type == "file"}


def backup(engine, store: str, **options):
    job = engine.backup_job(store, BackupOptions(verify=False, **options))
    job.run()
    assert job.state in (JobState.SUCCEEDED, JobState.WARNINGS), job.error
    return job


def git_kept(tree: Path, patterns: tuple[str, ...]) -> set[str]:
    """The files git would not ignore with ``patterns`` as the root's .gitignore: the oracle."""
    repo = tree.parent / "oracle"
    shutil.copytree(tree, repo)
    (repo / ".gitignore").write_text("\n".join(patterns) + "\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "--others", "--exclude-standard", "-z"],
                            check=True, capture_output=True).stdout
    return {name for name in listed.decode().split("\0") if name and name != ".gitignore"}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the oracle for gitignore patterns")
def test_patterns_leave_out_exactly_what_git_would_ignore(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {name: name for name in FILES})
    engine.add_store("tree", "folder", str(tree))
    job = backup(engine, "tree", excludes=ExcludeRules(PATTERNS))
    kept = stored_files(engine, job.set_id)
    assert kept == git_kept(tree, PATTERNS)
    assert "keep.log" in kept and "sub/keep.log" in kept and "sub/top-only.txt" in kept
    assert job.excluded["pattern '*.log'"] == [2, len("b.log") + len("sub/c.log")]
    assert job.excluded["pattern 'build/'"][0] == 2  # two folders, not entered
    # the progress count (a child walk) leaves out the same
    assert count(tree, None, unchanged_since, ExcludeRules(PATTERNS)) == (len(kept), sum(len(name) for name in kept))


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is the oracle for CACHEDIR.TAG")
def test_a_tagged_cache_folder_keeps_itself_and_its_tag_as_gnu_tar_exclude_caches_does(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {
        "cache/CACHEDIR.TAG": CACHEDIR_SIGNATURE + b"\n# a cache\n", "cache/blob": "x", "cache/deep/blob": "y",
        "fake/CACHEDIR.TAG": b"Signature: not the one\n", "fake/kept": "z", "plain/file": "w"})
    (tree / "linked").mkdir()
    os.symlink(tree / "cache" / "CACHEDIR.TAG", tree / "linked" / "CACHEDIR.TAG")  # a link to a tag is no tag
    (tree / "linked" / "kept").write_text("v")
    engine.add_store("tree", "folder", str(tree))
    job = backup(engine, "tree", excludes=ExcludeRules(caches=True))
    ours = {entry.path for entry in engine.manifest_for(job.set_id).entries} - {"."}
    listed = subprocess.run(["tar", "-C", str(tree), "--exclude-caches", "-cf", "-", "."], check=True,
                            capture_output=True).stdout
    names = subprocess.run(["tar", "-tf", "-"], input=listed, check=True, capture_output=True).stdout.decode()
    theirs = {name.removeprefix("./").rstrip("/") for name in names.splitlines()} - {"", "."}
    assert ours == theirs
    assert "cache/blob" not in ours and "fake/kept" in ours and "linked/kept" in ours
    assert job.excluded == {"CACHEDIR.TAG": [2, 0]}


def test_files_over_the_size_limit_are_left_out_and_counted_with_their_bytes(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"at-limit": b"x" * 4096, "over": b"x" * 4097, "small": "s"})
    engine.add_store("tree", "folder", str(tree))
    job = backup(engine, "tree", excludes=ExcludeRules(max_file_size=4096))
    assert stored_files(engine, job.set_id) == {"at-limit", "small"}
    assert job.excluded == {"size limit 4.0 KiB": [1, 4097]}
    assert engine.catalog.get_job(job.id).excluded == {"size limit 4.0 KiB": [1, 4097]}


def test_an_incremental_after_a_rule_changes_drops_and_then_takes_back_what_it_covers(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "a", "logs/one.log": "1", "logs/two.log": "2"})
    engine.add_store("tree", "folder", str(tree))
    full = backup(engine, "tree")
    engine.set_store_excludes("tree", ExcludeRules(("*.log",)))
    without = backup(engine, "tree", incremental=True)
    engine.set_store_excludes("tree", ExcludeRules())
    again = backup(engine, "tree", incremental=True)
    assert engine.catalog.get_set(without.set_id).kind == "incremental"
    for job, expected in ((full, {"a.txt", "logs/one.log", "logs/two.log"}), (without, {"a.txt"}),
                          (again, {"a.txt", "logs/one.log", "logs/two.log"})):
        target = tmp_path / f"restored-{job.set_id}"
        restore = engine.restore_job("tree", RestoreOptions(to=target), set_id=job.set_id)
        restore.run()
        assert restore.state == JobState.SUCCEEDED, restore.error
        assert {str(path.relative_to(target)) for path in target.rglob("*") if path.is_file()} == expected
    assert (tmp_path / f"restored-{again.set_id}" / "logs" / "two.log").read_text() == "2"


def test_a_plan_s_rules_add_to_the_store_s_own(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "a", "b.tmp": "b", "c.bak": "c"})
    engine.add_store("tree", "folder", str(tree))
    engine.set_store_excludes("tree", ExcludeRules(("*.tmp",)))
    book = PlanBook(engine.catalog)
    plan = book.add(Plan(name="p", stores=("tree",), schedule="hourly", excludes=("*.bak",)))
    outcome = PlanRunner(engine, book, plan, Trigger.MANUAL).run()
    job = outcome.jobs[0]
    assert stored_files(engine, job.set_id) == {"a.txt"}
    assert set(job.excluded) == {"pattern '*.tmp'", "pattern '*.bak'"}


def test_a_sqlite_store_is_backed_up_whole_and_says_its_rules_were_not_used(engine, tmp_path) -> None:
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    engine.add_store("db", "sqlite", str(database))
    with pytest.raises(StoreError, match="exclude rules apply to folder stores only"):
        engine.set_store_excludes("db", ExcludeRules(("*.x",)))
    job = backup(engine, "db", excludes=ExcludeRules(("*.x",)))
    assert job.state == JobState.WARNINGS and "the exclude rules ('*.x') were not used" in job.warnings[0]


def test_dry_run_lists_what_would_be_stored_and_what_each_rule_leaves_out_and_writes_nothing(home, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "a", "b.log": "b", "build/x.o": "x", "big": b"x" * 5000})
    assert cli(home, "store", "add", "tree", "--type", "folder", str(tree), "--exclude", "build/").returncode == 0
    result = cli(home, "backup", "tree", "--dry-run", "--exclude", "*.log", "--max-size", "4K")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "store      tree:a.txt" in lines
    assert "exclude    tree:b.log  (pattern '*.log')" in lines
    assert "exclude    tree:build  (pattern 'build/')" in lines
    assert "exclude    tree:big  (size limit 4.0 KiB)" in lines
    assert lines[-1] == "tree: would store 1 item, leave out 3; nothing was written"
    assert json.loads(cli(home, "sets", "--json").stdout) == []
    assert json.loads(cli(home, "jobs", "--json").stdout) == []
    assert not (home / "backups").exists()


def test_an_incremental_dry_run_tells_unchanged_files_from_those_it_would_read(home, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"same.txt": "s", "changed.txt": "c"})
    cli(home, "store", "add", "tree", "--type", "folder", str(tree))
    assert cli(home, "backup", "tree").returncode == 0
    (tree / "changed.txt").write_text("changed, and longer")
    result = cli(home, "backup", "tree", "--incremental", "--dry-run")
    assert "unchanged  tree:same.txt" in result.stdout and "store      tree:changed.txt" in result.stdout


def test_store_exclude_sets_shows_and_clears_a_store_s_rules(home, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "a"})
    cli(home, "store", "add", "tree", "--type", "folder", str(tree))
    assert "now leaves out '*.o', folders with a CACHEDIR.TAG, files over 1.0 GiB" in cli(
        home, "store", "exclude", "tree", "--exclude", "*.o", "--exclude-caches", "--max-size", "1G").stdout
    stores = json.loads(cli(home, "store", "list", "--json").stdout)
    assert stores[0]["excludes"] == {"patterns": ["*.o"], "caches": True, "max_file_size": 1 << 30}
    assert "leaves out nothing" in cli(home, "store", "exclude", "tree", "--none").stdout
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    refused = cli(home, "store", "add", "db", "--type", "sqlite", str(database), "--exclude", "*.o")
    assert refused.returncode == 1 and "exclude rules apply to folder stores only" in refused.stderr
    assert [store["name"] for store in json.loads(cli(home, "store", "list", "--json").stdout)] == ["tree"]


def test_a_plan_s_rules_reach_its_folder_stores_and_leave_its_sqlite_store_unremarked(engine, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "a", "b.tmp": "b"})
    engine.add_store("tree", "folder", str(tree))
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
    engine.add_store("db", "sqlite", str(database))
    book = PlanBook(engine.catalog)
    plan = book.add(Plan(name="p", stores=("tree", "db"), schedule="hourly", excludes=("*.tmp",)))
    jobs = {job.store_name: job for job in PlanRunner(engine, book, plan, Trigger.MANUAL).run().jobs}
    assert stored_files(engine, jobs["tree"].set_id) == {"a.txt"}
    assert jobs["db"].state == JobState.SUCCEEDED and jobs["db"].warnings == []
