"""Where Strongroom keeps its files, and the permissions of the two lock scopes."""

from __future__ import annotations

import os
import stat

import pytest

from strongroom.core.invalid_value import InvalidValue
from strongroom.core.mutex import LockDirectory, LockDirectoryError, MutexOwner, MutexRegistry
from strongroom.core.paths import resolve_paths


def test_home_puts_everything_under_one_folder(tmp_path):
    paths = resolve_paths(tmp_path / "h", environ={})
    for path in (paths.catalog, paths.settings, paths.default_target, paths.lock_dir, paths.log_dir):
        assert tmp_path / "h" in path.parents


def test_home_comes_from_the_environment_too(tmp_path):
    paths = resolve_paths(environ={"STRONGROOM_HOME": str(tmp_path)})
    assert paths.lock_dir == tmp_path / "locks"


def test_without_home_platformdirs_decides(monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    paths = resolve_paths(environ={})
    assert "strongroom" in str(paths.data_dir) and "strongroom" in str(paths.lock_dir)
    assert paths.lock_scope == "user"


def test_lock_dir_and_scope_can_be_chosen(tmp_path):
    paths = resolve_paths(tmp_path, environ={"STRONGROOM_LOCK_DIR": str(tmp_path / "shared"),
                                             "STRONGROOM_LOCK_SCOPE": "machine"})
    assert paths.lock_dir == tmp_path / "shared" and paths.lock_scope == "machine"
    with pytest.raises(InvalidValue, match="unknown lock scope"):
        resolve_paths(tmp_path, lock_scope="galaxy", environ={})


def test_user_scope_is_private(tmp_path):
    lockdir = LockDirectory(tmp_path / "locks", "user")
    with MutexRegistry(lockdir).acquire("folder", MutexOwner("j", "backup", "s"), timeout=1):
        assert stat.S_IMODE(os.stat(lockdir.path).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(lockdir.holder_path("folder")).st_mode) == 0o600


def test_machine_scope_is_shared_by_the_group(tmp_path):
    lockdir = LockDirectory(tmp_path / "locks", "machine")
    old_umask = os.umask(0o022)
    try:
        with MutexRegistry(lockdir).acquire("folder", MutexOwner("j", "backup", "s"), timeout=1):
            assert stat.S_IMODE(os.stat(lockdir.path).st_mode) == 0o2770
            assert stat.S_IMODE(os.stat(lockdir.holder_path("folder")).st_mode) == 0o660
            assert stat.S_IMODE(os.stat(lockdir.lock_path("folder")).st_mode) == 0o660
    finally:
        os.umask(old_umask)


def test_a_file_in_place_of_the_lock_directory_is_a_clear_error(tmp_path):
    (tmp_path / "locks").write_text("oops")
    with pytest.raises(LockDirectoryError, match="not a directory"):
        LockDirectory(tmp_path / "locks").ensure()


def test_an_unknown_scope_is_refused(tmp_path):
    with pytest.raises(InvalidValue, match="unknown lock scope"):
        LockDirectory(tmp_path, "planet")
