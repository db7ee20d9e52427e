"""Helpers for tests: build folder trees and capture them for byte-for-byte comparison."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def make_tree(root: Path, files: dict[str, bytes | str], links: dict[str, str] | None = None) -> Path:
    """Create ``files`` (path -> content) and ``links`` (path -> target) below ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    for relative, target in (links or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    return root


def tree_state(root: Path, *, times: bool = True) -> dict[str, tuple]:
    """Every item below ``root``: (kind, mode, mtime_ns, content or link target)."""
    state: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            mtime = info.st_mtime_ns if times else 0
            if stat.S_ISLNK(info.st_mode):
                state[relative] = ("link", 0, mtime, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                state[relative] = ("dir", stat.S_IMODE(info.st_mode), mtime, None)
            else:
                state[relative] = ("file", stat.S_IMODE(info.st_mode), mtime, path.read_bytes())
    return state
