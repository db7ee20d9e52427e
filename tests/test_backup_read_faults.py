"""Faults while walking and reading a store: each costs one item, named in a warning, never the backup.

Sockets, unreadable and vanishing files, files that change while they are read, folders
swapped for links under the walk, names that would break a line of output.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from strongroom.core.archive import SetWriter
from strongroom.core.jobs import JobState
from strongroom.core.stores import folder

from .conftest import run_backup


def test_sockets_are_skipped_with_a_warning_and_fifos_kept(engine, docs: Path) -> None:
    os.mkfifo(docs / "pipe")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(docs / "sock"))
        job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    assert [warning for warning in job.warnings if "sock" in warning] == [
        "sock: a socket; skipped (sockets and devices are not backed up)"]
    entries = {entry.path: entry for entry in engine.load_manifest(engine.catalog.get_set(job.set_id)).entries}
    assert "sock" not in entries and entries["pipe"].type == "fifo"


def open_hook(monkeypatch, name: str, before) -> None:
    """Run ``before(dir_fd, name)`` each time the backup opens the file called ``name``."""
    real_open = os.open

    def hooked(path, flags, mode=0o777, *, dir_fd=None):
        if os.fsdecode(path).endswith(name):
            before(dir_fd, path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(folder.os, "open", hooked)


def test_an_unreadable_file_is_skipped_with_a_warning(engine, docs: Path, monkeypatch) -> None:
    def deny(dir_fd, path):
        raise PermissionError(13, "Permission denied", path)

    open_hook(monkeypatch, "b.txt", deny)  # chmod 000 does not stop root, who runs CI
    job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    assert any(warning.startswith("b.txt: unreadable (Permission denied)") for warning in job.warnings)
    paths = {entry.path for entry in engine.load_manifest(engine.catalog.get_set(job.set_id)).entries}
    assert paths == {".", "a.txt", "big.bin"}


def test_a_file_vanishing_during_the_backup_is_a_warning(engine, docs: Path, monkeypatch) -> None:
    open_hook(monkeypatch, "a.txt", lambda dir_fd, path: os.unlink(path, dir_fd=dir_fd))
    job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    assert any("a.txt: vanished during the backup" in warning for warning in job.warnings)


def test_a_small_file_changed_after_it_was_listed_is_stored_whole_as_read(engine, docs: Path, monkeypatch) -> None:
    def grow(dir_fd, path):
        with open(docs / "a.txt", "ab") as grower:
            grower.write(b" and more")

    open_hook(monkeypatch, "a.txt", grow)
    job = run_backup(engine)
    assert job.state == JobState.SUCCEEDED, job.warnings  # stable while read: a consistent copy
    with engine.open_set(job.set_id) as reader:
        entry = next(entry for entry in reader.manifest.entries if entry.path == "a.txt")
        assert reader.read_file(entry) == b"alpha and more"  # the whole file as it was when read


def test_a_file_changing_while_read_is_flagged(engine, docs: Path, monkeypatch) -> None:
    real_add_stream = SetWriter.add_stream

    def grow_then_add(self, meta, chunks):
        if meta.path == "big.bin":
            with open(docs / "big.bin", "ab") as grower:
                grower.write(b"appended while reading")
        return real_add_stream(self, meta, chunks)

    monkeypatch.setattr(SetWriter, "add_stream", grow_then_add)
    job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    assert any("big.bin: changed while it was read" in warning for warning in job.warnings)


def test_a_name_with_control_bytes_is_shown_escaped_never_raw(engine, docs: Path, monkeypatch) -> None:
    evil = os.fsencode(docs) + b"/line\nbreak\x1b[31m\xff"
    with open(evil, "wb") as out:
        out.write(b"x")

    def deny(dir_fd, path):
        raise PermissionError(13, "Permission denied", path)

    open_hook(monkeypatch, os.fsdecode(b"\x1b[31m\xff"), deny)
    job = run_backup(engine)
    assert [warning for warning in job.warnings if "break" in warning] == [
        "line\\nbreak\\x1b[31m\\xff: unreadable (Permission denied); skipped — give this user read access to back "
        "it up"]
    assert all("\n" not in line and "\x1b" not in line for line in job.log_lines)


def test_a_folder_swapped_for_a_link_during_the_walk_is_not_followed(engine, docs: Path, tmp_path: Path,
                                                                     monkeypatch) -> None:
    (docs / "sub").mkdir()
    (docs / "sub" / "inside.txt").write_text("mine")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "shadow").write_text("not the store's")

    opened = []
    me = os.getpid()

    def swap(dir_fd, path):
        if os.getpid() != me:  # the count for progress, in a child process of its own
            return
        opened.append(path)
        if len(opened) == 1:  # the walk that copies
            os.rename("sub", "sub-moved", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            os.symlink(str(secret), "sub", dir_fd=dir_fd)

    open_hook(monkeypatch, "sub", swap)
    job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    assert any(warning.startswith("sub: replaced by something that is not a folder") for warning in job.warnings)
    paths = {entry.path for entry in engine.load_manifest(engine.catalog.get_set(job.set_id)).entries}
    assert not any("shadow" in path for path in paths)


def test_when_the_first_name_of_a_hard_link_cannot_be_read_the_next_one_holds_the_data(engine, docs: Path,
                                                                                        monkeypatch) -> None:
    os.link(docs / "a.txt", docs / "z-second-name.txt")

    def deny(dir_fd, path):
        raise PermissionError(13, "Permission denied", path)

    open_hook(monkeypatch, "a.txt", deny)
    job = run_backup(engine)
    assert job.state == JobState.WARNINGS
    entries = {entry.path: entry for entry in engine.load_manifest(engine.catalog.get_set(job.set_id)).entries}
    assert "a.txt" not in entries
    assert entries["z-second-name.txt"].type == "file"  # a restorable set, not a hard link to nothing
