"""Real faults from the kernel, through a FUSE file system (tests/fuse_fs.py).

A disk's bad sector (read(2) fails with EIO half-way through a file) must cost one file,
named in a warning, never the backup; a destination without extended attributes must
cost the attributes, named in a warning, never the restore.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from strongroom.core.archive import verify_set
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from . import torture_tree
from .conftest import wait_until
from .oracle import compare, has_tools, tar_extract

REPO = Path(__file__).resolve().parents[1]


def _fuse_usable() -> str | None:
    if os.geteuid() != 0:
        return "mounting a FUSE file system here needs root"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as error:  # OSError: libfuse itself is missing
        return f"mfusepy cannot load libfuse: {error}"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_fuse_usable() is not None, reason=str(_fuse_usable()))]


@pytest.fixture
def mount(tmp_path: Path):
    """mount(backing, *options) -> a mount point showing ``backing`` through tests/fuse_fs.py."""
    mounted: list[tuple[Path, subprocess.Popen]] = []

    def start(backing: Path, *options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        server = subprocess.Popen([sys.executable, "-m", "tests.fuse_fs", str(backing), str(point), *options],
                                  cwd=REPO, stderr=subprocess.PIPE, text=True)
        mounted.append((point, server))
        wait_until(lambda: os.path.ismount(point) or server.poll() is not None, timeout=20)
        if server.poll() is not None:
            raise AssertionError(f"the FUSE file system did not mount: {server.stderr.read()}")
        return point

    yield start
    for point, server in mounted:
        subprocess.run(["umount", str(point)], capture_output=True, timeout=30)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def test_a_file_whose_reads_fail_with_eio_is_skipped_named_and_cut_out_of_the_set(engine, mount, tmp_path):
    backing = tmp_path / "disk"
    (backing / "docs").mkdir(parents=True)
    (backing / "docs" / "before.txt").write_bytes(b"read before the bad file")
    (backing / "docs" / "bad-sector.bin").write_bytes(os.urandom(9 << 20))  # streamed; fails after 3 MiB
    (backing / "docs" / "zz-after.txt").write_bytes(b"read after it")
    (backing / "small-bad.bin").write_bytes(os.urandom(100_000))
    os.utime(backing / "docs", ns=(1_600_000_000_000_000_000,) * 2)
    store = mount(backing, "--eio", f"docs/bad-sector.bin:{3 << 20}")
    engine.add_store("disk", "folder", str(store))

    job = engine.backup_job("disk", BackupOptions())
    assert job.run() == JobState.WARNINGS, job.error
    assert [warning for warning in job.warnings if "bad-sector" in warning] == [
        "docs/bad-sector.bin: reading failed (Input/output error); skipped — the rest of the backup went on"]
    record = engine.catalog.get_set(job.set_id)
    assert verify_set(Path(record.path)).ok
    paths = {entry.path for entry in engine.load_manifest(record).entries}
    assert "docs/bad-sector.bin" not in paths and {"docs/before.txt", "docs/zz-after.txt", "small-bad.bin"} <= paths

    out = tmp_path / "restored"
    restored = engine.restore_job("disk", RestoreOptions(to=out))
    assert restored.run() == JobState.SUCCEEDED, (restored.error, restored.warnings)
    found = compare(backing, out, tmp_path)
    assert found["missing"] == ["docs/bad-sector.bin"] and found["extra"] == [] and found["diffs"] == {}, \
        found["report"]
    if has_tools("tar", "zstd"):  # the member was taken back out of the tar stream, not zero-filled
        by_tar = tmp_path / "by-tar"
        assert tar_extract(Path(record.path), by_tar) == []
        assert not (by_tar / "docs" / "bad-sector.bin").exists()
        assert (by_tar / "docs" / "zz-after.txt").read_bytes() == b"read after it"


def test_a_small_file_failing_with_eio_is_skipped_and_named(engine, mount, tmp_path):
    backing = tmp_path / "disk"
    backing.mkdir()
    (backing / "fine.txt").write_bytes(b"fine")
    (backing / "bad.txt").write_bytes(b"x" * 5000)
    store = mount(backing, "--eio", "bad.txt:0")
    engine.add_store("disk", "folder", str(store))
    job = engine.backup_job("disk", BackupOptions())
    assert job.run() == JobState.WARNINGS, job.error
    assert job.warnings == ["bad.txt: reading failed (Input/output error); skipped — the rest of the backup went on"]
    assert {entry.path for entry in engine.load_manifest(engine.catalog.get_set(job.set_id)).entries} == {
        ".", "fine.txt"}


@pytest.mark.skipif(not shutil.which("setfacl"), reason="needs setfacl for the ACLs")
def test_a_destination_without_extended_attributes_gets_everything_else_and_a_warning(engine, mount, tmp_path):
    source = tmp_path / "torture"
    torture_tree.build(source, deep=False)
    engine.add_store("t", "folder", str(source))
    assert engine.backup_job("t", BackupOptions()).run() == JobState.SUCCEEDED
    backing = tmp_path / "plain-disk"
    backing.mkdir()
    destination = mount(backing, "--no-xattrs")
    job = engine.restore_job("t", RestoreOptions(to=destination / "restored"))
    assert job.run() == JobState.WARNINGS, job.error
    attributes = [warning for warning in job.warnings if warning.startswith("extended attributes")]
    acls = [warning for warning in job.warnings if warning.startswith("POSIX ACLs")]
    assert len(attributes) == 1 and "does not support them" in attributes[0] and "'docs/report.txt'" in attributes[0]
    assert len(acls) == 1 and "'shared-tmp'" in acls[0], job.warnings
    found = compare(source, backing / "restored", tmp_path, ignore="xattrs")
    assert found["ok"], found["report"]
    torture_tree.remove(tmp_path / "torture")
