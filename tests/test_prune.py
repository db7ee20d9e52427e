"""Pruning and deleting sets: what is removed and freed, chains, crashes at any point, the prune mutex."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from strongroom.core.archive import verify_set
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.mutex import MutexOwner, MutexTimeout
from strongroom.core.plans.plan import Plan
from strongroom.core.plans.plan_book import PlanBook, Trigger
from strongroom.core.plans.plan_run import PlanRunner
from strongroom.core.retention import removal
from strongroom.core.retention.policy import RetentionPolicy
from strongroom.core.retention.prune import PRUNE_MUTEX, prune

from strongroom.core.units import human_bytes

from .conftest import CLI, cli, cli_status
from .trees import make_tree


def take_sets(engine, store: str, tree: Path, count: int, *, incremental_every: int = 0) -> list[str]:
    """``count`` sets of ``store``; with ``incremental_every`` k, every k-th is full and the others incremental."""
    ids = []
    for number in range(count):
        (tree / "changing.txt").write_text(f"state {number}\n" * (number + 1))
        incremental = bool(incremental_every) and number % incremental_every != 0
        job = engine.backup_job(store, BackupOptions(verify=False, incremental=incremental))
        assert job.run() == JobState.SUCCEEDED, job.error
        ids.append(job.set_id)
    return ids


@pytest.fixture
def tree(engine, tmp_path) -> Path:
    path = make_tree(tmp_path / "docs", {"a.txt": "alpha", "changing.txt": ""})
    engine.add_store("docs", "folder", str(path))
    return path


def files_in(target: Path) -> set[str]:
    return {str(path) for path in target.rglob("*") if path.is_file()}


def catalogued_files(engine) -> set[str]:
    return {path for record in engine.catalog.list_sets() for path in removal.files_of(record)}


def test_prune_lists_each_set_with_its_reason_then_removes_and_frees_what_no_rule_keeps(engine, home, tree) -> None:
    ids = take_sets(engine, "docs", tree, 5)
    dry = cli(home, "prune", "--store", "docs", "--keep-last", "2", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    decisions = json.loads(dry.stdout)
    listed = json.loads(cli(home, "sets", "docs", "--json").stdout)
    assert [decision["id"] for decision in decisions] == [record["id"] for record in listed] == ids
    assert [(decision["action"], decision["reason"]) for decision in decisions] == [
        ("remove", "no rule keeps it")] * 3 + [("keep", "last #2"), ("keep", "last #1")]
    assert len(engine.catalog.list_sets()) == 5  # a dry run removes nothing
    before = files_in(engine.default_target)
    doomed = sum(os.path.getsize(path) for record in engine.catalog.list_sets()[:3] for path in removal.files_of(record))
    result = cli(home, "prune", "--store", "docs", "--keep-last", "2")
    assert result.returncode == 0, result.stderr
    assert f"removed 3 sets; {human_bytes(doomed)} freed" in result.stdout  # the set files and their sidecars
    assert [record.id for record in engine.catalog.list_sets()] == ids[3:]
    assert files_in(engine.default_target) == catalogued_files(engine) and len(before) == 10
    assert prune(engine, store="docs", overrides=RetentionPolicy(keep_last=2)).removed == 0


def test_a_store_s_saved_policy_is_used_and_a_flag_overrides_it_for_one_run(engine, home, tree) -> None:
    ids = take_sets(engine, "docs", tree, 4)
    assert cli(home, "store", "retention", "docs", "--keep-last", "3").returncode == 0
    assert "keep last 3" in cli(home, "store", "retention", "docs").stdout
    decisions = json.loads(cli(home, "prune", "--dry-run", "--json").stdout)
    assert [decision["action"] for decision in decisions] == ["remove", "keep", "keep", "keep"]
    decisions = json.loads(cli(home, "prune", "--dry-run", "--json", "--keep-last", "1").stdout)
    assert [decision["action"] for decision in decisions] == ["remove", "remove", "remove", "keep"]
    assert [record.id for record in engine.catalog.list_sets()] == ids


def test_a_chain_survives_a_prune_of_everything_but_its_last_incremental(engine, tree) -> None:
    ids = take_sets(engine, "docs", tree, 6, incremental_every=3)  # full inc inc full inc inc
    report = prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1))
    assert [record.id for record in engine.catalog.list_sets()] == ids[3:]
    reasons = {decision.record.id: decision.reason for decision in report.all_decisions}
    assert reasons[ids[3]] == f"kept set {ids[4]} stands on it"
    restore_target = tree.parent / "restored"
    from strongroom.core.restore import RestoreOptions

    job = engine.restore_job("docs", RestoreOptions(to=restore_target), set_id=ids[5])
    assert job.run() == JobState.SUCCEEDED, job.error
    assert (restore_target / "changing.txt").read_text() == "state 5\n" * 6


def test_deleting_a_set_others_stand_on_is_refused_unless_forced_which_deletes_them_too(engine, home, tree) -> None:
    ids = take_sets(engine, "docs", tree, 3, incremental_every=3)  # full inc inc
    refused = cli(home, "sets", "delete", ids[1])
    assert refused.returncode == 1
    assert f"set {ids[1]} is the base of 1 incremental set ({ids[2]})" in refused.stderr
    assert len(engine.catalog.list_sets()) == 3
    forced = cli(home, "sets", "delete", ids[1], "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"also deleting {ids[2]}: it stands on {ids[1]}" in forced.stdout and "deleted 2 sets" in forced.stdout
    assert [record.id for record in engine.catalog.list_sets()] == ids[:1]
    assert files_in(engine.default_target) == catalogued_files(engine)


def test_a_deletion_cut_off_after_its_commit_leaves_no_record_of_a_missing_file_and_is_finished_later(
        engine, tree, monkeypatch) -> None:
    ids = take_sets(engine, "docs", tree, 3)
    real_unlink, calls = os.unlink, []

    def dies_after_one(path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:
            raise KeyboardInterrupt  # stands for the process being killed here
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(removal.os, "unlink", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1))
    monkeypatch.setattr(removal.os, "unlink", real_unlink)
    assert [record.id for record in engine.catalog.list_sets()] == ids[2:]  # the commit point was passed
    assert all(os.path.exists(path) for path in catalogued_files(engine))
    left = files_in(engine.default_target) - catalogued_files(engine)
    assert left and set(engine.catalog.pending_deletions()) >= left
    # the next backup into that folder deletes what the cut-off prune left
    take_sets(engine, "docs", tree, 1)
    assert files_in(engine.default_target) == catalogued_files(engine)
    assert engine.catalog.pending_deletions() == []


PRUNE_LOOP = """
import sys
from strongroom.core.engine import Engine
from strongroom.core.paths import resolve_paths
from strongroom.core.retention.policy import RetentionPolicy
from strongroom.core.retention.prune import prune
print("ready", flush=True)
prune(Engine(resolve_paths(sys.argv[1])), store="docs", overrides=RetentionPolicy(keep_last=int(sys.argv[2])))
"""


@pytest.mark.slow
def test_prunes_killed_at_random_points_leave_the_catalog_and_the_target_consistent(engine, home, tree) -> None:
    take_sets(engine, "docs", tree, 40)
    rng = random.Random(1202)
    killed_mid_way = 0
    for keep in (36, 30, 24, 18, 12, 8, 4, 2):
        child = subprocess.Popen([*CLI[:1], "-c", PRUNE_LOOP, str(home), str(keep)], stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdout.readline() == "ready\n"
        try:
            child.wait(rng.uniform(0.0, 0.25))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            killed_mid_way += 1
        for record in engine.catalog.list_sets():  # every catalogued set is there and whole
            report = verify_set(Path(record.path), lambda size, path: None)
            assert report.ok, (record.id, report.summary())
    report = prune(engine, store="docs", overrides=RetentionPolicy(keep_last=2))
    assert len(engine.catalog.list_sets()) == 2 and report.problems == []
    assert files_in(engine.default_target) == catalogued_files(engine)  # nothing uncatalogued remains
    assert engine.catalog.pending_deletions() == []
    assert killed_mid_way >= 1


def test_a_plan_prunes_the_sets_it_made_after_each_run(engine, tree) -> None:
    book = PlanBook(engine.catalog)
    take_sets(engine, "docs", tree, 1)  # made by hand: the plan's policy does not touch it
    plan = book.add(Plan(name="nightly", stores=("docs",), schedule="daily 02:30", full_every=1,
                         retention=RetentionPolicy(keep_last=2)))
    lines: list[str] = []
    for _ in range(4):
        PlanRunner(engine, book, plan, Trigger.MANUAL, log=lines.append).run()
    made_by = engine.catalog.set_plans()
    plan_sets = [record.id for record in engine.catalog.list_sets() if made_by.get(record.id) == "nightly"]
    assert len(plan_sets) == 2 and len(engine.catalog.list_sets()) == 3
    assert any("plan nightly: pruned 1 set (keep last 2)" in line for line in lines)


def test_pruning_takes_a_mutex_of_its_own_shown_in_locks(engine, home, tree) -> None:
    take_sets(engine, "docs", tree, 2)
    with engine.registry.acquire(PRUNE_MUTEX, MutexOwner("prune-test", "prune", "docs"), timeout=5):
        status = cli_status(home)
        assert status["prune"]["holder"]["job_id"] == "prune-test"
        assert status["prune"]["holder"]["operation"] == "prune"
        outcome: list[BaseException] = []

        def second() -> None:
            try:
                prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1), timeout=0.3)
            except MutexTimeout as error:
                outcome.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(30)
        assert outcome and len(engine.catalog.list_sets()) == 2
        job = engine.backup_job("docs", BackupOptions(verify=False))  # a backup is not held up by a prune
        assert job.run() == JobState.SUCCEEDED
    assert cli_status(home)["prune"]["holder"] is None


def test_a_set_that_failed_verification_is_marked_damaged_and_never_counts_toward_a_rule(engine, home, tree) -> None:
    ids = take_sets(engine, "docs", tree, 3)
    damaged = Path(engine.catalog.get_set(ids[1]).path)
    data = bytearray(damaged.read_bytes())
    data[200] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert cli(home, "verify", ids[1]).returncode == 1
    assert engine.catalog.get_set(ids[1]).damaged
    decisions = {d["id"]: (d["action"], d["reason"]) for d in
                 json.loads(cli(home, "prune", "--store", "docs", "--keep-last", "2", "--dry-run", "--json").stdout)}
    assert decisions[ids[2]] == ("keep", "last #1")
    assert decisions[ids[0]] == ("keep", "last #2")
    assert decisions[ids[1]][0] == "remove" and decisions[ids[1]][1].startswith("damaged: ")


def test_a_set_being_read_is_left_for_the_next_prune_and_a_set_being_deleted_is_not_started_on(engine, tree) -> None:
    from strongroom.core.archive import ArchiveError, SetReader
    from strongroom.core.archive.reader import open_for_reading

    ids = take_sets(engine, "docs", tree, 3)
    first = engine.catalog.get_set(ids[0])
    with SetReader(Path(first.path)):  # a restore or verify of the oldest set is under way
        report = prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1))
        reasons = {decision.record.id: decision.reason for decision in report.all_decisions}
        assert reasons[ids[0]].startswith("being read now (a restore or verify)")
        assert [record.id for record in engine.catalog.list_sets()] == [ids[0], ids[2]]
        assert report.removed == 1
    assert prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1)).removed == 1
    last = engine.catalog.get_set(ids[2])
    fd = removal._lock_alone(last.path)  # as a deletion holds it
    try:
        with pytest.raises(ArchiveError, match="is being deleted"):
            open_for_reading(Path(last.path))
    finally:
        os.close(fd)


def test_a_set_being_read_keeps_the_chain_it_stands_on_through_a_prune(engine, tree) -> None:
    from strongroom.core.archive import SetReader

    ids = take_sets(engine, "docs", tree, 6, incremental_every=3)  # full inc inc full inc inc
    middle = engine.catalog.get_set(ids[1])  # an incremental of the first chain, being restored
    with SetReader(Path(middle.path)):
        prune(engine, store="docs", overrides=RetentionPolicy(keep_last=1))
        left = [record.id for record in engine.catalog.list_sets()]
    assert left[:2] == ids[:2]  # the set being read, and the full set it stands on
    assert ids[2] not in left


def test_plan_commands_save_and_drop_a_retention_policy_and_status_ages(home, tmp_path) -> None:
    tree = make_tree(tmp_path / "t", {"a": "a"})
    cli(home, "store", "add", "t", "--type", "folder", str(tree))
    added = cli(home, "plan", "add", "p", "--store", "t", "--schedule", "hourly", "--keep-last", "24",
                "--keep-daily", "7", "--warn-after", "3H", "--critical-after", "1d")
    assert added.returncode == 0, added.stderr
    (row,) = json.loads(cli(home, "plan", "list", "--json").stdout)["plans"]
    assert (row["retention"], row["warn_after"], row["critical_after"]) == ({"keep_last": 24, "keep_daily": 7},
                                                                            "3H", "1d")
    assert cli(home, "plan", "edit", "p", "--keep-weekly", "4").returncode == 0
    (row,) = json.loads(cli(home, "plan", "list", "--json").stdout)["plans"]
    assert row["retention"] == {"keep_last": 24, "keep_daily": 7, "keep_weekly": 4}
    assert cli(home, "plan", "edit", "p", "--no-retention").returncode == 0
    assert json.loads(cli(home, "plan", "list", "--json").stdout)["plans"][0]["retention"] == {}
    bad = cli(home, "plan", "add", "q", "--store", "t", "--schedule", "hourly", "--keep-within", "soon")
    assert bad.returncode == 1 and "'soon' is not a duration" in bad.stderr
