"""Benchmark of database stores against the servers' own dump tools, and of four store types at once.

Starts a throwaway PostgreSQL and MariaDB server (the tests' own starter, tests/db_servers.py),
fills one database on each with --size-mib of table data (four tables, so a parallel dump has
something to share out), and in one run times, as the median of --rounds:

- PostgreSQL: Strongroom's backup; ``pg_dump | zstd -T0 -3`` (plain SQL, the streamed
  reference the ratio is taken against); ``pg_dump -Fc -Z0 | zstd`` (custom format, streamed:
  what Strongroom's driver runs, without Strongroom); ``pg_dump -Fd -j N -Z0`` then
  ``tar | zstd`` (the parallel directory format, which cannot be streamed).
- MariaDB: Strongroom's backup; ``mariadb-dump --single-transaction ... | zstd -T0 -3``.
- Four stores of four types (a folder, a SQLite file and the two databases, sized so each
  takes a similar time): one ``strongroom backup`` of all four against the four one after
  the other; the target is at most 0.6x the sum.

Prints a table with times, ratios and peak memory. Usage:
    python bench/database_bench.py [--size-mib 1024] [--rounds 3] [--skip-parallel] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backup_bench import Result, make_mixed, median, run, strongroom  # noqa: E402

from tests.db_servers import Server, start_mariadb, start_postgresql  # noqa: E402

TABLES = 4
ROW_BYTES = 200  # what one generated row takes on disk, about, in either server


def fill_postgresql(server: Server, database: str, size_mib: int) -> None:
    server.create_database(database)
    rows = size_mib * (1 << 20) // ROW_BYTES // TABLES
    for table in range(TABLES):
        server.sql(f"CREATE TABLE t{table} (id bigint PRIMARY KEY, bucket int NOT NULL, payload text NOT NULL);"
                   f"INSERT INTO t{table} SELECT g, g % 1000, repeat(md5(g::text), 3) || md5(random()::text) "
                   f"FROM generate_series(1, {rows}) AS g; ANALYZE t{table};", database, timeout=1800)


def fill_mariadb(server: Server, database: str, size_mib: int) -> None:
    server.create_database(database)
    rows = size_mib * (1 << 20) // ROW_BYTES // TABLES
    for table in range(TABLES):
        server.sql(f"CREATE TABLE t{table} (id BIGINT PRIMARY KEY, bucket INT NOT NULL, payload TEXT NOT NULL) "
                   f"ENGINE=InnoDB; INSERT INTO t{table} SELECT seq, seq % 1000, "
                   f"CONCAT(REPEAT(MD5(seq), 3), MD5(RAND())) FROM seq_1_to_{rows}; ANALYZE TABLE t{table};", database,
                   timeout=1800)


def database_mib(server: Server, database: str) -> float:
    if server.kind == "postgresql":
        return int(server.sql(f"SELECT pg_database_size('{database}')").strip()) / (1 << 20)
    return int(server.sql("SELECT SUM(data_length + index_length) FROM information_schema.tables "
                          f"WHERE table_schema = '{database}'").strip()) / (1 << 20)


def pg_tools(server: Server) -> tuple[str, str, dict]:
    """pg_dump's path, its connection flags, and an environment that gives it the password."""
    from tests.db_servers import _pg_bin

    flags = f"-h 127.0.0.1 -p {server.port} -U {server.superuser} --no-password"
    return _pg_bin("pg_dump") or "pg_dump", flags, {**os.environ, "PGPASSFILE": str(server.credentials)}


def mariadb_dump(server: Server, database: str) -> str:
    return (f"mariadb-dump --defaults-extra-file='{server.credentials}' --protocol=TCP -h 127.0.0.1 "
            f"-P {server.port} -u {server.superuser} --single-transaction --routines --triggers --events "
            f"--hex-blob --quick {database}")


def _store_and_output(server: Server, database: str, work: Path) -> tuple[Path, Path]:
    """A home with the database as store "db", and an output folder for the reference tools."""
    home = work / f"home-{server.kind}"
    subprocess.run(strongroom(home, "store", "add", "db", "--type", server.kind, server.url(database)),
                   check=True, capture_output=True)
    return home, work / f"{server.kind}-out"


def bench_postgresql(server: Server, database: str, work: Path, rounds: int) -> list[tuple]:
    home, out = _store_and_output(server, database, work)
    pg_dump, flags, env = pg_tools(server)
    jobs = max(1, min(4, os.cpu_count() or 1))
    pipelines = {
        "strongroom backup": strongroom(home, "backup", "db", "--no-verify"),
        "pg_dump | zstd -T0 -3": f"{pg_dump} {flags} {database} | zstd -q -T0 -3 -o '{out}/plain.sql.zst'",
        "pg_dump -Fc -Z0 | zstd -T0 -3": f"{pg_dump} {flags} -Fc -Z0 {database} | zstd -q -T0 -3 "
                                        f"-o '{out}/custom.zst'",
        f"pg_dump -Fd -j{jobs} -Z0, tar | zstd": f"{pg_dump} {flags} -Fd -j{jobs} -Z0 -f '{out}/dir' {database} && "
                                                f"tar -C '{out}' -cf - dir | zstd -q -T0 -3 -o '{out}/dir.tar.zst'",
    }
    return _rounds("postgresql", pipelines, rounds, env, out)


def bench_mariadb(server: Server, database: str, work: Path, rounds: int) -> list[tuple]:
    home, out = _store_and_output(server, database, work)
    pipelines = {
        "strongroom backup": strongroom(home, "backup", "db", "--no-verify"),
        "mariadb-dump | zstd -T0 -3": f"{mariadb_dump(server, database)} | zstd -q -T0 -3 -o '{out}/dump.sql.zst'",
    }
    return _rounds("mariadb", pipelines, rounds, None, out)


