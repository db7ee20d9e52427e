"""A restore that does not fit: refused before the first byte when it cannot fit, named 'full' when the space
goes while it runs, and never leaving a partial file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions, apply

from .trees import make_tree


@pytest.fixture
def big(engine, tmp_path: Path) -> str:
    make_tree(tmp_path / "big", {"one.bin": os.urandom(1 << 20), "two.bin": os.urandom(2 << 20), "note": "n"})
    engine.add_store("big", "folder", str(tmp_path / "big"))
    job = engine.backup_job("big", BackupOptions())
    assert job.run() == JobState.SUCCEEDED, job.error
    return job.set_id


def partial_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(".partial")]


def test_a_restore_larger_than_the_free_space_is_refused_before_writing(engine, big, small_disk: Path) -> None:
    job = engine.restore_job("big", RestoreOptions(to=small_disk / "out"))
    assert job.run() == JobState.FAILED
    assert "has 2.0 MiB free, but this restore writes 3.0 MiB" in job.error, job.error
    assert list(small_disk.iterdir()) == []


def test_a_destination_filling_up_mid_restore_is_named_full_and_keeps_no_partial_file(engine, big, small_disk: Path,
                                                                                      monkeypatch) -> None:
    monkeypatch.setattr(apply, "check_free_space", lambda plan: None)  # as if the space went after the check
    job = engine.restore_job("big", RestoreOptions(to=small_disk / "out"))
    assert job.run() == JobState.FAILED
    assert "is full (No space left on device)" in job.error
    from strongroom.core.remedies import Remedy, cli_words

    assert job.fix.remedy == Remedy.RESTORE_ELSEWHERE and "on another file system if it is full" in cli_words(job.fix)
    assert partial_files(small_disk) == []


def test_the_free_space_a_sparse_file_needs_is_its_data(tmp_path: Path) -> None:
    from strongroom.core.archive import Entry, SetManifest
    from strongroom.core.archive.entries import EntryList
    from strongroom.core.restore import RestoreOptions, build_plan
    from strongroom.core.stores import driver_for

    sparse = Entry(path="disk.img", type="file", mode=0o644, mtime_ns=0, size=9 << 30, sparse=((0, 4096),),
                   sha256="0" * 64, set_id="s")
    manifest = SetManifest(set_id="s", store="s", store_type="folder", kind="full", parent=None, created="c",
                           source="/src", entries=EntryList([sparse]))
    plan = build_plan(manifest, driver_for("folder"), Path("/src"), RestoreOptions(to=tmp_path / "out"))
    assert plan.bytes_to_write == 4096
    apply.check_free_space(plan)  # 9 GiB of holes fit anywhere
