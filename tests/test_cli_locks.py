"""The `strongroom` command line: version, usage errors, locks status, with and break."""

from __future__ import annotations

import json
import sys
import time

from strongroom.core import __version__
from strongroom.core.cli.locks import render_status
from strongroom.core.mutex import MutexOwner, MutexStatus

from .conftest import cli, cli_status, fake_record


def test_version(home):
    result = cli(home, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"strongroom {__version__}"


def test_usage_errors_exit_2_with_one_line(home):
    for args in (["frobnicate"], ["locks", "--bogus"], ["locks", "with", "folder"], ["locks", "with", "nosuch", "--", "true"],
                 ["locks", "--", "ls"], ["locks", "--interval", "0", "--watch"], []):
        result = cli(home, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert result.stderr.startswith("strongroom: error: ")


def test_locks_json_has_the_documented_shape(home, registry):
    with registry.acquire("folder", MutexOwner("j9", "verify", "photos"), timeout=1):
        entries = json.loads(cli(home, "locks", "--json").stdout)
    assert [e["name"] for e in entries] == ["strongroom.folder", "strongroom.mariadb", "strongroom.postgresql",
                                            "strongroom.sqlite"]  # every registered type, by name
    folder = entries[0]
    assert set(folder) == {"name", "store_type", "state", "holder", "waiters"}
    assert folder["state"] == "held" and folder["waiters"] == []
    assert set(folder["holder"]) == {"job_id", "operation", "store", "host", "pid", "thread", "since"}
    assert folder["holder"]["job_id"] == "j9" and folder["holder"]["operation"] == "verify"
    assert all(entry["holder"] is None and entry["state"] == "free" for entry in entries[1:])


def test_locks_text_names_holder_and_state(home, registry):
    with registry.acquire("sqlite", MutexOwner("j3", "backup", "ledger"), timeout=1):
        text = cli(home, "locks").stdout
    states = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.startswith("strongroom.")}
    assert states == {"strongroom.folder": "free", "strongroom.mariadb": "free", "strongroom.postgresql": "free",
                      "strongroom.sqlite": "held"}
    assert "job j3" in text and "store 'ledger'" in text


def test_render_status_lists_waiters_in_order():
    status = MutexStatus("strongroom.folder", "folder", "held", fake_record("folder", job_id="h"),
                         (fake_record("folder", job_id="w1"), fake_record("folder", job_id="w2")))
    lines = render_status([status], now=time.time()).splitlines()
    assert lines[0].startswith("strongroom.folder  held  job h")
    assert "waiting #1: job w1" in lines[1] and "waiting #2: job w2" in lines[2]


def test_locks_watch_refreshes_a_given_number_of_times(home):
    result = cli(home, "locks", "--watch", "--count", "3", "--interval", "0.05")
    assert result.returncode == 0 and result.stdout.count("strongroom.folder") == 3


def test_locks_with_passes_the_exit_code_and_holds_meanwhile(home):
    probe = f"{sys.executable} -m strongroom.core.cli.main --home {home} locks --json"
    result = cli(home, "locks", "with", "folder", "--", "sh", "-c", f"{probe}; exit 7")
    assert result.returncode == 7
    seen = {e["store_type"]: e for e in json.loads(result.stdout)}
    assert seen["folder"]["holder"]["operation"] == "hold"
    assert cli_status(home)["folder"]["state"] == "free"


def test_locks_with_times_out_with_exit_75_naming_the_holder(home, registry):
    with registry.acquire("folder", MutexOwner("busy-job", "backup", "docs"), timeout=1):
        result = cli(home, "locks", "with", "folder", "--timeout", "0.2", "--", "true")
    assert result.returncode == 75
    assert "busy-job" in result.stderr and "timed out after 0.2 s" in result.stderr


def test_locks_with_reports_a_missing_command(home):
    result = cli(home, "locks", "with", "folder", "--", "/no/such/program")
    assert result.returncode == 127 and "/no/such/program" in result.stderr


def test_locks_break_on_a_free_mutex_does_nothing(home):
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 0 and "nothing to break" in result.stdout


def test_locks_break_clears_an_unreadable_record(home, lockdir):
    lockdir.ensure()
    lockdir.holder_path("folder").write_text("garbage")
    assert cli_status(home)["folder"]["state"] == "unknown"
    result = cli(home, "locks", "break", "folder", "--force")
    assert result.returncode == 0 and "unreadable" in result.stdout
    assert cli_status(home)["folder"]["state"] == "free"


def test_locks_break_without_an_answer_breaks_nothing(home, lockdir):
    lockdir.ensure()
    path = lockdir.holder_path("folder")
    from strongroom.core.mutex.records import write_record

    write_record(path, fake_record("folder", host="elsewhere"), 0o600)
    result = cli(home, "locks", "break", "folder", stdin=__import__("subprocess").DEVNULL)
    assert result.returncode == 1 and path.exists()
