"""Sets hold every file of their store, so other users cannot read them (GNU tar could, from any copy)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from strongroom.core.archive import sidecar_path
from strongroom.core.jobs import BackupOptions, JobState

from .trees import make_tree


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def secret(engine, tmp_path: Path) -> Path:
    source = make_tree(tmp_path / "secret", {"shadow": "root only"})
    os.chmod(source / "shadow", 0o600)
    engine.add_store("secret", "folder", str(source))
    return source


def test_sets_and_the_folders_made_for_them_are_the_owners_alone(engine, secret: Path, tmp_path: Path) -> None:
    target = tmp_path / "new" / "target"
    job = engine.backup_job("secret", BackupOptions(target=target))
    assert job.run() == JobState.SUCCEEDED, (job.error, job.warnings)
    set_path = Path(engine.catalog.get_set(job.set_id).path)
    assert [mode(path) for path in (tmp_path / "new", target, set_path.parent)] == [0o700] * 3
    assert mode(set_path) == 0o600 and mode(sidecar_path(set_path)) == 0o600


def test_a_target_other_users_can_read_gets_a_warning(engine, secret: Path) -> None:
    open_target = Path(tempfile.mkdtemp(prefix="strongroom-open-target-"))  # below /tmp, which others can enter
    try:
        os.chmod(open_target, 0o755)
        job = engine.backup_job("secret", BackupOptions(target=open_target))
        assert job.run() == JobState.WARNINGS
        assert job.warnings == [f"the target folder {open_target} can be read by other users (mode 0755), and a "
                                f"set holds every file of its store: chmod o-rwx {open_target} to keep the sets "
                                "private"]
        assert mode(open_target / "secret") == 0o700  # what Strongroom makes there is private all the same
    finally:
        shutil.rmtree(open_target)


def test_in_machine_scope_the_administrators_group_may_read(home: Path, secret: Path, tmp_path: Path) -> None:
    from strongroom.core.engine import Engine
    from strongroom.core.mutex import LockDirectory, MutexRegistry
    from strongroom.core.paths import resolve_paths

    shared = Engine(resolve_paths(home, lock_dir=tmp_path / "machine-locks", lock_scope="machine"),
                    registry=MutexRegistry(LockDirectory(tmp_path / "machine-locks", "machine")))
    job = shared.backup_job("secret", BackupOptions(target=tmp_path / "shared-target"))
    assert job.run() == JobState.SUCCEEDED, (job.error, job.warnings)
    set_path = Path(shared.catalog.get_set(job.set_id).path)
    assert mode(set_path.parent) == 0o2750 and mode(set_path) == 0o640
