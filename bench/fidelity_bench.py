"""What each backup tool keeps of a real tree, and what sparse files and hard links cost.

Part 1 backs up the torture tree of the tests (tests/torture_tree.py: links of every
kind, hard links, FIFOs, set-id bits, owners, times before 1970 and in 2444, xattrs,
ACLs, sparse files, names with any byte, a path past PATH_MAX) with Strongroom, GNU tar
(with every metadata option it has), restic and borg (each with its best restore
options), restores each, and asks the independent walker (../shared/tools/tree_compare.py)
what came back. It prints one row per property and one column per tool.

Part 2 times, in the same run and on the same data, a 9 GiB sparse file holding 4 MiB of
data and a tree of 10,000 hard links: backup and restore with each tool, with what the
restore kept (allocated space; distinct inodes).

Usage: python bench/fidelity_bench.py [--work DIR] [--skip-others] [--sparse-gib N] [--links N]
Run as root: the tree holds files of other owners.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import torture_tree  # noqa: E402 - the same tree the tests use

TREE_COMPARE = REPO.parent / "shared" / "tools" / "tree_compare.py"
STRONGROOM = [sys.executable, "-m", "strongroom.core.cli.main"]
TAR_CREATE = ["--format=posix", "--xattrs", "--xattrs-include=*", "--acls", "--sparse"]
TAR_EXTRACT = ["--xattrs", "--xattrs-include=*", "--acls", "-p", "-S", "--warning=no-timestamp"]
RESTIC_ENV = {"RESTIC_PASSWORD": "bench"}
BORG_ENV = {"BORG_PASSPHRASE": "", "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
            "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes"}

DEEP = "/".join([torture_tree.DEEP_NAME] * torture_tree.DEEP_LEVELS) + "/leaf.txt"
# property -> (paths that show it, fields of tree_compare that must agree)
PROPERTIES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("file contents", ("docs/report.txt", "docs/large.bin", "hard/big-first"), ("sha256", "size")),
    ("absolute link", ("links/absolute",), ("type", "target")),
    ("link pointing out of the store", ("links/pointing-out",), ("type", "target")),
    ("dangling link, link to a folder", ("links/dangling", "links/to-folder"), ("type", "target")),
    ("link target not UTF-8", ("links/non-utf8-target",), ("type", "target")),
    ("hard links (one inode, all names)", ("hard/first", "hard/second", "docs/third-name", "hard/big-second"),
     ("type", "nlink", "links_group")),
    ("FIFO", ("fifo",), ("type", "mode")),
    ("set-id and sticky bits", ("setuid-tool", "setgid-tool", "shared-tmp"), ("mode",)),
    ("mode 000, read-only folder", ("no-access", "read-only-folder"), ("mode",)),
    ("owners: named and unnamed ids", ("owned-by-nobody", "owned-by-unnamed", "links/dangling"), ("uid", "gid")),
    ("mtime nanoseconds", ("hard/first",), ("mtime_ns",)),
    ("mtime before 1970", ("docs/report.txt", "links/absolute"), ("mtime_ns",)),
    ("mtime after 2038 (2381)", ("docs/random.bin",), ("mtime_ns",)),
    ("mtime in 2444 (ext4 ends 2446)", ("docs/empty",), ("mtime_ns",)),
    ("folder mtimes", ("docs", "links", "names", "sparse"), ("mtime_ns",)),
    ("store root: mode, mtime, xattr", (".",), ("mode", "mtime_ns", "xattrs")),
    ("xattrs on files and folders", ("docs/report.txt", "docs", "hard/first"), ("xattrs",)),
    ("xattr on a link (trusted.*)", ("links/absolute",), ("xattrs",)),
    ("POSIX ACLs, access and default", ("docs/report.txt", "shared-tmp"), ("xattrs",)),
    ("names: backslash, newline, controls", ("names/back\\slash", "names/new\nline", "names/tab\there",
                                             "names/control\x01\x1b"), ("sha256",)),
    ("names not UTF-8", (os.fsdecode(b"names/latin1-\xe9\xff"),), ("sha256",)),
    ("255-byte name", ("names/" + "n" * 255,), ("sha256",)),
    ("path past PATH_MAX (4096)", (DEEP,), ("sha256", "mtime_ns")),
]
SPARSE = ("sparse/holes", "sparse/ends-in-hole", "sparse/only-hole")


def shown(path: str) -> str:
    """A path as tree_compare.py names it in its report."""
    raw = path.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "backslashreplace").replace("\n", "\\n").replace("\t", "\\t")
    return text[:40] + f"...({len(raw)} bytes)..." + text[-40:] if len(text) > 90 else text


def sh(command: list[str], *, env: dict | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:  # tools exit non-zero when they lose entries: that is what the table shows
        print(f"[{command[0]} {command[1] if len(command) > 1 else ''}: exit {result.returncode}; "
              f"{result.stderr.strip().splitlines()[-1][-200:] if result.stderr.strip() else ''}]", file=sys.stderr)
    return elapsed


# -- the tools: back up SOURCE, restore into OUT; return the restored root and the seconds ------


def strongroom(source: Path, work: Path, out: Path) -> tuple[Path, float, float]:
    home = work / "strongroom-home"
    sh([*STRONGROOM, "--home", str(home), "store", "add", "s", "--type", "folder", str(source)])
    backup = sh([*STRONGROOM, "--home", str(home), "backup", "s"])
    restore = sh([*STRONGROOM, "--home", str(home), "restore", "s", "--to", str(out)])
    return out, backup, restore


def gnu_tar(source: Path, work: Path, out: Path) -> tuple[Path, float, float]:
    archive = work / "tar.tar.zst"
    backup = sh(["sh", "-c", f"tar {' '.join(repr(o) for o in TAR_CREATE)} -C '{source}' -cf - . "
                             f"| zstd -q -T0 -3 -o '{archive}'"])
    out.mkdir()
    restore = sh(["sh", "-c", f"zstd -dc '{archive}' | tar -x {' '.join(repr(o) for o in TAR_EXTRACT)} -C '{out}'"])
    return out, backup, restore


def restic(source: Path, work: Path, out: Path) -> tuple[Path, float, float]:
    env = {**RESTIC_ENV, "RESTIC_REPOSITORY": str(work / "restic-repo")}
    sh(["restic", "init", "-q"], env=env)
    backup = sh(["restic", "backup", "-q", str(source)], env=env)
    restore = sh(["restic", "restore", "latest", "-q", "--target", str(out)], env=env)
    return out / source.relative_to("/"), backup, restore


def borg(source: Path, work: Path, out: Path) -> tuple[Path, float, float]:
    repo = work / "borg-repo"
    sh(["borg", "init", "-e", "none", str(repo)], env=BORG_ENV)
    backup = sh(["borg", "create", "--compression", "zstd,3", f"{repo}::one", str(source)], env=BORG_ENV)
    out.mkdir()
    restore = sh(["borg", "extract", "--sparse", f"{repo}::one"], env=BORG_ENV, cwd=out)
    return out / source.relative_to("/"), backup, restore


TOOLS = {"strongroom": strongroom, "GNU tar": gnu_tar, "restic": restic, "borg": borg}


# -- part 1: what each keeps -------------------------------------------------------------------


def compare(original: Path, restored: Path, report: Path) -> dict:
    subprocess.run([sys.executable, str(TREE_COMPARE), str(original), str(restored), "--json", str(report)],
                   capture_output=True, timeout=600)
    return json.loads(report.read_text())


def verdicts(found: dict, source: Path, restored: Path) -> dict[str, str]:
    missing = set(found["missing"])
    diffs = {field: {path for path, _, _ in rows} for field, rows in found["diffs"].items()}
    result = {}
    for name, paths, fields in PROPERTIES:
        lost = [shown(path) for path in paths if shown(path) in missing]
        wrong = sorted({field for field in fields for path in paths if shown(path) in diffs.get(field, ())})
        result[name] = "missing" if lost else ("lost: " + ",".join(wrong) if wrong else "kept")
    holes = []
    for path in SPARSE:
        try:
            holes.append(os.lstat(restored / path).st_blocks <= os.lstat(source / path).st_blocks + 8)
        except FileNotFoundError:
            holes.append(False)
    result["sparse files keep their holes"] = "kept" if all(holes) else f"filled ({holes.count(False)} of 3)"
    result["nothing extra, nothing else"] = ("kept" if not found["extra"] else f"{len(found['extra'])} extra")
    return result


def part_one(work: Path, tools: list[str]) -> None:
    source = work / "torture"
    torture_tree.build(source)
    table: dict[str, dict[str, str]] = {}
    for tool in tools:
        place = work / tool.replace(" ", "-")
        place.mkdir()
        restored, _, _ = TOOLS[tool](source, place, place / "out")
        table[tool] = verdicts(compare(source, restored, place / "compare.json"), source, restored)
        print(f"[{tool}: done]", file=sys.stderr)
    names = [name for name, _, _ in PROPERTIES] + ["sparse files keep their holes", "nothing extra, nothing else"]
    print(f"| property | {' | '.join(tools)} |")
    print(f"|---|{'---|' * len(tools)}")
    for name in names:
        print(f"| {name} | {' | '.join(table[tool][name] for tool in tools)} |")
    torture_tree.remove(source)


# -- part 2: sparse files and hard links -------------------------------------------------------


def make_sparse(root: Path, gib: int) -> None:
    root.mkdir()
    with open(root / "disk.img", "wb") as out:
        for index in range(4):  # 4 MiB of data in four places
            out.seek(index * (gib << 30) // 4)
            out.write(os.urandom(1 << 20))
        out.truncate(gib << 30)


def make_links(root: Path, links: int) -> None:
    root.mkdir()
    for folder in range(50):
        (root / f"d{folder:02d}").mkdir()
    for index in range(links // 10):
        first = root / f"d{index % 50:02d}" / f"file{index:05d}"
        first.write_bytes(os.urandom(2000))
        for copy in range(10):
            os.link(first, root / f"d{(index + copy + 1) % 50:02d}" / f"link{index:05d}-{copy}")


def kept(tool_root: Path, kind: str) -> str:
    if kind == "sparse":
        status = os.stat(tool_root / "disk.img")
        return f"{status.st_blocks * 512 / (1 << 20):,.0f} MiB allocated"
    inodes = {os.lstat(path).st_ino for path in tool_root.rglob("*") if path.is_file()}
    names = sum(1 for path in tool_root.rglob("*") if path.is_file())
    return f"{names} names, {len(inodes)} inodes"


def part_two(work: Path, tools: list[str], gib: int, links: int) -> None:
    cases = {"sparse": (f"{gib} GiB sparse file, 4 MiB of data", lambda root: make_sparse(root, gib)),
             "links": (f"{links:,} hard links ({links // 10:,} files)", lambda root: make_links(root, links))}
    rows = []
    for kind, (label, make) in cases.items():
        source = work / f"data-{kind}"
        make(source)
        subprocess.run(["sync"], check=True)
        for tool in tools:
            place = work / f"{kind}-{tool.replace(' ', '-')}"
            place.mkdir()
            restored, backup, restore = TOOLS[tool](source, place, place / "out")
            rows.append((label, tool, backup, restore, kept(restored, kind)))
            shutil.rmtree(place)
            print(f"[{kind} {tool}: done]", file=sys.stderr)
        shutil.rmtree(source)
    print("\n| data | tool | backup s | vs tar | restore s | vs tar | restored |")
    print("|---|---|---|---|---|---|---|")
    for label, tool, backup, restore, what in rows:
        tar = next(row for row in rows if row[0] == label and row[1] == "GNU tar")
        print(f"| {label} | {tool} | {backup:.2f} | {backup / tar[2]:.2f}x | {restore:.2f} | {restore / tar[3]:.2f}x "
              f"| {what} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--skip-others", action="store_true", help="only Strongroom and GNU tar")
    parser.add_argument("--sparse-gib", type=int, default=9)
    parser.add_argument("--links", type=int, default=10_000)
    args = parser.parse_args()
    tools = ["strongroom", "GNU tar"] + [tool for tool in ("restic", "borg")
                                         if shutil.which(tool) and not args.skip_others]
    with tempfile.TemporaryDirectory(prefix="strongroom-fidelity-", dir=args.work) as work:
        try:
            (Path(work) / "one").mkdir()
            part_one(Path(work) / "one", tools)
            part_two(Path(work), tools, args.sparse_gib, args.links)
        finally:
            subprocess.run(["chmod", "-R", "u+rwx", work], capture_output=True)
    versions = {tool: subprocess.run([tool, "version" if tool == "restic" else "--version"], capture_output=True,
                                     text=True).stdout.splitlines()[0] for tool in tools[2:]}
    print(f"\n{os.cpu_count()} CPUs; " + "; ".join(versions.values()))


if __name__ == "__main__":
    main()
