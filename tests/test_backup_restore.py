"""Folder stores: full and incremental sets, point-in-time restore, destinations and policies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from .trees import make_tree, tree_state

OK = (JobState.SUCCEEDED,)


def backup(engine, name: str, **options) -> str:
    job = engine.backup_job(name, BackupOptions(**options))
    assert job.run() in OK, (job.error, job.warnings)
    return job.set_id


def restore(engine, name: str, **options):
    set_id = options.pop("set_id", "latest")
    job = engine.restore_job(name, RestoreOptions(**options), set_id=set_id)
    job.run()
    return job


@pytest.fixture
def docs(engine, tmp_path: Path) -> Path:
    source = make_tree(tmp_path / "docs", {
        "report.txt": "quarterly figures", "notes/todo.md": "- back up", "notes/old.md": "obsolete",
        "data/blob.bin": os.urandom(3 << 20),
    }, links={"latest": "report.txt", "notes/up": "../report.txt"})
    os.chmod(source / "report.txt", 0o640)
    os.utime(source / "notes/old.md", ns=(1_000_000_000_123_456_789, 1_000_000_000_123_456_789))
    engine.add_store("docs", "folder", str(source))
    return source


def test_a_full_set_restores_byte_for_byte_with_modes_times_and_links(engine, docs: Path, tmp_path: Path) -> None:
    before = tree_state(docs)
    backup(engine, "docs")
    job = restore(engine, "docs", to=tmp_path / "out")
    assert job.state in OK, job.error
    assert tree_state(tmp_path / "out") == before


def test_incremental_sets_hold_only_changes_and_each_point_in_time_restores(engine, docs: Path,
                                                                            tmp_path: Path) -> None:
    first_state = tree_state(docs)
    first = backup(engine, "docs")
    (docs / "report.txt").write_text("revised figures")
    (docs / "notes/old.md").unlink()
    (docs / "notes/new.md").write_text("new")
    second_state = tree_state(docs)
    second = backup(engine, "docs", incremental=True)
    third = backup(engine, "docs", incremental=True)

    manifest = engine.load_manifest(engine.catalog.get_set(second))
    assert manifest.kind == "incremental" and manifest.parent == first
    own_files = sorted(entry.path for entry in manifest.own_entries if entry.type == "file")
    assert own_files == ["notes/new.md", "report.txt"]
    assert tuple(manifest.deleted) == ("notes/old.md",)
    third_manifest = engine.load_manifest(engine.catalog.get_set(third))
    assert [entry for entry in third_manifest.own_entries if entry.type == "file"] == []

    for set_id, expected in ((first, first_state), (second, second_state), (third, second_state)):
        out = tmp_path / f"out-{set_id}"
        job = restore(engine, "docs", set_id=set_id, to=out)
        assert job.state in OK, job.error
        assert tree_state(out) == expected, set_id


def test_an_incremental_without_a_parent_is_full(engine, docs: Path) -> None:
    set_id = backup(engine, "docs", incremental=True)
    assert engine.catalog.get_set(set_id).kind == "full"


def test_restore_to_another_folder_lands_relative_to_it(engine, docs: Path, tmp_path: Path) -> None:
    backup(engine, "docs")
    out = tmp_path / "elsewhere"
    job = restore(engine, "docs", to=out, paths=("notes",))
    assert job.state in OK, job.error
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "notes", "notes/old.md", "notes/todo.md", "notes/up"]
    assert not any(str(docs).strip("/") in str(path) for path in out.rglob("*"))  # never re-nested


def test_restore_in_place_never_overwrites_by_default(engine, docs: Path) -> None:
    backup(engine, "docs")
    (docs / "report.txt").write_text("edited after the backup")
    (docs / "notes/todo.md").unlink()
    job = restore(engine, "docs")
    assert job.state == JobState.WARNINGS
    assert (docs / "report.txt").read_text() == "edited after the backup"
    assert (docs / "notes/todo.md").read_text() == "- back up"  # missing files come back
    assert any("kept" in warning and "the overwrite policy if-older or always" in warning for warning in job.warnings)


def test_overwrite_if_older_and_always(engine, docs: Path) -> None:
    backup(engine, "docs")
    (docs / "report.txt").write_text("newer edit")
    (docs / "notes/todo.md").write_text("older edit")
    os.utime(docs / "notes/todo.md", ns=(10**18, 10**18))  # 2001: older than the set's copy
    job = restore(engine, "docs", overwrite="if-older")
    assert job.state == JobState.WARNINGS
    assert (docs / "report.txt").read_text() == "newer edit"
    assert (docs / "notes/todo.md").read_text() == "- back up"
    job = restore(engine, "docs", overwrite="always")
    assert job.state in OK, job.error
    assert (docs / "report.txt").read_text() == "quarterly figures"


def test_dry_run_lists_exact_destinations_and_writes_nothing(engine, docs: Path, tmp_path: Path) -> None:
    backup(engine, "docs")
    out = tmp_path / "dry"
    job = restore(engine, "docs", to=out, dry_run=True)
    assert job.state in OK
    assert not out.exists()
    lines = list(job.plan.lines())
    assert any(line.startswith("create") and line.split()[1] == str(out / "notes" / "todo.md") for line in lines)
    assert len(lines) == len(engine.load_manifest(engine.catalog.get_set(job.set_id)).entries)


def test_a_link_in_the_destination_is_never_written_through(engine, docs: Path, tmp_path: Path) -> None:
    backup(engine, "docs")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "notes")
    job = restore(engine, "docs", to=out)
    assert job.state == JobState.FAILED
    assert "is a link" in job.error and str(out / "notes") in job.error
    assert list(outside.iterdir()) == []


def test_a_destination_that_cannot_be_written_gets_a_clear_message(engine, docs: Path, tmp_path: Path) -> None:
    backup(engine, "docs")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    job = restore(engine, "docs", to=blocker / "sub")
    assert job.state == JobState.FAILED
    assert "cannot write to the restore destination" in job.error
    from strongroom.core.remedies import Remedy

    assert job.fix is not None and job.fix.remedy == Remedy.RESTORE_ELSEWHERE  # the front end says "--to" or "Back"


def test_an_unknown_path_and_an_unknown_set_are_named(engine, docs: Path) -> None:
    backup(engine, "docs")
    job = restore(engine, "docs", paths=("no/such",))
    assert job.state == JobState.FAILED and "'no/such' is not in set" in job.error
    job = restore(engine, "docs", set_id="docs-nope")
    assert job.state == JobState.FAILED and "no backup set 'docs-nope'" in job.error


def test_a_damaged_set_fails_the_restore_and_names_the_member(engine, docs: Path, tmp_path: Path) -> None:
    set_id = backup(engine, "docs")
    path = Path(engine.catalog.get_set(set_id).path)
    manifest = engine.load_manifest(engine.catalog.get_set(set_id))
    blob = next(entry for entry in manifest.entries if entry.path == "data/blob.bin")
    data = bytearray(path.read_bytes())
    data[blob.frame_offset + 100_000] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    job = restore(engine, "docs", to=out)
    assert job.state == JobState.FAILED
    assert "data/blob.bin" in job.error and "damaged" in job.error
    assert not (out / "data" / "blob.bin").exists()  # nothing half-written is left in place
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]


def test_a_truncated_set_fails_the_restore_with_a_clear_message(engine, docs: Path, tmp_path: Path) -> None:
    set_id = backup(engine, "docs")
    path = Path(engine.catalog.get_set(set_id).path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    job = restore(engine, "docs", to=tmp_path / "out")
    assert job.state == JobState.FAILED
    assert "damaged" in job.error and "data/blob.bin" in job.error
    assert not (tmp_path / "out" / "data" / "blob.bin").exists()


def test_one_file_restores_into_a_new_folder_with_the_folders_above_it(engine, docs: Path, tmp_path: Path) -> None:
    backup(engine, "docs")
    out = tmp_path / "new" / "place"
    job = restore(engine, "docs", to=out, paths=("notes/todo.md",))
    assert job.state == JobState.SUCCEEDED, job.error
    assert (out / "notes" / "todo.md").read_text() == "- back up"
    assert [path.name for path in out.rglob("*")] == ["notes", "todo.md"]


def test_one_name_of_a_hard_link_restores_with_its_data(engine, docs: Path, tmp_path: Path) -> None:
    os.link(docs / "report.txt", docs / "notes" / "second-name.txt")
    backup(engine, "docs")
    out = tmp_path / "out"
    job = restore(engine, "docs", to=out, paths=("notes/second-name.txt",))
    assert job.state == JobState.SUCCEEDED, job.error
    assert (out / "notes" / "second-name.txt").read_text() == "quarterly figures"
    assert not (out / "report.txt").exists()


def test_the_progress_count_in_a_child_process_merges_with_the_parent_set(engine, docs: Path) -> None:
    import threading

    from strongroom.core.stores.folder import unchanged_since
    from strongroom.core.stores.folder_count import BackgroundCount

    first = backup(engine, "docs")
    (docs / "report.txt").write_text("revised figures, longer")
    parent = engine.load_manifest(engine.catalog.get_set(first))
    answered, totals = threading.Event(), []
    count = BackgroundCount(docs, parent, unchanged_since, lambda files, size: (totals.append((files, size)),
                                                                           answered.set()))
    try:
        # A spawned child answers in about 0.3 s; the forked child it replaced once crashed in its first
        # garbage collection and left this wait to time out.
        assert answered.wait(60)
    finally:
        count.stop()
    assert totals == [(1, len("revised figures, longer"))]  # only the changed file is to be read
