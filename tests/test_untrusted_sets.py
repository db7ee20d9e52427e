"""A set this catalog does not know (copied from another machine) is checked and restored only when asked,
and then as untrusted: it cannot bring set-id bits, world-writable files, foreign owners or privileges."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from strongroom.core.archive import sidecar_path
from strongroom.core.jobs import BackupOptions, JobState

from .conftest import cli
from .trees import make_tree


@pytest.fixture
def foreign_set(engine, tmp_path: Path) -> Path:
    """A set made by another catalog, copied here."""
    source = make_tree(tmp_path / "elsewhere", {"tool": "#!/bin/sh\n", "open": "anyone may write", "d/x": "x"})
    os.chmod(source / "tool", 0o4755)
    os.chmod(source / "open", 0o666)
    os.chmod(source / "d", 0o1777)
    os.setxattr(source / "open", "user.note", b"kept")
    if os.geteuid() == 0:
        os.setxattr(source / "tool", "trusted.grant", b"dropped")
        os.chown(source / "tool", 1234, 1234)
    engine.add_store("elsewhere", "folder", str(source))
    job = engine.backup_job("elsewhere", BackupOptions())
    assert job.run() == JobState.SUCCEEDED, job.error
    copied = tmp_path / "copied"
    copied.mkdir()
    set_path = Path(engine.catalog.get_set(job.set_id).path)
    for path in (set_path, sidecar_path(set_path)):
        shutil.copy2(path, copied / path.name)
    return copied / set_path.name


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_foreign_set_is_verified_only_when_asked(tmp_path: Path, foreign_set: Path) -> None:
    other = tmp_path / "other-home"
    refused = cli(other, "verify", str(foreign_set))
    assert refused.returncode == 1 and "not a set of this catalog" in refused.stderr and "--untrusted" in refused.stderr
    checked = cli(other, "verify", str(foreign_set), "--untrusted")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_foreign_set_restores_tamed_into_a_folder(tmp_path: Path, foreign_set: Path) -> None:
    other = tmp_path / "other-home"
    out = tmp_path / "out"
    assert cli(other, "restore", str(foreign_set), "--untrusted").returncode == 2  # only with --to
    result = cli(other, "restore", str(foreign_set), "--untrusted", "--to", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restored as untrusted" in result.stdout + result.stderr
    assert (mode(out / "tool"), mode(out / "open"), mode(out / "d")) == (0o755, 0o664, 0o775)
    assert {os.lstat(out / name).st_uid for name in ("tool", "open", "d", "d/x")} == {os.geteuid()}
    assert os.getxattr(out / "open", "user.note") == b"kept"
    assert "trusted.grant" not in os.listxattr(out / "tool")
    assert (out / "tool").read_text() == "#!/bin/sh\n"


def test_a_set_of_this_catalog_is_not_restored_as_untrusted(engine, home: Path, foreign_set: Path,
                                                            tmp_path: Path) -> None:
    own = engine.catalog.list_sets("elsewhere")[0].path
    result = cli(home, "restore", own, "--untrusted", "--to", str(tmp_path / "out"))
    assert result.returncode == 1 and "is a set of this catalog" in result.stderr
