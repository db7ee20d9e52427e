"""Faithful backups of real trees, proven by tools Strongroom did not write.

A torture tree (tests/torture_tree.py) holds every kind of item an ordinary /etc, /srv or
home folder may hold. It is backed up, restored and compared by the shared independent
walker; the same set is extracted by GNU tar and compared too; incremental chains are
restored to each point in time and compared with copies GNU cp took at the time.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from strongroom.core.archive import verify_set
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from . import torture_tree
from .conftest import CLI, cli
from .oracle import compare, has_tools, snapshot, tar_archive, tar_extract

pytestmark = pytest.mark.slow
PATH_MAX = 4096


def backup(engine, name: str = "t", **options) -> str:
    job = engine.backup_job(name, BackupOptions(**options))
    assert job.run() == JobState.SUCCEEDED, (job.error, job.warnings)
    return job.set_id


def restore(engine, to: Path, name: str = "t", **options):
    job = engine.restore_job(name, RestoreOptions(to=to, **{k: v for k, v in options.items() if k != "set_id"}),
                             set_id=options.get("set_id", "latest"))
    job.run()
    return job


@pytest.fixture
def torture(engine, tmp_path: Path):
    source = tmp_path / "torture"
    notes = torture_tree.build(source)
    engine.add_store("t", "folder", str(source))
    yield source, notes
    torture_tree.remove(tmp_path)


def test_a_torture_tree_comes_back_identical_to_an_independent_walker(engine, torture, tmp_path: Path) -> None:
    source, notes = torture
    set_id = backup(engine)
    record = engine.catalog.get_set(set_id)
    assert verify_set(Path(record.path)).ok
    out = tmp_path / "restored"
    job = restore(engine, out)
    assert job.state == JobState.SUCCEEDED, (job.error, job.warnings)
    found = compare(source, out, tmp_path)
    assert found["ok"], found["report"]
    assert notes["xattrs"] and notes["acls"] or not os.environ.get("CI"), notes  # CI must exercise both
    for name in ("holes", "ends-in-hole", "only-hole"):  # holes stay holes: allocated space follows the data
        original, restored = (os.stat(root / "sparse" / name) for root in (source, out))
        assert restored.st_blocks <= original.st_blocks + 8, name


def test_the_manifest_records_what_tar_cannot_say_plainly(engine, torture) -> None:
    source, notes = torture
    manifest = engine.load_manifest(engine.catalog.get_set(backup(engine)))
    entries = {entry.path: entry for entry in manifest.entries}
    assert next(iter(manifest.entries)).path == "." and entries["."].mode == 0o750
    assert entries["links/absolute"].target == "/etc/hostname"
    # the first name in tree order holds the data; the others are hard-link members naming it
    assert entries["docs/third-name"].type == "file"
    assert [(entries[name].type, entries[name].target) for name in ("hard/first", "hard/second")] == [
        ("hardlink", "docs/third-name")] * 2
    assert entries["fifo"].type == "fifo"
    assert entries["docs/report.txt"].mtime_ns == torture_tree.BEFORE_1970
    assert entries["docs/empty"].mtime_ns == torture_tree.YEAR_2446
    assert entries["sparse/only-hole"].sparse == () and entries["sparse/holes"].stored_size < 1 << 20
    assert os.fsdecode(b"names/latin1-\xe9\xff") in entries
    deepest = max(entries, key=len)
    assert len(os.fsencode(deepest)) > PATH_MAX and deepest.endswith("leaf.txt")
    if notes["xattrs"]:
        assert dict(entries["docs"].xattrs)["user.note"] == b"folder attribute \x00\xff binary"
    if notes["acls"]:
        assert "system.posix_acl_default" in dict(entries["shared-tmp"].xattrs)


@pytest.mark.skipif(not has_tools("zstd", "tar"), reason="needs GNU tar and zstd")
def test_gnu_tar_extracts_the_same_set_identically_except_past_path_max(engine, torture, tmp_path: Path) -> None:
    source, _ = torture
    set_path = Path(engine.catalog.get_set(backup(engine)).path)
    out = tmp_path / "by-tar"
    printed = tar_extract(set_path, out)
    too_long = [line for line in printed if "File name too long" in line]
    assert too_long and all(line.startswith("tar: " + torture_tree.DEEP_NAME) for line in too_long)
    assert [line for line in printed if line not in too_long] == ["tar: Exiting with failure status due to previous "
                                                                   "errors"], printed  # no other warning at all
    assert not (out / ".strongroom-manifest.json").exists()
    # What GNU tar says of the dates (1906, 2381, 2444) it says of its own archive of the same tree too.
    own = tmp_path / "by-gnu-tar.tar.zst"
    tar_archive(source, own)
    remarks = [line for line in tar_extract(set_path, tmp_path / "again", timestamp_warnings=True) if "time" in line]
    theirs = [line.replace("tar: ./", "tar: ") for line in tar_extract(own, tmp_path / "own", timestamp_warnings=True)
              if "time" in line]  # GNU tar names its own members "./docs/empty"
    assert len(remarks) == 5 and sorted(remarks) == sorted(theirs), (remarks, theirs)
    found = compare(source, out, tmp_path)
    assert found["extra"] == [] and found["diffs"] == {}, found["report"]
    lengths = [int(re.search(r"\((\d+) bytes\)", path)[1]) for path in found["missing"]]
    assert lengths and all(length > PATH_MAX for length in lengths), found["missing"]


@pytest.mark.skipif(not has_tools("bsdtar", "zstd"), reason="needs bsdtar and zstd")
def test_bsdtar_extracts_the_same_set_with_only_its_own_known_deviations(engine, torture, tmp_path: Path) -> None:
    """bsdtar (libarchive) restores every member, the paths past PATH_MAX too. What differs is its own:
    it reads a negative pax time's fraction with the other sign, leaves the times of the folder it
    extracts into and of folders past PATH_MAX, and complains about names that are not UTF-8 (which
    GNU tar's archives hold the same way)."""
    source, _ = torture
    set_path = Path(engine.catalog.get_set(backup(engine)).path)
    out = tmp_path / "by-bsdtar"
    out.mkdir()
    result = subprocess.run(f"zstd -dc '{set_path}' | bsdtar -x --xattrs --acls -p -S -f - -C '{out}'", shell=True,
                            capture_output=True, text=True, timeout=300, env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert set(result.stderr.splitlines()) <= {
        "bsdtar: Linkname can't be converted from UTF-8 to current locale.",
        "bsdtar: Pathname can't be converted from UTF-8 to current locale.",
        "bsdtar: Error exit delayed from previous errors."}, result.stderr
    found = compare(source, out, tmp_path)
    assert found["missing"] == [] and found["extra"] == [], found["report"]
    assert set(found["diffs"]) == {"mtime_ns"}, found["report"]
    deviating = {path for path, _, _ in found["diffs"]["mtime_ns"]}
    assert deviating - {".", "docs/report.txt", "links/absolute"} == {
        path for path in deviating if "bytes)..." in path}, found["report"]


def test_an_incremental_chain_restores_each_point_in_time(engine, tmp_path: Path) -> None:
    source = tmp_path / "live"
    torture_tree.build(source, deep=False)  # GNU cp, which takes the reference copies, stops at PATH_MAX
    engine.add_store("t", "folder", str(source))
    points = [(backup(engine), _snapshot(source, tmp_path / "point0"))]

    _change_in_every_tricky_way(source)
    points.append((backup(engine, incremental=True), _snapshot(source, tmp_path / "point1")))
    manifest = engine.load_manifest(engine.catalog.get_set(points[1][0]))
    own = {entry.path for entry in manifest.own_entries if entry.type == "file"}
    assert "sparse/holes" not in own and "names/-dash" not in own  # unchanged: read from the full set
    assert "setuid-tool" in own or not torture_tree.has_acl_tools()  # ACL only
    assert {"docs/large.bin", "docs/report.txt", "docs/third-name"} <= own  # content, xattr-only, mode-only
    assert "docs/random.bin" in own or not torture_tree.AS_ROOT  # owner only

    (source / "docs" / "report.txt").unlink()  # the second incremental drops a name of an old inode
    points.append((backup(engine, incremental=True), _snapshot(source, tmp_path / "point2")))

    for number, (set_id, reference) in enumerate(points):
        out = tmp_path / f"restored{number}"
        job = restore(engine, out, set_id=set_id)
        assert job.state == JobState.SUCCEEDED, (job.error, job.warnings)
        found = compare(reference, out, tmp_path)
        assert found["ok"], f"point {number}:\n{found['report']}"
    torture_tree.remove(tmp_path)


def _snapshot(source: Path, into: Path) -> Path:
    snapshot(source, into)
    return into


def _change_in_every_tricky_way(root: Path) -> None:
    """Every change an incremental must see, some of which leave size and mtime as they were."""
    os.rename(root / "docs/empty", root / "docs/renamed-empty")
    (root / "empty-folder").rmdir()  # a folder becomes a file of the same name
    (root / "empty-folder").write_bytes(b"was a folder")
    (root / "setgid-tool").unlink()  # a file becomes a folder
    (root / "setgid-tool").mkdir()
    (root / "setgid-tool" / "inside").write_bytes(b"new")
    os.chmod(root / "hard/first", 0o600)  # mode only (all three names)
    if torture_tree.AS_ROOT:
        os.chown(root / "docs/random.bin", 4242, 4242)  # owner only
        os.chown(root / "docs/random.bin", 0, 0)  # and back: the ctime still moved
    try:
        os.setxattr(root / "docs/report.txt", "user.checksum", b"sha256:def")  # xattr only
    except OSError:
        pass
    if torture_tree.has_acl_tools():
        subprocess.run(["setfacl", "-m", "u:1234:rwx", str(root / "setuid-tool")], check=True)  # ACL only
    large = root / "docs/large.bin"  # same size, same mtime, new content
    before = os.stat(large)
    with open(large, "r+b") as out:
        out.seek(1 << 20)
        out.write(b"changed in the middle")
    os.utime(large, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(large).st_size == before.st_size
    os.unlink(root / "names" / "tab\there")  # deletions
    subprocess.run(["rm", "-r", str(root / "links")], check=True)
    os.link(root / "docs/report.txt", root / "new-name-of-an-old-inode")  # a new hard link to an old inode
    os.mkfifo(root / "hard/new-fifo")


@pytest.mark.skipif(not torture_tree.AS_ROOT or not has_tools("setpriv"), reason="needs root to become another user")
def test_a_restore_run_by_another_user_keeps_the_files_its_own(tmp_path: Path) -> None:
    """Root backs up files of several owners; 'nobody' restores them: they are nobody's, with their modes,
    times and contents, and what only root may do (chown) is not attempted."""
    shared = Path(tempfile.mkdtemp(prefix="strongroom-other-user-"))  # pytest's tmp_path is root's alone
    try:
        os.chmod(shared, 0o777)
        source = shared / "source"
        source.mkdir()
        for name, owner, mode in (("mine", 0, 0o640), ("daemons", 1, 0o604), ("unnamed", 123456, 0o4755)):
            (source / name).write_bytes(name.encode() * 100)
            os.chown(source / name, owner, owner)
            os.chmod(source / name, mode)
        os.symlink("/etc/hostname", source / "link")
        os.lchown(source / "link", 1, 1)
        home = shared / "home"
        assert cli(home, "store", "add", "s", "--type", "folder", str(source)).returncode == 0
        assert cli(home, "backup", "s").returncode == 0
        subprocess.run(["chmod", "-R", "a+rwX", str(home)], check=True)
        out = shared / "out"
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *CLI, "--home",
                                 str(home), "--lock-dir", str(shared / "locks-of-nobody"), "restore", "s", "--to", str(out)],
                                capture_output=True, text=True,
                                timeout=60, env={**os.environ, "HOME": str(shared)})
        assert result.returncode == 0, result.stdout + result.stderr
        for name, mode in (("mine", 0o640), ("daemons", 0o604), ("unnamed", 0o4755)):
            status = os.lstat(out / name)
            assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (65534, 65534, mode), name
            assert (out / name).read_bytes() == name.encode() * 100
            assert status.st_mtime_ns == os.lstat(source / name).st_mtime_ns
        assert os.readlink(out / "link") == "/etc/hostname" and os.lstat(out / "link").st_uid == 65534
    finally:
        subprocess.run(["rm", "-rf", str(shared)], check=True)
