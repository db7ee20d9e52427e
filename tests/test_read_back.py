"""The read-back a backup does before recording its set: one flipped bit anywhere fails it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongroom.core.archive import SetReader, SetWriter
from strongroom.core.archive.readback import read_back
from strongroom.core.engine import expected_of
from strongroom.core.jobs import BackupOptions, JobState

from .trees import make_tree


def backup(engine, tmp_path: Path) -> tuple[Path, object]:
    source = make_tree(tmp_path / "docs", {f"dir{n}/file{m}.txt": os.urandom(2000).hex() for n in range(3)
                                           for m in range(40)})
    engine.add_store("docs", "folder", str(source))
    job = engine.backup_job("docs", BackupOptions())
    assert job.run() == JobState.SUCCEEDED, job.error
    record = engine.catalog.get_set(job.set_id)
    return Path(record.path), record


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x04
    path.write_bytes(bytes(data))


def test_an_intact_set_reads_back_whole(engine, tmp_path: Path) -> None:
    path, record = backup(engine, tmp_path)
    report = read_back(path, expected_of(record))
    assert report.ok, report.summary()
    assert report.bytes_checked > 120 * 4000  # every member's bytes were decompressed


@pytest.mark.parametrize("where", ["tar data", "manifest block"])
def test_a_flipped_bit_fails_the_read_back(engine, tmp_path: Path, where: str) -> None:
    path, record = backup(engine, tmp_path)
    with SetReader(path) as reader:
        manifest = reader.manifest
    offset = manifest.end_frame_offset // 2 if where == "tar data" else manifest.manifest_frame_offset + 100
    flip(path, offset)
    report = read_back(path, expected_of(record))
    assert not report.ok
    assert any(("frame at offset" in problem or "damaged" in problem) for problem in report.problems), \
        report.problems


def test_a_backup_whose_set_reads_back_wrong_keeps_nothing(engine, tmp_path: Path, monkeypatch) -> None:
    """A target that garbles what it stores (a bad disk): the set never enters the catalog."""
    real_finish = SetWriter.finish

    def garbling(self, info, *, commit=True):
        manifest = real_finish(self, info, commit=commit)
        flip(self.temporary, manifest.end_frame_offset // 2)
        return manifest

    monkeypatch.setattr(SetWriter, "finish", garbling)
    source = make_tree(tmp_path / "docs", {"a.txt": os.urandom(50_000).hex()})
    engine.add_store("docs", "folder", str(source))
    job = engine.backup_job("docs", BackupOptions())
    assert job.run() == JobState.FAILED
    assert "failed verification" in job.error and "damaged" in job.error
    assert engine.catalog.list_sets("docs") == []
    assert not [item for item in (engine.default_target / "docs").iterdir()]
