"""Running a plan: its jobs, the full/incremental cadence, and its before and after commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from strongroom.core.jobs import JobState
from strongroom.core.plans.hooks import run_hook
from strongroom.core.plans.plan import Hook, Plan, PlanError
from strongroom.core.plans.plan_book import PlanBook, Trigger
from strongroom.core.plans.plan_run import PlanRunner

from .conftest import cli, wait_until
from .trees import make_tree


@pytest.fixture
def book(engine) -> PlanBook:
    return PlanBook(engine.catalog)


@pytest.fixture
def two_stores(engine, tmp_path: Path) -> tuple[Path, Path]:
    first = make_tree(tmp_path / "first", {"a.txt": "alpha", "sub/b.txt": "beta"})
    second = make_tree(tmp_path / "second", {"c.txt": "gamma"})
    engine.add_store("first", "folder", str(first))
    engine.add_store("second", "folder", str(second))
    return first, second


def run(engine, book: PlanBook, plan: Plan, trigger: str = Trigger.MANUAL):
    lines: list[str] = []
    outcome = PlanRunner(engine, book, plan, trigger, log=lines.append).run()
    return outcome, lines


def test_a_plan_backs_up_each_store_and_every_job_records_the_plan(engine, book, two_stores) -> None:
    plan = book.add(Plan(name="nightly", stores=("first", "second"), schedule="daily 02:30"))
    outcome, _ = run(engine, book, plan)
    assert outcome.state == JobState.SUCCEEDED
    assert {job.store_name for job in outcome.jobs} == {"first", "second"}
    records = [engine.catalog.get_job(job.id) for job in outcome.jobs]
    assert {record.plan for record in records} == {"nightly"}
    assert all(record.set_id for record in records)
    assert book.last_run("nightly").result == "succeeded"


def test_every_nth_run_of_a_store_is_a_full_set_and_the_others_incremental(engine, book, two_stores) -> None:
    plan = book.add(Plan(name="p", stores=("first",), schedule="hourly", full_every=3))
    kinds = []
    for _ in range(5):
        outcome, _ = run(engine, book, plan)
        kinds.append(engine.catalog.get_set(outcome.jobs[0].set_id).kind)
    assert kinds == ["full", "incremental", "incremental", "full", "incremental"]


def test_a_chain_limit_starts_a_full_set_before_full_every_would(engine, book, two_stores) -> None:
    plan = book.add(Plan(name="p", stores=("first",), schedule="hourly", full_every=100, max_chain=1))
    kinds = [engine.catalog.get_set(run(engine, book, plan)[0].jobs[0].set_id).kind for _ in range(4)]
    assert kinds == ["full", "incremental", "full", "incremental"]


def test_a_failing_before_command_fails_every_job_and_the_after_command_still_runs(
        engine, book, two_stores, tmp_path) -> None:
    report = tmp_path / "after.txt"
    plan = book.add(Plan(name="p", stores=("first", "second"), schedule="hourly",
                         before=(Hook("echo stopping the service; exit 3"),),
                         after=(Hook(f'echo "$STRONGROOM_RESULT [$STRONGROOM_SETS]" > {report}'),)))
    outcome, lines = run(engine, book, plan)
    assert outcome.state == JobState.FAILED
    for job in outcome.jobs:
        assert job.state == JobState.FAILED and job.set_id is None
        assert "the before command 'echo stopping the service; exit 3' exited with status 3; the backup did not run" \
            in job.error
        record = engine.catalog.get_job(job.id)
        assert any(line.endswith("  before 1| stopping the service") for line in record.log)
    assert engine.catalog.list_sets() == []
    assert report.read_text() == "failed []\n"
    assert book.last_run("p").result == "failed"


def test_an_optional_before_command_that_fails_leaves_a_warning_and_the_backup_goes_on(
        engine, book, two_stores) -> None:
    plan = book.add(Plan(name="p", stores=("first",), schedule="hourly", before=(Hook("false", optional=True),)))
    outcome, _ = run(engine, book, plan)
    job = outcome.jobs[0]
    assert job.state == JobState.WARNINGS and job.set_id
    assert any("the before command 'false' exited with status 1 (it is optional" in warning for warning in job.warnings)


def test_the_after_command_gets_the_result_and_the_new_sets_and_its_failure_is_a_warning(
        engine, book, two_stores, tmp_path) -> None:
    report = tmp_path / "after.txt"
    plan = book.add(Plan(name="p", stores=("first", "second"), schedule="hourly",
                         after=(Hook(f'echo "$STRONGROOM_PLAN $STRONGROOM_RESULT $STRONGROOM_SETS" > {report}; '
                                     "echo restarted; exit 4"),)))
    outcome, _ = run(engine, book, plan)
    name, result, *sets = report.read_text().split()
    assert (name, result) == ("p", "succeeded")
    assert sorted(sets) == sorted(job.set_id for job in outcome.jobs)
    for job in outcome.jobs:
        record = engine.catalog.get_job(job.id)
        assert record.state == "succeeded-with-warnings"
        assert any(line.endswith("  after 1| restarted") for line in record.log)
        assert any("exited with status 4" in warning for warning in record.warnings)


def test_a_command_past_its_timeout_is_killed_with_everything_it_started(tmp_path) -> None:
    import threading

    marker = tmp_path / "grandchild.pid"
    lines: list[str] = []
    began = time.monotonic()
    outcome = run_hook(Hook(f"sleep 60 & echo $! > {marker}; wait", timeout=0.5), "before 1", {}, lines.append,
                       threading.Event())
    assert not outcome.ok and outcome.message == "timed out after 0.5 s and was killed"
    assert time.monotonic() - began < 10
    grandchild = int(marker.read_text())

    def ended() -> bool:  # gone, or a zombie waiting for its reaper
        try:
            return Path(f"/proc/{grandchild}/stat").read_text().split()[2] == "Z"
        except FileNotFoundError:
            return True

    wait_until(ended, timeout=10)  # fails the test if the command's own child outlived the timeout


def test_a_store_that_no_longer_exists_fails_the_run_but_not_the_other_stores(engine, book, two_stores) -> None:
    plan = book.add(Plan(name="p", stores=("first", "second"), schedule="hourly"))
    engine.catalog.remove_store("second")
    outcome, lines = run(engine, book, plan)
    assert outcome.state == JobState.FAILED
    assert [job.store_name for job in outcome.jobs] == ["first"] and outcome.jobs[0].set_id
    assert "second: there is no store called 'second'" in outcome.problems[0]


def test_a_plan_naming_an_unknown_store_or_a_bad_schedule_is_refused(book, two_stores) -> None:
    with pytest.raises(PlanError, match="there is no store called 'nope'"):
        book.add(Plan(name="p", stores=("first", "nope"), schedule="hourly"))
    with pytest.raises(PlanError, match="plan p: 'every day' is not a schedule"):
        book.add(Plan(name="p", stores=("first",), schedule="every day"))
    with pytest.raises(PlanError, match="a store is named twice"):
        book.add(Plan(name="p", stores=("first", "first"), schedule="hourly"))
    with pytest.raises(PlanError, match="unknown time zone 'Mars/Olympus'"):
        book.add(Plan(name="p", stores=("first",), schedule="hourly", timezone="Mars/Olympus"))


def test_the_plan_commands_add_list_edit_run_and_remove(home: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "alpha"})
    assert cli(home, "store", "add", "t", "--type", "folder", str(tree)).returncode == 0
    added = cli(home, "plan", "add", "nightly", "--store", "t", "--schedule", "daily 02:30", "--timezone", "UTC",
                "--full-every", "3", "--exclude", "*.tmp", "--max-size", "2G", "--after", "true")
    assert added.returncode == 0, added.stderr
    assert "added plan 'nightly': t, daily at 02:30; next run" in added.stdout
    assert "no agent runs" in added.stdout
    ran = cli(home, "plan", "run", "nightly", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)[0]["state"] == "succeeded"
    jobs = json.loads(cli(home, "jobs", "--json").stdout)
    assert jobs[0]["plan"] == "nightly"
    edited = cli(home, "plan", "edit", "nightly", "--schedule", "weekly mon,fri 21:15", "--no-excludes")
    assert edited.returncode == 0, edited.stderr
    listing = json.loads(cli(home, "plan", "list", "--json").stdout)
    row = listing["plans"][0]
    assert (row["schedule"], row["schedule_text"], row["excludes"], row["max_file_size"]) == (
        "15 21 * * mon,fri", "weekly on mon, fri at 21:15", [], None)
    assert row["last_run"]["result"] == "succeeded" and row["last_run"]["trigger"] == "manual"
    assert row["next_run"] and listing["agent"] is None
    text = cli(home, "plan", "list").stdout
    assert "nightly  [t]  weekly on mon, fri at 21:15  — next " in text and "succeeded (manual)" in text
    assert cli(home, "plan", "disable", "nightly").returncode == 0
    assert "— disabled;" in cli(home, "plan", "list").stdout
    removed = cli(home, "plan", "remove", "nightly")
    assert removed.returncode == 0 and "its sets and job history are kept" in removed.stdout
    assert len(json.loads(cli(home, "sets", "--json").stdout)) == 1


@pytest.mark.parametrize(("args", "words"), [
    (["--schedule", "sometimes"], "'sometimes' is not a schedule"),
    (["--schedule", "daily 24:00"], "'24:00' is not a time of day"),
    (["--schedule", "hourly", "--max-size", "lots"], "'lots' is not a size"),
    (["--schedule", "hourly", "--full-every", "0"], "must be 1 or more"),
])
def test_a_plan_command_with_a_bad_value_says_what_is_wrong(home: Path, tmp_path: Path, args, words) -> None:
    tree = make_tree(tmp_path / "tree", {"a.txt": "alpha"})
    cli(home, "store", "add", "t", "--type", "folder", str(tree))
    result = cli(home, "plan", "add", "p", "--store", "t", *args)
    assert result.returncode in (1, 2) and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
