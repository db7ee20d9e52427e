"""The soak's database stores: a PostgreSQL and a MariaDB database that a writer keeps inserting into.

The servers are the tests' own throwaway ones (tests/db_servers.py), started here and
stopped at the end. Each transaction of the writer inserts rows ``a..b`` into two tables at
once: ``t`` (row ``n`` holds ``payload(n)``) and ``m`` (row ``n`` holds the MD5 of that
payload). A restored copy is right when ``t`` holds exactly rows 1..k with their payloads and
``m`` holds the same rows with the matching digests: a prefix of the transactions, in which
both tables agree — what a consistent snapshot under live writes must give.

Restores go into new databases, which are checked and dropped at once; a killed restore's
half-loaded database must be dropped by a later restore on the same server, so at the end
no database with Strongroom's temporary name may be left on either server.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.db_servers import Server, ServerUnavailable, start_mariadb, start_postgresql  # noqa: E402

DATABASE_STORES = {"orders": "postgresql", "accounts": "mariadb"}  # store -> type
FIRST_ROWS = 2000


def payload(row: int) -> str:
    return f"row {row} " + "x" * (row % 300)


class DatabaseServers:
    """The two throwaway servers and the soak's database on each (none when the programs are missing)."""

    def __init__(self) -> None:
        self.servers: dict[str, Server] = {}
        self.stops = []
        self.missing = ""
        self.rows = {store: FIRST_ROWS for store in DATABASE_STORES}
        self.lock = threading.Lock()
        self.numbers = iter(range(10**9))
        try:
            for start in (start_postgresql, start_mariadb):
                server, _, stop = start()
                self.stops.append(stop)
                self.servers[server.kind] = server
        except ServerUnavailable as missing:
            self.stop()
            if os.environ.get("STRONGROOM_REQUIRE_SERVERS"):
                raise SystemExit(f"soak: {missing} (STRONGROOM_REQUIRE_SERVERS is set)") from None
            self.missing = str(missing)
            self.servers = {}
            return
        for store in DATABASE_STORES:
            self._create(store)

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(DATABASE_STORES) if self.servers else ()

    def server(self, store: str) -> Server:
        return self.servers[DATABASE_STORES[store]]

    def database(self, store: str) -> str:
        return f"soak_{store}"

    def url(self, store: str) -> str:
        return self.server(store).url(self.database(store))

    def _create(self, store: str) -> None:
        server = self.server(store)
        server.create_database(self.database(store))
        text = "text" if server.kind == "postgresql" else "LONGTEXT"
        engine = "" if server.kind == "postgresql" else " ENGINE=InnoDB"
        server.sql(f"CREATE TABLE t (id integer PRIMARY KEY, body {text} NOT NULL){engine};"
                   f"CREATE TABLE m (id integer PRIMARY KEY, digest char(32) NOT NULL){engine};",
                   self.database(store))
        self._insert_rows(store, 1, FIRST_ROWS)

    def _insert_rows(self, store: str, first: int, last: int) -> None:
        """Rows first..last into both tables, in one transaction."""
        server = self.server(store)
        if server.kind == "postgresql":
            body = "'row ' || g || ' ' || repeat('x', g % 300)"
            rows = f"generate_series({first}, {last}) AS g"
            server.sql(f"BEGIN; INSERT INTO t SELECT g, {body} FROM {rows}; "
                       f"INSERT INTO m SELECT g, md5({body}) FROM {rows}; COMMIT;", self.database(store))
        else:
            body = "CONCAT('row ', seq, ' ', REPEAT('x', seq % 300))"
            rows = f"seq_{first}_to_{last}"
            server.sql(f"START TRANSACTION; INSERT INTO t SELECT seq, {body} FROM {rows}; "
                       f"INSERT INTO m SELECT seq, MD5({body}) FROM {rows}; COMMIT;", self.database(store))

    def insert(self, store: str, count: int) -> None:
        """The writer's transaction: the next ``count`` rows into both tables of ``store``'s database."""
        with self.lock:  # one writer per database, so the rows stay 1..k
            first = self.rows[store] + 1
            self._insert_rows(store, first, first + count - 1)
            self.rows[store] += count

    def new_name(self, store: str) -> str:
        return f"soak_{store}_restored_{next(self.numbers)}"

    def check_and_drop(self, store: str, name: str) -> tuple[bool, int, str]:
        """(ok, rows, problem) of a restored database (see the module's docstring); then it is dropped."""
        server = self.server(store)
        try:
            return rows_ok(server, name)
        finally:
            self.drop(store, name)

    def drop(self, store: str, name: str) -> None:
        server = self.server(store)
        quoted = f'"{name}"' if server.kind == "postgresql" else f"`{name}`"
        server.sql(f"DROP DATABASE IF EXISTS {quoted}" + (" WITH (FORCE)" if server.kind == "postgresql" else ""))

    def leftovers(self) -> list[str]:
        """Databases with Strongroom's temporary name still on either server."""
        return sorted(name for server in self.servers.values() for name in server.databases()
                      if "_strongroom_" in name)

    def stop(self) -> None:
        for stop in self.stops:
            stop()
        self.stops = []


def rows_ok(server: Server, database: str) -> tuple[bool, int, str]:
    try:
        bodies = [line.split("\t", 1) for line in server.sql("SELECT id, body FROM t ORDER BY id", database)
                  .splitlines()]
        digests = [line.split("\t", 1) for line in server.sql("SELECT id, digest FROM m ORDER BY id", database)
                   .splitlines()]
    except AssertionError as error:
        return False, 0, str(error).splitlines()[0]
    for expected, (row, body) in enumerate(bodies, 1):
        if int(row) != expected or body != payload(expected):
            return False, len(bodies), f"t: row {row} is not what was written (expected row {expected})"
    if len(digests) != len(bodies):
        return False, len(bodies), f"t holds {len(bodies)} rows but m holds {len(digests)}: the tables disagree"
    for expected, (row, digest) in enumerate(digests, 1):
        if int(row) != expected or digest != hashlib.md5(payload(expected).encode()).hexdigest():
            return False, len(bodies), f"m: row {row} does not match t's row {expected}"
    return True, len(bodies), ""
