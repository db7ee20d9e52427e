"""A real `strongroom agent` process: catch-up at start, one per home, plans picked up, clean stop, mutexes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from strongroom.core.catalog import Catalog
from strongroom.core.jobs import BackupOptions, JobListener, JobState
from strongroom.core.plans.plan_book import PlanBook

from .conftest import CLI, cli, cli_status, wait_until
from .trees import make_tree

pytestmark = pytest.mark.timeout(120)


def start_agent(home: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "--home", str(home), "agent", "--poll", "0.2"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop_agent(agent: subprocess.Popen, timeout: float = 20) -> str:
    agent.send_signal(signal.SIGTERM)
    output, _ = agent.communicate(timeout=timeout)
    return output


def make_overdue(home: Path, plan: str) -> None:
    """As if the plan's last slot was handled long ago (the machine was off since)."""
    with sqlite3.connect(home / "catalog.sqlite") as connection:
        connection.execute("UPDATE plans SET handled_slot = '2020-01-01T00:00:00.000Z' WHERE name = ?", (plan,))


def add_plan(home: Path, name: str, *stores: str, extra: tuple[str, ...] = ()) -> None:
    store_args = [arg for store in stores for arg in ("--store", store)]
    result = cli(home, "plan", "add", name, *store_args, "--schedule", "daily 02:30", "--timezone", "UTC", *extra)
    assert result.returncode == 0, result.stderr


def last_run(home: Path, plan: str):
    return PlanBook(Catalog(home / "catalog.sqlite")).last_run(plan)


@pytest.fixture
def tree(home: Path, tmp_path: Path) -> Path:
    path = make_tree(tmp_path / "tree", {"a.txt": "alpha", "sub/b.txt": "beta"})
    assert cli(home, "store", "add", "tree", "--type", "folder", str(path)).returncode == 0
    return path


def test_an_agent_catches_up_a_missed_run_refuses_a_second_agent_and_picks_up_new_plans(home, tmp_path, tree):
    add_plan(home, "nightly", "tree")
    make_overdue(home, "nightly")
    agent = start_agent(home)
    try:
        done = wait_until(lambda: (run := last_run(home, "nightly")) is not None and run.finished and run, 30)
        assert (done.trigger, done.result) == ("catch-up", "succeeded")
        second = cli(home, "agent")
        assert second.returncode == 1
        assert f"another agent already runs the plans of {home} (pid {agent.pid} on " in second.stderr
        status = cli(home, "agent", "--status")
        assert status.returncode == 0 and f"the agent runs (pid {agent.pid}" in status.stdout
        assert "next: plan nightly at " in status.stdout
        assert f"agent: the agent runs (pid {agent.pid} on " in cli(home, "locks").stdout
        assert f"the agent runs (pid {agent.pid}" in cli(home, "plan", "list").stdout

        other = make_tree(tmp_path / "other", {"c.txt": "gamma"})
        cli(home, "store", "add", "other", "--type", "folder", str(other))
        add_plan(home, "later", "other")  # by another process, while the agent runs
        make_overdue(home, "later")
        wait_until(lambda: (run := last_run(home, "later")) is not None and run.result == "succeeded", 30)
    finally:
        output = stop_agent(agent)
    assert agent.returncode == 0, output
    assert "plan nightly: catching up the run due at" in output and "agent stopped" in output
    assert "plan later: run" in output
    jobs = json.loads(cli(home, "jobs", "--json").stdout)
    assert sorted(job["plan"] for job in jobs) == ["later", "nightly"]
    assert cli(home, "agent", "--status").returncode == 3


def test_sigterm_during_a_running_job_leaves_no_partial_set_and_a_free_mutex(home, tmp_path):
    slow = make_tree(tmp_path / "slow", {"noise.bin": os.urandom(48 << 20)})
    cli(home, "store", "add", "slow", "--type", "folder", str(slow))
    add_plan(home, "heavy", "slow", extra=("--level", "19"))
    make_overdue(home, "heavy")
    agent = start_agent(home)
    catalog = Catalog(home / "catalog.sqlite")
    try:
        wait_until(lambda: any(job.state == "running" and job.plan == "heavy" for job in catalog.list_jobs()), 30)
    finally:
        output = stop_agent(agent)
    assert agent.returncode == 0, output
    assert "stopping: cancelling 1 running plan" in output
    job = catalog.list_jobs()[0]
    assert job.state == "cancelled" and job.set_id is None
    assert catalog.list_sets() == []
    leftovers = [path for path in (home / "backups").rglob("*") if path.is_file()]
    assert leftovers == []
    assert cli_status(home)["folder"]["holder"] is None
    assert last_run(home, "heavy").result == "cancelled"


class HoldInside(JobListener):
    """Keeps a console job inside its store (its mutex held) until ``leave`` is set."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.leave = threading.Event()

    def job_state(self, job, state) -> None:
        if state == JobState.RUNNING and not self.inside.is_set():
            self.inside.set()
            assert self.leave.wait(60), "the test never let the job go on"


def console_job(engine, store: str, listener: HoldInside):
    job = engine.backup_job(store, BackupOptions(verify=False))
    job.add_listener(listener)
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    assert listener.inside.wait(30)
    return job, thread


def test_a_console_job_and_an_agent_job_of_one_store_type_take_turns(engine, home, tree, tmp_path):
    engine.add_store("mine", "folder", str(make_tree(tmp_path / "mine", {"m.txt": "mine"})))
    listener = HoldInside()
    job, thread = console_job(engine, "mine", listener)
    add_plan(home, "nightly", "tree")
    make_overdue(home, "nightly")
    agent = start_agent(home)
    catalog = engine.catalog
    try:
        wait_until(lambda: any(record.plan == "nightly" and record.state == "waiting" for record in
                               catalog.list_jobs()), 30)
        listener.leave.set()
        thread.join(30)
        wait_until(lambda: (run := last_run(home, "nightly")) is not None and run.result == "succeeded", 30)
    finally:
        listener.leave.set()
        stop_agent(agent)
    agent_job = next(record for record in catalog.list_jobs() if record.plan == "nightly")
    ours = catalog.get_job(job.id)
    (took, gave), = ours.holds
    (agent_took, _), = agent_job.holds
    assert agent_took >= gave  # the agent's folder job got the folder mutex only after ours gave it back


def test_a_console_job_and_an_agent_job_of_two_store_types_overlap(engine, home, tree, tmp_path):
    database = tmp_path / "db.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
    engine.add_store("db", "sqlite", str(database))
    listener = HoldInside()
    job, thread = console_job(engine, "db", listener)  # holds the sqlite mutex until the agent's job is done
    add_plan(home, "nightly", "tree")
    make_overdue(home, "nightly")
    agent = start_agent(home)
    try:
        # the agent's folder job finishes while ours still holds the sqlite mutex: proof by construction
        wait_until(lambda: (run := last_run(home, "nightly")) is not None and run.result == "succeeded", 30)
        assert not listener.leave.is_set() and thread.is_alive()
    finally:
        listener.leave.set()
        thread.join(30)
        stop_agent(agent)
    assert job.state == JobState.SUCCEEDED
