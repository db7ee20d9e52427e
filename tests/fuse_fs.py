"""A FUSE file system for fault tests: a folder passed through, with real faults from the kernel.

``python -m tests.fuse_fs BACKING MOUNTPOINT [--eio NAME:OFFSET] [--no-xattrs]`` mounts
BACKING at MOUNTPOINT until it is unmounted. With ``--eio`` every read of the file NAME
(a path below BACKING) that reaches past OFFSET fails with EIO, as a disk's bad sector
would: the process reading it gets EIO from read(2), not from anything Strongroom can
see coming. With ``--no-xattrs`` the file system has no extended attributes (ENOTSUP),
like FAT or many network file systems.

This stands in for a device-mapper ``error`` target, which needs a kernel with
device-mapper; FUSE needs only /dev/fuse.
"""

from __future__ import annotations

import argparse
import errno
import os

import mfusepy as fuse

_STAT_FIELDS = ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_ino", "st_rdev", "st_blocks",
                "st_atime", "st_mtime", "st_ctime")


class Passthrough(fuse.Operations):
    use_ns = True

    def __init__(self, backing: str, eio: tuple[str, int] | None, xattrs: bool) -> None:
        self.backing = backing
        self.eio = eio
        self.xattrs = xattrs

    def _path(self, path: str) -> str:
        return os.path.join(self.backing, path.lstrip("/"))

    def getattr(self, path, fh=None):
        status = os.lstat(self._path(path))
        found = {name: getattr(status, name) for name in _STAT_FIELDS}
        found.update(st_atime=status.st_atime_ns, st_mtime=status.st_mtime_ns, st_ctime=status.st_ctime_ns)
        return found

    def readdir(self, path, fh):
        """Names with their inode numbers: with ``use_ino`` an entry without one is dropped by readdir(3)."""
        folder = self._path(path)
        for name in (".", "..", *os.listdir(folder)):
            status = os.lstat(os.path.join(folder, name))
            yield name, {"st_ino": status.st_ino, "st_mode": status.st_mode}, 0

    def readlink(self, path):
        return os.readlink(self._path(path))

    def open(self, path, flags):
        return os.open(self._path(path), flags & ~(os.O_CREAT | os.O_EXCL))

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def read(self, path, size, offset, fh):
        if self.eio is not None and path.lstrip("/") == self.eio[0] and offset + size > self.eio[1]:
            raise fuse.FuseOSError(errno.EIO)
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        os.truncate(self._path(path), length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(fh)
        return 0

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def unlink(self, path):
        os.unlink(self._path(path))

    def symlink(self, target, source):  # mfusepy's names: the new link, then what it points at
        os.symlink(source, self._path(target))

    def link(self, target, source):
        os.link(self._path(source), self._path(target))

    def rename(self, old, new):
        os.replace(self._path(old), self._path(new))

    def mknod(self, path, mode, dev):
        os.mknod(self._path(path), mode, dev)

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid, follow_symlinks=False)

    def utimens(self, path, times=None):
        os.utime(self._path(path), ns=times, follow_symlinks=False)

    def statfs(self, path):
        status = os.statvfs(self._path(path))
        return {name: getattr(status, name) for name in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
                                                         "f_files", "f_ffree", "f_favail", "f_namemax")}

    def listxattr(self, path):
        if not self.xattrs:
            return []
        return os.listxattr(self._path(path), follow_symlinks=False)

    def getxattr(self, path, name, position=0):
        if not self.xattrs:
            raise fuse.FuseOSError(errno.ENODATA)
        return os.getxattr(self._path(path), name, follow_symlinks=False)

    def setxattr(self, path, name, value, options, position=0):
        if not self.xattrs:
            raise fuse.FuseOSError(errno.ENOTSUP)
        os.setxattr(self._path(path), name, value, options, follow_symlinks=False)

    def removexattr(self, path, name):
        if not self.xattrs:
            raise fuse.FuseOSError(errno.ENOTSUP)
        os.removexattr(self._path(path), name, follow_symlinks=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backing")
    parser.add_argument("mountpoint")
    parser.add_argument("--eio", default=None, help="NAME:OFFSET")
    parser.add_argument("--no-xattrs", action="store_true")
    args = parser.parse_args()
    eio = None
    if args.eio:
        name, _, offset = args.eio.rpartition(":")
        eio = (name, int(offset))
    fuse.FUSE(Passthrough(os.path.abspath(args.backing), eio, not args.no_xattrs), args.mountpoint,
              foreground=True, use_ino=True, direct_io=True, allow_other=True, default_permissions=False)


if __name__ == "__main__":
    main()
