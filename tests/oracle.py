"""Independent checks for restore tests: the shared tree walker, GNU tar and cp.

None of these share code with Strongroom, so a test that uses them does not check
Strongroom against itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

TREE_COMPARE = Path(__file__).resolve().parents[2] / "shared" / "tools" / "tree_compare.py"
TAR_OPTIONS = ["--xattrs", "--xattrs-include=*", "--acls", "-p", "-S"]


def compare(original: Path, restored: Path, tmp_path: Path, *, ignore: str = "") -> dict:
    """What ``tree_compare.py`` finds between two trees: {"missing", "extra", "diffs", "ok", "report"}."""
    assert TREE_COMPARE.is_file(), f"the independent tree walker is missing at {TREE_COMPARE}"
    out = tmp_path / f"compare-{restored.name}.json"
    command = [sys.executable, str(TREE_COMPARE), str(original), str(restored), "--json", str(out)]
    if ignore:
        command += ["--ignore", ignore]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    found = json.loads(out.read_text())
    found["ok"] = result.returncode == 0
    found["report"] = result.stdout[-6000:]
    return found


def tar_extract(set_path: Path, into: Path, *, timestamp_warnings: bool = False) -> list[str]:
    """``zstd -dc SET | tar -x`` with every option GNU tar has for metadata; what tar printed, line by line.

    GNU tar remarks on dates it finds implausible (before 1970, far in the future) whoever wrote the
    archive; ``timestamp_warnings`` keeps those remarks, with their ever-changing "N s in the future"
    made comparable.
    """
    into.mkdir()
    quiet = "" if timestamp_warnings else "--warning=no-timestamp"
    command = f"zstd -dc '{set_path}' | tar -x {' '.join(repr(o) for o in TAR_OPTIONS)} {quiet} -C '{into}'"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    return [re.sub(r"is [0-9.]+ s in the future", "is N s in the future", line)
            for line in result.stderr.splitlines() if line.strip()]


def tar_archive(source: Path, path: Path) -> None:
    """GNU tar's own archive of a tree, with every metadata option it has, compressed with zstd."""
    command = (f"tar --format=posix --xattrs --xattrs-include='*' --acls --sparse -C '{source}' -cf - . "
               f"| zstd -q -o '{path}'")
    subprocess.run(command, shell=True, capture_output=True, timeout=300)


def snapshot(source: Path, into: Path) -> None:
    """A copy of a tree taken with GNU cp, keeping everything (the reference for a point in time)."""
    subprocess.run(["cp", "-a", "--sparse=always", str(source), str(into)], check=True, timeout=300)


def has_tools(*names: str) -> bool:
    return all(shutil.which(name) for name in names)
