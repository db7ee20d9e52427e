"""Sets someone else had their hands on: substituted, edited, with hidden members or hostile values.

The catalog is the root of trust: it records each set's size and manifest hash when the
set is written, and a set read back must be that set. The tar stream must say exactly what
the manifest says, since ``zstd -dc | tar -x`` reads the stream, not the manifest.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from strongroom.core.archive import DamagedSet, Entry, HostileSet, SetReader, SetWriter, parse_manifest, \
    sidecar_path, verify_set
from strongroom.core.archive.manifest import SetInfo
from strongroom.core.engine import expected_of
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from .conftest import cli
from .forge import read_document, rewrite_manifests, rewrite_sidecar, write_document
from .trees import make_tree


@pytest.fixture
def docs(engine, tmp_path: Path) -> Path:
    source = make_tree(tmp_path / "docs", {"report.txt": "quarterly figures", "tool": "#!/bin/sh\n"})
    os.chmod(source / "tool", 0o755)
    engine.add_store("docs", "folder", str(source))
    return source


def backup(engine) -> str:
    job = engine.backup_job("docs", BackupOptions())
    assert job.run() == JobState.SUCCEEDED, job.error
    return job.set_id


def restore(engine, set_id: str, to: Path):
    job = engine.restore_job("docs", RestoreOptions(to=to), set_id=set_id)
    job.run()
    return job


def test_an_edited_sidecar_is_not_used_and_verify_says_so(engine, docs: Path, tmp_path: Path) -> None:
    set_id = backup(engine)
    path = Path(engine.catalog.get_set(set_id).path)

    def setuid(document: dict) -> None:
        next(entry for entry in document["entries"] if entry["path"] == "tool")["mode"] = 0o4777

    rewrite_sidecar(path, setuid)
    job = restore(engine, set_id, tmp_path / "out")
    assert job.state == JobState.SUCCEEDED, job.error
    assert stat.S_IMODE(os.stat(tmp_path / "out" / "tool").st_mode) == 0o755  # the manifest inside, as written
    result = engine.verify_job(set_id)
    assert result.run() == JobState.FAILED and "sidecar manifest" in result.error
    assert engine.catalog.get_set(set_id).verified  # from the backup; this verify did not mark it


def test_a_set_replaced_by_another_with_the_same_id_is_refused(home, engine, docs: Path, tmp_path: Path) -> None:
    set_id = backup(engine)
    record = engine.catalog.get_set(set_id)
    forged = tmp_path / "forged.tar.zst"
    with SetWriter(forged, set_id=set_id) as writer:
        data = b"#!/bin/sh\nrm -rf ~\n"
        entry, _ = writer.add_file(Entry(path="tool", type="file", mode=0o4777, mtime_ns=0, size=len(data)),
                                   io.BytesIO(data))
        writer.record(entry)
        writer.finish(SetInfo(set_id=set_id, store="docs", store_type="folder", kind="full", parent=None,
                              created=record.created, source=str(docs)))
    shutil.move(forged, record.path)
    shutil.move(sidecar_path(forged), sidecar_path(Path(record.path)))
    job = restore(engine, set_id, tmp_path / "out")
    assert job.state == JobState.FAILED and "not the one set" in job.error and "written with" in job.error
    assert not (tmp_path / "out").exists()
    report = verify_set(Path(record.path), expected=expected_of(record))
    assert not report.ok and any("not the one set" in problem for problem in report.problems)
    assert "not the one set" in cli(home, "verify", set_id).stdout


def test_a_tar_header_that_says_other_than_its_manifest_entry_is_damage(tmp_path: Path) -> None:
    """tar -x would make the file setuid and world-writable while the manifest says 0644: verify must say so."""
    path = tmp_path / "set.tar.zst"
    with SetWriter(path, set_id="s") as writer:
        data = b"payload"
        written, _ = writer.add_file(Entry(path="tool", type="file", mode=0o4777, mtime_ns=0, size=len(data)),
                                     io.BytesIO(data))
        writer.record(replace(written, mode=0o644))
        writer.finish(SetInfo(set_id="s", store="s", store_type="folder", kind="full", parent=None,
                              created="2026-01-01T00:00:00Z", source="/src"))
    report = verify_set(path)
    assert report.damaged == {"tool": "its tar header differs from the manifest in mode"}


def test_a_member_hidden_after_the_end_of_the_tar_stream_is_found(engine, docs: Path) -> None:
    import zstandard

    from strongroom.core.archive import tar_format
    from strongroom.core.archive.tar_format import MemberHead

    set_id = backup(engine)
    path = Path(engine.catalog.get_set(set_id).path)
    document = read_document(path)
    offset = document["manifest_frame_offset"]
    data = b"hidden"
    member = tar_format.header(MemberHead(path="evil", kind="file", mode=0o4755, stored=len(data), size=len(data)))
    hidden = zstandard.ZstdCompressor().compress(member + data + bytes(tar_format.padding(len(data))))
    with open(path, "r+b") as handle:
        handle.truncate(offset)
        handle.write(hidden)
    write_document(path, {**document, "manifest_frame_offset": offset + len(hidden)})
    report = verify_set(path)
    assert not report.ok and any("end-of-archive frame ends at" in p for p in report.problems), report.problems


HOSTILE_VALUES = {
    "mode 2**70": ("mode", 2**70),
    "mtime 10**30": ("mtime_ns", 10**30),
    "uid 2**40": ("uid", 2**40),
    "size -1": ("size", -1),
    "a boolean mode": ("mode", True),
    "a lone surrogate in a name": ("path", "bad\ud800name"),
}


@pytest.mark.parametrize("case", list(HOSTILE_VALUES))
def test_hostile_values_in_a_manifest_are_refused_with_a_message(home, engine, docs: Path, tmp_path: Path, case) -> None:
    field, value = HOSTILE_VALUES[case]
    set_id = backup(engine)
    path = Path(engine.catalog.get_set(set_id).path)

    def change(document):
        next(entry for entry in document["entries"] if entry["path"] == "report.txt")[field] = value

    rewrite_manifests(path, change)
    with pytest.raises((DamagedSet, HostileSet)), SetReader(path) as reader:
        list(reader.manifest.entries)
    result = cli(home, "verify", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert len((result.stdout + result.stderr).strip().splitlines()) == 1


def test_a_set_id_that_is_not_text_and_deep_nesting_are_refused(docs: Path) -> None:
    with pytest.raises(DamagedSet, match="malformed"):
        parse_manifest(json.dumps({"format": "strongroom-set", "version": 2, "set_id": ["x"], "store": "s",
                                   "store_type": "folder", "kind": "full", "created": "c", "source": "/",
                                   "manifest_frame_offset": 0, "entries": []}).encode(), "test")
    with pytest.raises(DamagedSet, match="nested too deeply"):
        parse_manifest(b"[" * 100_000 + b"]" * 100_000, "test")


def test_a_sidecar_nested_too_deeply_falls_back_to_the_manifest_inside(engine, docs: Path, tmp_path: Path) -> None:
    set_id = backup(engine)
    sidecar_path(Path(engine.catalog.get_set(set_id).path)).write_bytes(b"[" * 100_000 + b"]" * 100_000)
    job = restore(engine, set_id, tmp_path / "out")
    assert job.state == JobState.SUCCEEDED, job.error
    assert (tmp_path / "out" / "report.txt").read_text() == "quarterly figures"


@pytest.mark.parametrize("what", ["set", "sidecar", "settings"])
def test_a_fifo_in_place_of_a_file_is_refused_without_hanging(home, engine, docs: Path, tmp_path: Path, what) -> None:
    set_id = backup(engine)
    path = Path(engine.catalog.get_set(set_id).path)
    planted = {"set": path, "sidecar": sidecar_path(path), "settings": engine.paths.settings}[what]
    planted.unlink(missing_ok=True)
    os.mkfifo(planted)
    browse = cli(home, "browse", set_id, timeout=20)
    verify = cli(home, "verify", set_id, timeout=20)
    assert "Traceback" not in browse.stderr + verify.stderr + browse.stdout + verify.stdout
    if what == "set":
        assert verify.returncode == 1 and "a FIFO, not a regular file" in verify.stdout + verify.stderr
    elif what == "settings":
        backup_run = cli(home, "backup", "docs", timeout=20)
        assert backup_run.returncode == 0 and "a FIFO, not a regular file" in backup_run.stderr
    else:
        assert browse.returncode == 0 and "report.txt" in browse.stdout  # the manifest inside serves


def test_a_dry_run_shows_a_name_with_a_newline_on_one_line(home, engine, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "odd", {"a\ncreate   EVIL  [9 bytes]": "x"})
    engine.add_store("odd", "folder", str(source))
    assert engine.backup_job("odd").run() == JobState.SUCCEEDED
    result = cli(home, "restore", "odd", "--to", str(tmp_path / "out"), "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("create")]
    assert len(lines) == 2 and any("a\\ncreate   EVIL" in line for line in lines), result.stdout


@pytest.mark.parametrize("args", [["restore", "docs", "--wait", "-5"], ["backup", "docs", "--wait", "nan"],
                                  ["backup", "docs", "--level", "0"], ["backup", "docs", "--threads", "0"],
                                  ["locks", "--watch", "--interval", "inf"]])
def test_command_line_numbers_are_checked_where_they_are_given(home, engine, docs: Path, args) -> None:
    result = cli(home, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert args[-2] in result.stderr


@pytest.mark.parametrize("content", ['{"compression_level": true}', "[" * 50_000 + "]" * 50_000])
def test_odd_settings_are_reported_and_backups_still_run(home, engine, docs: Path, content: str) -> None:
    engine.paths.settings.parent.mkdir(parents=True, exist_ok=True)
    engine.paths.settings.write_text(content)
    result = cli(home, "backup", "docs")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "settings" in result.stderr and "using defaults" in result.stderr


@pytest.mark.parametrize("planted", ["fifo", "link"])
def test_a_catalog_that_is_not_a_regular_file_is_refused_without_hanging(home: Path, tmp_path: Path,
                                                                         planted: str) -> None:
    catalog = home / "catalog.sqlite"
    if planted == "fifo":
        os.mkfifo(catalog)
    else:
        elsewhere = tmp_path / "elsewhere.sqlite"
        elsewhere.write_bytes(b"")
        os.symlink(elsewhere, catalog)
    result = cli(home, "sets", timeout=20)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"the catalog {catalog} is a {'FIFO' if planted == 'fifo' else 'link'}, not a catalog file" in result.stderr
