"""How time and memory grow with the number of files, for Strongroom and the standard tools.

Makes trees of small files (1-16 KiB, 100 per folder) at each size asked for — by default
10,000, 100,000 and 1,000,000 — once, cached in --data outside the repository. For each
size it times, and takes the peak RSS of, each operation with Strongroom (full backup
without and with verify, incremental with nothing changed, incremental with 1% changed,
verify, browse, restore everything, restore one file), with tar | zstd, and with restic
(and borg) when installed. Then it fits a straight line through the sizes: microseconds
and bytes of RSS per file, for each tool and operation.

    python bench/scale_bench.py [--sizes 10000,100000,1000000] [--data DIR] [--skip-others]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from backup_bench import _TABLE, Result, run  # noqa: E402 - the same timing and RSS measurement

STRONGROOM = [sys.executable, "-m", "strongroom.core.cli.main"]
RESTIC_ENV = {"RESTIC_PASSWORD": "bench"}
BORG_ENV = {"BORG_PASSPHRASE": "", "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}


def make_tree(root: Path, files: int) -> None:
    """``files`` files of 1-16 KiB of text-like bytes, 100 to a folder, 100 folders to a parent."""
    rng = random.Random(files)
    partial = root.with_name(root.name + ".making")
    shutil.rmtree(partial, ignore_errors=True)
    block = os.urandom(16384).translate(_TABLE)
    for index in range(files):
        folder = partial / f"p{index // 10000:03d}" / f"d{index // 100 % 100:02d}"
        if index % 100 == 0:
            folder.mkdir(parents=True)
        size = rng.randint(1024, 16384)
        start = rng.randrange(0, 16384 - size + 1)
        (folder / f"f{index:07d}.txt").write_bytes(block[start:start + size])
    partial.rename(root)


def change_one_percent(root: Path, files: int, round_number: int) -> None:
    rng = random.Random(files + round_number)
    for index in rng.sample(range(files), max(1, files // 100)):
        path = root / f"p{index // 10000:03d}" / f"d{index // 100 % 100:02d}" / f"f{index:07d}.txt"
        with open(path, "ab") as out:
            out.write(b"changed %d\n" % round_number)


def strongroom(home: Path, *args: str) -> list[str]:
    return [*STRONGROOM, "--home", str(home), *args]


def bench_size(files: int, tree: Path, work: Path, others: dict[str, bool]) -> list[tuple[int, str, str, Result]]:
    rows = []
    home = work / f"home-{files}"

    def add(operation: str, tool: str, result: Result) -> None:
        rows.append((files, operation, tool, result))
        print(f"[{files:>9,} {operation:<30} {tool:<12} {result.seconds:8.2f} s {result.peak_mib:7.0f} MiB]",
              file=sys.stderr, flush=True)

    subprocess.run(strongroom(home, "store", "add", "tree", "--type", "folder", str(tree)), check=True,
                   capture_output=True)
    archive = work / f"tar-{files}.tar.zst"
    add("full backup, no verify", "tar | zstd", run(f"tar -C '{tree}' -cf - . | zstd -q -f -T0 -3 -o '{archive}'"))
    add("full backup, no verify", "strongroom", run(strongroom(home, "backup", "tree", "--no-verify")))
    add("full backup + verify", "strongroom", run(strongroom(home, "backup", "tree")))
    add("incremental, nothing changed", "strongroom",
        run(strongroom(home, "backup", "tree", "--incremental", "--no-verify")))
    set_id = subprocess.run(strongroom(home, "sets", "tree"), capture_output=True, text=True,
                            check=True).stdout.split()[0]
    add("verify", "strongroom", run(strongroom(home, "verify", set_id)))
    add("browse everything (JSON)", "strongroom", run(strongroom(home, "browse", set_id, "--json")))
    middle = files // 2
    folder = f"p{middle // 10000:03d}/d{middle // 100 % 100:02d}"
    add("browse one folder", "strongroom", run(strongroom(home, "browse", set_id, folder)))
    shown = subprocess.run([sys.executable, str(Path(__file__).with_name("wizard_items.py")), str(home), "tree"],
                           capture_output=True, text=True, check=True).stdout.split()[0]
    add("restore wizard, first level", "strongroom",
        Result(float(shown), run([sys.executable, str(Path(__file__).with_name("wizard_items.py")), str(home),
                                  "tree"]).peak_mib))
    out = work / f"out-{files}"
    add("restore everything", "strongroom", run(strongroom(home, "restore", "tree", "--set", set_id, "--to", str(out))))
    (work / f"tar-out-{files}").mkdir()
    add("restore everything", "zstd -dc | tar -x", run(f"zstd -dc '{archive}' | tar -x -C '{work}/tar-out-{files}'"))
    one = "p000/d00/f0000000.txt"
    add("restore one file", "strongroom", run(strongroom(home, "restore", "tree", "--set", set_id, "--path", one,
                                                         "--to", str(work / f"one-{files}"))))
    add("restore one file", "zstd -dc | tar -x", run(f"zstd -dc '{archive}' | tar -x -C '{work}/tar-out-{files}' "
                                                     f"'./{one}'"))
    deep = f"{folder}/f{middle:07d}.txt"
    add("restore one file, mid-set", "strongroom", run(strongroom(home, "restore", "tree", "--set", set_id, "--path",
                                                                  deep, "--to", str(work / f"mid-{files}"))))
    if others.get("restic"):
        env = {**os.environ, **RESTIC_ENV, "RESTIC_REPOSITORY": str(work / f"restic-{files}")}
        subprocess.run(["restic", "init", "-q"], env=env, check=True, capture_output=True)
        add("full backup, no verify", "restic", run(["restic", "backup", "-q", str(tree)], env=env))
        add("incremental, nothing changed", "restic", run(["restic", "backup", "-q", str(tree)], env=env))
        add("restore one file", "restic", run(["restic", "restore", "latest", "-q", "--target",
                                               str(work / f"restic-one-{files}"), "--include", f"{tree}/{one}"],
                                              env=env))
        add("restore everything", "restic", run(["restic", "restore", "latest", "-q", "--target",
                                                 str(work / f"restic-all-{files}")], env=env))
    if others.get("borg"):
        env = {**os.environ, **BORG_ENV}
        repo = work / f"borg-{files}"
        subprocess.run(["borg", "init", "-e", "none", str(repo)], env=env, check=True, capture_output=True)
        add("full backup, no verify", "borg", run(["borg", "create", "--compression", "zstd,3", f"{repo}::one",
                                                   str(tree)], env=env))
        add("incremental, nothing changed", "borg", run(["borg", "create", "--compression", "zstd,3",
                                                         f"{repo}::two", str(tree)], env=env))
    change_one_percent(tree, files, 1)
    add("incremental, 1% changed", "strongroom", run(strongroom(home, "backup", "tree", "--incremental",
                                                                "--no-verify")))
    if others.get("restic"):
        env = {**os.environ, **RESTIC_ENV, "RESTIC_REPOSITORY": str(work / f"restic-{files}")}
        add("incremental, 1% changed", "restic", run(["restic", "backup", "-q", str(tree)], env=env))
    return rows


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through (files, value)."""
    count = len(points)
    mean_x = sum(x for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    return slope, mean_y - slope * mean_x


def print_tables(rows: list[tuple[int, str, str, Result]], sizes: list[int]) -> None:
    keys = list(dict.fromkeys((operation, tool) for _, operation, tool, _ in rows))
    found = {(files, operation, tool): result for files, operation, tool, result in rows}
    header = " | ".join(f"{size:,} files" for size in sizes)
    print(f"| operation | tool | {header} | µs/file | RSS bytes/file |")
    print(f"|---|---|{'---|' * len(sizes)}---|---|")
    for operation, tool in keys:
        results = [found.get((size, operation, tool)) for size in sizes]
        cells = " | ".join(f"{r.seconds:.2f} s, {r.peak_mib:.0f} MiB" if r else "—" for r in results)
        measured = [(size, r) for size, r in zip(sizes, results) if r]
        if len(measured) >= 2:
            per_file = fit([(size, r.seconds) for size, r in measured])[0] * 1e6
            rss = fit([(size, r.peak_mib * (1 << 20)) for size, r in measured])[0]
            slopes = f"{per_file:.1f} | {rss:.0f}"
        else:
            slopes = "— | —"
        print(f"| {operation} | {tool.replace('|', chr(92) + '|')} | {cells} | {slopes} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="tree sizes, comma-separated")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "strongroom-scale-data")
    parser.add_argument("--skip-others", action="store_true", help="do not run restic and borg")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    args.data.mkdir(parents=True, exist_ok=True)
    # Byte-compile Strongroom first, as an installed package is: with PYTHONDONTWRITEBYTECODE set (this
    # machine sets it) every command would compile its ~90 modules again, 0.09 s of each run.
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "core"), str(root / "gui")], check=True,
                   capture_output=True)
    others = {tool: bool(shutil.which(tool)) and not args.skip_others for tool in ("restic", "borg")}
    rows = []
    for files in sizes:
        cached = args.data / f"tree-{files}"
        if not cached.exists():
            print(f"[making a tree of {files:,} files in {cached}]", file=sys.stderr, flush=True)
            make_tree(cached, files)
        with tempfile.TemporaryDirectory(prefix="strongroom-scale-", dir=args.data) as work:
            tree = Path(work) / "tree"
            subprocess.run(["cp", "-a", str(cached), str(tree)], check=True)  # the 1% change must not stay
            subprocess.run(["sync"], check=True)
            rows += bench_size(files, tree, Path(work), others)
    print_tables(rows, sizes)
    print(f"\n{os.cpu_count()} CPUs; restic: {'yes' if others['restic'] else 'not run'}; "
          f"borg: {'yes' if others['borg'] else 'not run'}; trees cached in {args.data}")


if __name__ == "__main__":
    main()
