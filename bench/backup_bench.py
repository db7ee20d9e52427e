"""Benchmark of backup, restore and verify against the standard tools on the same data.

Makes its data once (kept in --data for later runs): a mixed tree of compressible and
incompressible files (default about 1 GiB), a tree of many small files (default
50,000), and a SQLite database. Then, in one run, times each operation for Strongroom
and for ``tar | zstd -T0 -3`` / ``zstd -dc | tar -x`` — and restic and borg when they
are installed — and prints times, ratios to tar+zstd, and each run's peak memory.

Usage: python bench/backup_bench.py [--data DIR] [--size-mib N] [--small-files N] [--skip-others]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

STRONGROOM = [sys.executable, "-m", "strongroom.core.cli.main"]
_TABLE = bytes((b"etaoinshrdlu \n,.-"[i % 17]) for i in range(256))
MEASURE = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
           "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
           "elapsed = time.perf_counter() - start; usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(code, elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)")


ROUNDS = 3


@dataclass
class Result:
    seconds: float
    peak_mib: float
    cpu_seconds: float = 0.0  # user + system time of the command and its children (not of a server it talks to)


def median(results: list[Result]) -> Result:
    ordered = sorted(results, key=lambda result: result.seconds)
    return ordered[len(ordered) // 2]


def run(command: list[str] | str, env: dict | None = None) -> Result:
    """Time a command (a shell pipeline when a string) and the peak RSS of its largest process."""
    argv = ["sh", "-c", command] if isinstance(command, str) else command
    output = subprocess.run([sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, env=env,
                            check=True).stdout.split()
    code, elapsed, peak_kib, cpu = int(output[0]), float(output[1]), int(output[2]), float(output[3])
    if code != 0:
        raise SystemExit(f"benchmark command failed with {code}: {command}")
    return Result(elapsed, peak_kib / 1024, cpu)


# -- data ------------------------------------------------------------------------------------

def make_mixed(root: Path, size_mib: int) -> None:
    """Files from 1 to 128 MiB, half random bytes, half text-like (compresses about 2:1)."""
    root.mkdir(parents=True)
    rng = random.Random(7)
    written, index = 0, 0
    while written < size_mib:
        size = min(rng.choice([1, 2, 4, 8, 16, 32, 64, 128]), size_mib - written)
        compressible = index % 2 == 0
        with open(root / f"{'text' if compressible else 'random'}-{index:03d}.bin", "wb") as out:
            for _ in range(size):
                chunk = os.urandom(1 << 20)
                out.write(chunk.translate(_TABLE) if compressible else chunk)
        written += size
        index += 1


def make_small_files(root: Path, count: int) -> None:
    rng = random.Random(11)
    for index in range(count):
        folder = root / f"d{index // 100:04d}"
        if index % 100 == 0:
            folder.mkdir(parents=True)
        size = rng.randint(200, 6000)
        (folder / f"f{index:06d}.txt").write_bytes(os.urandom(size).translate(_TABLE))


def make_database(path: Path, rows: int) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    payload = os.urandom(600).translate(_TABLE).decode()
    connection.executemany("INSERT INTO t VALUES (?, ?)", ((i, payload) for i in range(rows)))
    connection.commit()
    connection.close()


def prepare(data: Path, size_mib: int, small_files: int) -> dict[str, Path]:
    paths = {"mixed": data / f"mixed-{size_mib}", "small": data / f"small-{small_files}",
             "sqlite": data / "db-200k.sqlite"}
    if not paths["mixed"].exists():
        make_mixed(paths["mixed"], size_mib)
    if not paths["small"].exists():
        make_small_files(paths["small"], small_files)
    if not paths["sqlite"].exists():
        make_database(paths["sqlite"], 200_000)
    return paths


# -- the tools --------------------------------------------------------------------------------

IN_PROCESS_RESTORE = """
import sys, time
from pathlib import Path
from strongroom.core.engine import Engine
from strongroom.core.paths import resolve_paths
from strongroom.core.restore import RestoreOptions
home, name, set_id, member, out = sys.argv[1:]
engine = Engine(resolve_paths(home))
started = time.perf_counter()
job = engine.restore_job(name, RestoreOptions(to=Path(out), paths=(member,)), set_id=set_id)
job.run()
print(job.state.value, time.perf_counter() - started)
"""


def restore_in_process(home: Path, name: str, set_id: str, member: str, out: Path) -> Result:
    """One file restored by the engine, timed without the interpreter's start-up."""
    output = subprocess.run([sys.executable, "-c", IN_PROCESS_RESTORE, str(home), name, set_id, member, str(out)],
                            capture_output=True, text=True, check=True).stdout.split()
    if output[0] != "succeeded":
        raise SystemExit(f"in-process restore of {member} ended {output[0]}")
    return Result(float(output[1]), 0.0)


def strongroom(home: Path, *args: str) -> list[str]:
    return [*STRONGROOM, "--home", str(home), *args]


