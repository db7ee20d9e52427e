"""Jobs, the CLI and the console agree on which errors are the user's to act on, and report a bug as a bug."""

from __future__ import annotations

import os

import pytest

from strongroom.core.cli.main import EXIT_FAILED, main
from strongroom.core.invalid_value import InvalidValue
from strongroom.core.jobs import JobState
from strongroom.core.jobs.backup import BackupJob
from strongroom.core.mutex import LockDirectoryError
from strongroom.core.notify.config import NotifyError
from strongroom.core.plans.plan import PlanError
from strongroom.core.plans.schedule import ScheduleError
from strongroom.core.remedies import Fix, Remedy, cli_words
from strongroom.core.retention.policy import RetentionError
from strongroom.core.settings import SettingsError
from strongroom.core.store_types import StoreTypeError

from .conftest import cli

REFUSED = [InvalidValue, StoreTypeError, SettingsError, PlanError, ScheduleError, RetentionError, NotifyError]


def failing_backup(engine, monkeypatch, error: Exception):
    """A backup of ``docs`` whose work raises ``error``, run to its end."""
    def execute(_job) -> None:
        raise error

    monkeypatch.setattr(BackupJob, "_execute", execute)
    job = engine.backup_job("docs")
    job.run()
    return job


@pytest.mark.parametrize("kind", REFUSED + [LockDirectoryError], ids=lambda kind: kind.__name__)
def test_a_job_fails_with_the_message_of_an_error_meant_for_the_user(engine, docs, monkeypatch, kind) -> None:
    # Before one list, a SettingsError or PlanError in a job read "unexpected error ... please report this",
    # and a LockDirectoryError "a file: ..."; the console showed both as plain messages.
    job = failing_backup(engine, monkeypatch, kind("the lock folder /x is not safe: make it 0700"))
    assert job.state is JobState.FAILED
    assert job.error == "the lock folder /x is not safe: make it 0700"
    assert engine.catalog.get_job(job.id).error == job.error


def test_a_value_error_from_a_bug_fails_the_job_as_a_bug_with_a_request_to_report_it(engine, docs, monkeypatch,
                                                                                   caplog) -> None:
    job = failing_backup(engine, monkeypatch, ValueError("invalid literal for int() with base 10: 'x'"))
    assert job.state is JobState.FAILED
    assert job.error.startswith("unexpected error: ValueError(") and "please report this" in job.error
    assert "Traceback" in caplog.text or any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("kind", REFUSED, ids=lambda kind: kind.__name__)
def test_the_console_shows_a_refused_value_as_its_message_and_a_bare_value_error_as_a_bug(qapp, kind) -> None:
    from strongroom.gui.messages import error_text

    assert error_text(kind("retention: keep-daily must be 0 or more")) == "retention: keep-daily must be 0 or more"
    assert error_text(ValueError("math domain error")).startswith("unexpected error: ValueError(")


def test_the_cli_prints_a_refused_value_as_a_one_line_error(home) -> None:
    result = cli(home, "store", "list", env={**os.environ, "STRONGROOM_LOCK_SCOPE": "planet"})
    assert result.returncode == EXIT_FAILED
    assert result.stderr.strip() == "strongroom: unknown lock scope 'planet'; use one of: user, machine"


def test_the_cli_lets_a_value_error_from_a_bug_through_with_its_traceback(home, monkeypatch) -> None:
    import strongroom.core.cli.stores as stores_command

    def broken(*_args, **_kwargs):
        raise ValueError("not enough values to unpack (expected 2, got 1)")

    monkeypatch.setattr(stores_command, "list_stores", broken)
    with pytest.raises(ValueError, match="not enough values to unpack"):
        main(["--home", str(home), "store", "list"])


@pytest.mark.parametrize("remedy", list(Remedy), ids=lambda remedy: remedy.value)
def test_every_fix_has_words_on_the_command_line_and_in_the_console_and_the_console_names_no_flag(qapp, remedy) -> None:
    from strongroom.gui.messages import console_words

    fix = Fix(remedy, {"type": "folder", "what": "/srv/x", "name": "nightly", "store": "docs", "set": "docs-1"})
    said = console_words(fix)
    assert cli_words(fix) and said
    assert "--" not in said and "strongroom " not in said and "{" not in said, said