def _rounds(label: str, pipelines: dict, rounds: int, env: dict | None, out: Path) -> list[tuple]:
    """Each pipeline ``rounds`` times, alternating (a shared machine drifts), into an emptied ``out``; the medians."""

    def clear() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()

    found: dict[str, list[Result]] = {name: [] for name in pipelines}
    for _ in range(rounds):
        for name, command in pipelines.items():
            clear()
            found[name].append(run(command, env=env))
    return [(label, name, median(results)) for name, results in found.items()]


def make_sqlite(path: Path, size_mib: int) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, bucket INTEGER, payload TEXT)")
    rows = size_mib * (1 << 20) // ROW_BYTES
    connection.execute("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
                       "INSERT INTO t SELECT n, n % 1000, printf('%.96x%.32x', n * 2654435761, random()) FROM g",
                       (rows,))
    connection.commit()
    connection.close()


def bench_four_types(servers: dict[str, Server], work: Path, size_mib: int, rounds: int) -> list[tuple]:
    """One backup of four stores of four types against the same four one after the other."""
    folder, sqlite_file = work / "four-folder", work / "four.sqlite"
    make_mixed(folder, size_mib)
    make_sqlite(sqlite_file, size_mib)
    home = work / "home-four"
    stores = {"files": ("folder", str(folder)), "ledger": ("sqlite", str(sqlite_file)),
              "orders": ("postgresql", servers["postgresql"].url("bench_four")),
              "accounts": ("mariadb", servers["mariadb"].url("bench_four"))}
    for name, (kind, path) in stores.items():
        subprocess.run(strongroom(home, "store", "add", name, "--type", kind, path), check=True, capture_output=True)
    subprocess.run(["sync"], check=True)
    together: list[Result] = []
    each: dict[str, list[Result]] = {name: [] for name in stores}
    for _ in range(rounds):
        together.append(run(strongroom(home, "backup", *stores, "--no-verify")))
        for name in stores:
            each[name].append(run(strongroom(home, "backup", name, "--no-verify")))
    rows = [("four types", f"{name} ({stores[name][0]}) alone", median(results)) for name, results in each.items()]
    alone = sum(median(results).seconds for results in each.values())
    cpu = sum(median(results).cpu_seconds for results in each.values())
    rows.append(("four types", "the four one after the other (sum)",
                 Result(alone, max(row[2].peak_mib for row in rows), cpu)))
    rows.append(("four types", "one backup of all four", median(together)))
    cores = os.cpu_count() or 1
    rows.append(("four types", f"floor: their CPU time / {cores} cores", Result(cpu / cores, 0.0, cpu)))
    return rows


def print_table(rows: list[tuple]) -> None:
    reference = {"postgresql": "pg_dump | zstd -T0 -3", "mariadb": "mariadb-dump | zstd -T0 -3",
                 "four types": "the four one after the other (sum)"}
    base = {(label, tool): result.seconds for label, tool, result in rows}
    print(f"{'data':<11} {'tool':<40} {'seconds':>8} {'ratio':>7} {'CPU s':>7} {'peak MiB':>9}")
    for label, tool, result in rows:
        reference_seconds = base.get((label, reference[label]))
        ratio = f"{result.seconds / reference_seconds:.2f}x" if reference_seconds else ""
        print(f"{label:<11} {tool:<40} {result.seconds:>8.2f} {ratio:>7} {result.cpu_seconds:>7.2f} "
              f"{result.peak_mib:>9.0f}")
    print("ratio: to the row it is compared with (the plain streamed dump; for four types, the sum); "
          "targets: database backups <= 1.10x, four at once <= 0.60x. CPU s: the client side only (the "
          "command and its children), not the server's own processes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="table data in each benchmarked database")
    parser.add_argument("--four-mib", type=int, default=0,
                        help="size of each of the four stores of the four-type run (default: a quarter of --size-mib)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-parallel", action="store_true", help="do not run the four-type comparison")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    started = time.perf_counter()
    stops = []
    try:
        servers = {}
        for start in (start_postgresql, start_mariadb):
            server, _, stop = start()
            stops.append(stop)
            servers[server.kind] = server
        rows: list[tuple] = []
        sizes = {}
        with tempfile.TemporaryDirectory(prefix="strongroom-dbbench-", dir=args.work) as work:
            Path(work).chmod(0o755)
            for kind, fill in (("postgresql", fill_postgresql), ("mariadb", fill_mariadb)):
                fill(servers[kind], "bench", args.size_mib)
                sizes[kind] = database_mib(servers[kind], "bench")
            print(f"[databases filled in {time.perf_counter() - started:.0f} s]", file=sys.stderr)
            rows += bench_postgresql(servers["postgresql"], "bench", Path(work), args.rounds)
            rows += bench_mariadb(servers["mariadb"], "bench", Path(work), args.rounds)
            if not args.skip_parallel:
                four = args.four_mib or max(16, args.size_mib // 4)
                fill_postgresql(servers["postgresql"], "bench_four", four)
                fill_mariadb(servers["mariadb"], "bench_four", four)
                rows += bench_four_types(servers, Path(work), four, args.rounds)
        print_table(rows)
        print(f"\ndatabases: PostgreSQL {sizes['postgresql']:.0f} MiB, MariaDB {sizes['mariadb']:.0f} MiB on disk; "
              f"{os.cpu_count()} CPUs; {args.rounds} rounds; {time.perf_counter() - started:.0f} s in all")
    finally:
        for stop in stops:
            stop()


if __name__ == "__main__":
    main()
