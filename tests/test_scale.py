"""Memory and reads that do not grow with the number of files.

Backup, incremental, verify and a one-file restore run in child processes (the CLI) on
trees of 20,000 and 200,000 files; their peak RSS, taken from the kernel's account of
each child (wait4), must differ by less than 30 MB. Memory, unlike time, is steady
enough to test. A one-file restore must read a bounded number of bytes of the set
files, whatever their size: every read of a set or sidecar is counted.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from strongroom.core.archive import reader as set_reader
from strongroom.core.archive.writer import FRAME_TARGET
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.restore import RestoreOptions

from .conftest import CLI

SMALL, LARGE = 20_000, 200_000
ONE = "d000/f0000000.txt"


def many_files(root: Path, count: int) -> Path:
    """``count`` files of a few bytes, 100 to a folder: what costs memory is their number, not their size."""
    for index in range(count):
        if index % 100 == 0:
            folder = root / f"d{index // 100:03d}"
            folder.mkdir(parents=True)
        fd = os.open(folder / f"f{index:07d}.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"file %d\n" % index)
        os.close(fd)
    return root


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("scale")
    return {count: many_files(base / f"tree-{count}", count) for count in (SMALL, LARGE)}


# The CLI, reporting its own high-water mark (VmHWM) as it exits: the kernel's ru_maxrss of a child also
# counts the forking process's memory at the fork (it survives exec), so it would measure pytest.
MEASURED_CLI = [sys.executable, "-c", """
import atexit, os, sys
def report():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(peak)
atexit.register(report)
sys.argv[0] = "strongroom"
from strongroom.core.cli.main import run
run()
"""]


def peak_rss_mib(home: Path, *args: str) -> float:
    """Run the CLI; its peak resident set size in MiB."""
    peak = home.parent / "peak.txt"
    result = subprocess.run([*MEASURED_CLI, "--home", str(home), *args], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PEAK_FILE": str(peak)})
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return int(peak.read_text()) / 1024


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_peak_memory_is_the_same_for_20k_and_200k_files(trees, tmp_path: Path) -> None:
    peaks: dict[str, dict[int, float]] = {}
    for count, tree in trees.items():
        home = tmp_path / f"home-{count}"
        subprocess.run([*CLI, "--home", str(home), "store", "add", "tree", "--type", "folder", str(tree)],
                       check=True, capture_output=True)
        steps = {"full backup with verify": ("backup", "tree"),
                 "incremental backup": ("backup", "tree", "--incremental")}
        for name, args in steps.items():
            peaks.setdefault(name, {})[count] = peak_rss_mib(home, *args)
        set_id = subprocess.run([*CLI, "--home", str(home), "sets", "tree"], capture_output=True, text=True,
                                check=True).stdout.split()[0]
        peaks.setdefault("verify", {})[count] = peak_rss_mib(home, "verify", set_id)
        peaks.setdefault("one-file restore", {})[count] = peak_rss_mib(
            home, "restore", "tree", "--set", set_id, "--path", ONE, "--to", str(tmp_path / f"one-{count}"))
        peaks.setdefault("browse a folder", {})[count] = peak_rss_mib(home, "browse", set_id, "d150")
    shown = "; ".join(f"{name}: {sizes[SMALL]:.0f} -> {sizes[LARGE]:.0f} MiB" for name, sizes in peaks.items())
    for name, sizes in peaks.items():
        assert sizes[LARGE] - sizes[SMALL] < 30, f"{name} grows with the number of files ({shown})"


class CountingFile(io.RawIOBase):
    """A set or sidecar file whose every byte read is counted."""

    def __init__(self, inner, counter: list[int]) -> None:
        super().__init__()
        self._inner = inner
        self._counter = counter

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def fileno(self) -> int:
        return self._inner.fileno()

    def readinto(self, buffer) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._counter[0] += len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_one_file_restore_reads_a_bounded_number_of_bytes_whatever_the_set_size(trees, tmp_path: Path,
                                                                                  monkeypatch) -> None:
    from strongroom.core.engine import Engine
    from strongroom.core.paths import resolve_paths

    counter = [0]
    real_open = set_reader.open_regular
    monkeypatch.setattr(set_reader, "open_regular", lambda path: CountingFile(real_open(path), counter))
    read: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for count, tree in trees.items():
        engine = Engine(resolve_paths(str(tmp_path / f"home-{count}"), lock_dir=str(tmp_path / f"locks-{count}"),
                                      lock_scope="user"))
        engine.add_store("tree", "folder", str(tree))
        job = engine.backup_job("tree", BackupOptions(verify=False))
        assert job.run() == JobState.SUCCEEDED, job.error
        record = engine.catalog.get_set(job.set_id)
        sizes[count] = record.stored_bytes + Path(record.path).with_name(
            Path(record.path).name.replace(".tar.zst", ".manifest.json")).stat().st_size
        counter[0] = 0
        restore = engine.restore_job("tree", RestoreOptions(to=tmp_path / f"one-{count}", paths=(ONE,)))
        assert restore.run() == JobState.SUCCEEDED, restore.error
        assert (tmp_path / f"one-{count}" / ONE).read_bytes() == b"file 0\n"
        read[count] = counter[0]
    assert sizes[LARGE] > 8 * sizes[SMALL]
    for count in trees:  # one data frame at most, and a few manifest blocks
        assert read[count] < FRAME_TARGET + (256 << 10), (read, sizes)
    assert read[LARGE] < read[SMALL] + (128 << 10), (read, sizes)