def bench_dataset(name: str, source: Path, store_type: str, work: Path, others: dict[str, bool]) -> list[tuple]:
    rows: list[tuple] = []
    home = work / f"home-{name}"
    subprocess.run(strongroom(home, "store", "add", name, "--type", store_type, str(source)), check=True,
                   capture_output=True)
    folder = source if store_type == "folder" else source.parent
    member = "" if store_type == "folder" else source.name

    def add(operation: str, tool: str, result: Result) -> None:
        rows.append((name, operation, tool, result))

    # The headline pair runs ROUNDS times, alternating, and reports the median: on a small
    # shared machine one run of either varies by a third.
    # Strongroom fsyncs every set before it counts; "then sync" is tar | zstd made as durable.
    tar = f"tar -C '{folder}' -cf - {member or '.'} | zstd -q -f -T0 -3 -o '{work}/{name}.tar.zst'"
    ours, theirs, synced = [], [], []
    for _ in range(ROUNDS):
        ours.append(run(strongroom(home, "backup", name, "--no-verify")))
        theirs.append(run(tar))
        synced.append(run(f"{tar} && sync '{work}/{name}.tar.zst'"))
    add("full backup (median of 3)", "strongroom", median(ours))
    add("full backup (median of 3)", "tar | zstd -T0 -3", median(theirs))
    add("full backup (median of 3)", "(tar | zstd, then sync)", median(synced))
    add("full backup + verify", "strongroom", run(strongroom(home, "backup", name)))
    add("incremental, nothing changed", "strongroom",
        run(strongroom(home, "backup", name, "--incremental", "--no-verify")))
    set_id = subprocess.run(strongroom(home, "sets", name), capture_output=True, text=True,
                            check=True).stdout.split()[0]
    add("verify", "strongroom", run(strongroom(home, "verify", set_id)))
    add("verify", "zstd -t", run(f"zstd -q -t '{work}/{name}.tar.zst'"))
    add("full restore", "strongroom", run(strongroom(home, "restore", name, "--set", set_id, "--to",
                                                     str(work / f"out-{name}"))))
    (work / f"tar-{name}").mkdir()
    add("full restore", "zstd -dc | tar -x", run(f"zstd -dc '{work}/{name}.tar.zst' | tar -x -C '{work}/tar-{name}'"))
    largest = max((p for p in source.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size) \
        if store_type == "folder" else source
    relative = largest.relative_to(source).as_posix() if store_type == "folder" else largest.name
    if store_type == "folder":
        smallest = min((p for p in source.rglob("*") if p.is_file()), key=lambda p: (p.stat().st_size, str(p)))
        add("one small file restore", "strongroom", run(strongroom(
            home, "restore", name, "--set", set_id, "--path", smallest.relative_to(source).as_posix(), "--to",
            str(work / f"one-{name}"))))
        add("one small file restore", "zstd -dc | tar -x FILE", run(
            f"zstd -dc '{work}/{name}.tar.zst' | tar -x -C '{work}/tar-{name}' "
            f"'./{smallest.relative_to(source).as_posix()}'"))
        add("largest file restore", "strongroom", run(strongroom(
            home, "restore", name, "--set", set_id, "--path", relative, "--to", str(work / f"largest-{name}"))))
        add("one file, engine only", "strongroom (no start-up)", restore_in_process(
            home, name, set_id, smallest.relative_to(source).as_posix(), work / f"engine-one-{name}"))
    if others.get("restic"):
        repo = work / f"restic-{name}"
        env = {**os.environ, "RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(repo)}
        subprocess.run(["restic", "init", "-q"], env=env, check=True, capture_output=True)
        add("full backup", "restic", run(["restic", "backup", "-q", str(source)], env=env))
        add("incremental, nothing changed", "restic", run(["restic", "backup", "-q", str(source)], env=env))
        add("full restore", "restic", run(["restic", "restore", "latest", "-q", "--target",
                                           str(work / f"restic-out-{name}")], env=env))
    if others.get("borg"):
        repo = work / f"borg-{name}"
        env = {**os.environ, "BORG_PASSPHRASE": "", "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}
        subprocess.run(["borg", "init", "-e", "none", str(repo)], env=env, check=True, capture_output=True)
        add("full backup", "borg (zstd,3)", run(["borg", "create", "--compression", "zstd,3", f"{repo}::one",
                                                 str(source)], env=env))
        add("incremental, nothing changed", "borg (zstd,3)",
            run(["borg", "create", "--compression", "zstd,3", f"{repo}::two", str(source)], env=env))
        out = work / f"borg-out-{name}"
        out.mkdir()
        add("full restore", "borg (zstd,3)", run(f"cd '{out}' && borg extract '{repo}::one'", env=env))
    return rows


def print_table(rows: list[tuple]) -> None:
    def base(operation: str) -> str:
        return operation.split(" (")[0].replace(" + verify", "")

    reference = {(name, base(op)): result.seconds for name, op, tool, result in rows
                 if tool.startswith(("tar", "zstd"))}
    print(f"{'data':<8} {'operation':<30} {'tool':<26} {'seconds':>8} {'vs tar+zstd':>12} {'peak MiB':>9}")
    for name, operation, tool, result in rows:
        reference_seconds = reference.get((name, base(operation)))
        ratio = f"{result.seconds / reference_seconds:.2f}x" if reference_seconds else ""
        print(f"{name:<8} {operation:<30} {tool:<26} {result.seconds:>8.3f} {ratio:>12} {result.peak_mib:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "strongroom-bench-data")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=50_000)
    parser.add_argument("--skip-others", action="store_true", help="do not run restic and borg")
    args = parser.parse_args()
    paths = prepare(args.data, args.size_mib, args.small_files)
    subprocess.run(["sync"], check=True)  # no tool pays for writing back the generated data
    others = {tool: bool(shutil.which(tool)) and not args.skip_others for tool in ("restic", "borg")}
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-", dir=args.data) as work:
        for name, store_type in (("mixed", "folder"), ("small", "folder"), ("sqlite", "sqlite")):
            started = time.perf_counter()
            rows += bench_dataset(name, paths[name], store_type, Path(work), others)
            print(f"[{name}: {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    print_table(rows)
    print(f"\nrestic: {'yes' if others['restic'] else 'not run'}; borg: {'yes' if others['borg'] else 'not run'}; "
          f"{os.cpu_count()} CPUs; data in {args.data}")


if __name__ == "__main__":
    main()
