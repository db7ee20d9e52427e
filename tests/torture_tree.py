"""A tree with everything an ordinary /etc, /srv or home folder may hold that a backup must keep.

Links of every kind, hard links, FIFOs, set-id and sticky bits, owners with and without
names, nanosecond times before 1970 and after 2038, extended attributes and POSIX ACLs,
sparse files, names with any byte but NUL and '/', names of 255 bytes and a path past
PATH_MAX. Built with plain system calls (and setfacl for ACLs), so what it holds does not
depend on Strongroom's own code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

AS_ROOT = os.geteuid() == 0
NS = 1_000_000_000
BEFORE_1970 = -2_000_000_000 * NS + 123_456_789  # 1906-08-16
AFTER_2038 = 13_000_000_000 * NS + 987_654_321  # 2381-12-20
YEAR_2446 = 14_958_576_000 * NS + 1  # 2444-01-07, near ext4's last second (2446-05-10)
DEEP_NAME = "d" * 200
DEEP_LEVELS = 22  # 22 * 201 bytes: a path past PATH_MAX (4096)


def has_acl_tools() -> bool:
    return shutil.which("setfacl") is not None


def _set_times(path: bytes | str, ns: int, *, dir_fd: int | None = None) -> None:
    os.utime(path, ns=(ns, ns), dir_fd=dir_fd, follow_symlinks=False)


def _write(root: Path, relative: str | bytes, data: bytes = b"", mode: int = 0o644) -> bytes:
    path = os.fsencode(root) + b"/" + os.fsencode(relative)
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, mode)
    return path


def build(root: Path, *, deep: bool = True) -> dict[str, object]:
    """Build the tree at ``root`` (which must not exist); return notes on what it holds."""
    root.mkdir()
    notes: dict[str, object] = {"xattrs": False, "acls": False}
    (root / "docs").mkdir()
    _write(root, "docs/report.txt", b"quarterly figures\n" * 100, 0o640)
    _write(root, "docs/empty", b"")
    _write(root, "docs/random.bin", os.urandom(300_000))
    _write(root, "docs/large.bin", os.urandom(5 << 20) + b"tail")  # streamed: more than 4 MiB
    (root / "empty-folder").mkdir()

    # Modes, set-id and sticky bits.
    _write(root, "setuid-tool", b"#!/bin/sh\n", 0o4755)
    _write(root, "setgid-tool", b"#!/bin/sh\n", 0o2750)
    _write(root, "no-access", b"secret", 0o000)
    (root / "shared-tmp").mkdir()
    os.chmod(root / "shared-tmp", 0o1777)
    _write(root, "shared-tmp/scratch", b"x")
    (root / "read-only-folder").mkdir()
    _write(root, "read-only-folder/inside", b"kept")
    os.chmod(root / "read-only-folder", 0o555)

    # Links of every kind: a link is data.
    (root / "links").mkdir()
    os.symlink("/etc/hostname", root / "links/absolute")
    os.symlink("../../outside/of/the/store", root / "links/pointing-out")
    os.symlink("nothing-here", root / "links/dangling")
    os.symlink("../docs", root / "links/to-folder")
    os.symlink("t" * 180 + "/long-target", root / "links/long-target")
    os.symlink(b"caf\xe9-latin1", os.fsencode(root / "links") + b"/non-utf8-target")

    # Hard links: one inode, three names in two folders.
    (root / "hard").mkdir()
    _write(root, "hard/first", b"one inode, three names\n", 0o604)
    os.link(root / "hard/first", root / "hard/second")
    os.link(root / "hard/first", root / "docs/third-name")
    _write(root, "hard/big-first", os.urandom(6 << 20))
    os.link(root / "hard/big-first", root / "hard/big-second")

    # FIFOs.
    os.mkfifo(root / "fifo", 0o620)

    # Names: any byte but NUL and '/'.
    (root / "names").mkdir()
    for name in (b"back\\slash", b"new\nline", b"tab\there", b"control\x01\x1b", b"latin1-\xe9\xff",
                 "ünïcödé-名前".encode(), b"n" * 255, b" leading and trailing space ", b"-dash", b"*?[glob]"):
        _write(root, b"names/" + name, name)

    # Sparse files: holes in the middle, a hole at the end, nothing but a hole.
    (root / "sparse").mkdir()
    with open(root / "sparse/holes", "wb") as out:
        for offset in (0, 20 << 20, 50 << 20):
            out.seek(offset)
            out.write(os.urandom(64 << 10))
        out.truncate(64 << 20)
    with open(root / "sparse/ends-in-hole", "wb") as out:
        out.write(b"data at the start")
        out.truncate(32 << 20)
    with open(root / "sparse/only-hole", "wb") as out:
        out.truncate(16 << 20)

    # Owners: named and unnamed ids.
    if AS_ROOT:
        _write(root, "owned-by-nobody", b"n")
        os.chown(root / "owned-by-nobody", 65534, 65534)
        _write(root, "owned-by-unnamed", b"u")
        os.chown(root / "owned-by-unnamed", 123456, 654321)
        os.lchown(root / "links/dangling", 123456, 654321)
        notes["owners"] = True

    # Extended attributes and ACLs.
    try:
        os.setxattr(root / "docs/report.txt", "user.checksum", b"sha256:abc")
        os.setxattr(root / "docs", "user.note", b"folder attribute \x00\xff binary")
        os.setxattr(root / "hard/first", "user.shared", b"on the inode")
        os.setxattr(root, "user.root-attribute", b"the store root's own")
        notes["xattrs"] = True
        if AS_ROOT:
            os.setxattr(root / "links/absolute", "trusted.on-a-link", b"links carry attributes too",
                        follow_symlinks=False)
            os.setxattr(root / "docs/random.bin", "trusted.md5", b"0123")
    except OSError:
        pass
    if has_acl_tools():
        acl = subprocess.run(["setfacl", "-m", "u:1234:r--,g:4321:rw-", str(root / "docs/report.txt")],
                             capture_output=True)
        default = subprocess.run(["setfacl", "-d", "-m", "u:1234:rwx", str(root / "shared-tmp")], capture_output=True)
        notes["acls"] = acl.returncode == 0 and default.returncode == 0

    # A path past PATH_MAX, built one folder at a time.
    if deep:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for _ in range(DEEP_LEVELS):
                os.mkdir(DEEP_NAME, dir_fd=fd)
                next_fd = os.open(DEEP_NAME, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = next_fd
            leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(leaf, b"deeper than PATH_MAX")
            os.close(leaf)
            _set_times("leaf.txt", AFTER_2038, dir_fd=fd)
        finally:
            os.close(fd)

    # Times, last: writing into a folder moves its mtime.
    _set_times(root / "docs/report.txt", BEFORE_1970)
    _set_times(root / "docs/random.bin", AFTER_2038)
    _set_times(root / "docs/empty", YEAR_2446)
    _set_times(root / "links/absolute", BEFORE_1970)
    _set_times(root / "hard/first", 1_600_000_000 * NS + 1)
    for folder in ("docs", "links", "hard", "names", "sparse", "shared-tmp", "read-only-folder", "empty-folder"):
        _set_times(root / folder, 1_500_000_000 * NS + 555)
    os.chmod(root, 0o750)
    _set_times(root, BEFORE_1970 + 42)
    return notes


def deep_paths(root: Path) -> str:
    """The deep folder's first component (everything past PATH_MAX lives below it)."""
    return DEEP_NAME


def remove(root: Path) -> None:
    """Remove a tree, including read-only folders and paths past PATH_MAX."""
    if root.exists():
        subprocess.run(["chmod", "-R", "u+rwx", str(root)], capture_output=True)
        subprocess.run(["rm", "-rf", str(root)], check=True)
