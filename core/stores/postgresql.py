"""The postgresql store type: one database on a PostgreSQL server, dumped with pg_dump.

Backup: ``pg_dump --format=custom --compress=0`` to standard output, streamed into the
set (dump_parts.py) — one snapshot, so the dump is consistent while the database is
written to; the set's zstd does the compressing. Restore: ``pg_restore --jobs N --exit-on-error`` into a new
database with a temporary name, renamed into place only when the load succeeded.
Passwords come from where libpq looks (``~/.pgpass``, ``PGPASSFILE``, a service file,
or the store's ``?credentials=`` passfile); every program runs with ``--no-password``,
so none ever waits at a prompt.
"""

from __future__ import annotations

import os
import re
import shutil

from . import register_driver
from .base import StoreError
from .database_driver import DatabaseDriver, DumpContents, ServerInfo, ServerProblem, private_scratch
from .server_location import ServerLocation
from .server_tools import ToolFailed, find_tool, last_lines, run, run_cancellable, version_of

_MAINTENANCE = ("postgres", "template1")
DUMP_FILE = "dump.custom"


def _tool(name: str) -> str:
    return find_tool(name, "postgresql-client")


def _jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _conninfo(location: ServerLocation, database: str | None = None) -> str:
    """A libpq keyword/value string (values quoted as libpq wants) for ``location``'s server."""
    values = {"dbname": database or location.database, "user": location.user,
              "host": location.socket or location.host, "port": str(location.port) if location.port else "",
              "passfile": location.credentials, "sslmode": location.sslmode, "service": location.service,
              "connect_timeout": "10", "application_name": "strongroom"}
    quoted = (f"{key}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
              for key, value in values.items() if value)
    return " ".join(quoted)


def _explain(error: ToolFailed, location: ServerLocation, database: str) -> ServerProblem:
    """A client program's failure, said as what is wrong with the server or the login, and what to do."""
    output = error.output
    if "does not exist" in output and f'database "{database}"' in output:
        return ServerProblem(f"the database {database!r} does not exist on the PostgreSQL server {location.server}: "
                             "check its name, or create it first")
    if re.search(r"role \".*\" does not exist", output):
        return ServerProblem(f"the PostgreSQL user {location.user or '(your login name)'!r} does not exist on "
                             f"{location.server}: give an existing user in the connection")
    if "password authentication failed" in output or "no password supplied" in output or \
            "authentication failed" in output:
        return ServerProblem(f"the PostgreSQL server {location.server} refused the login of "
                             f"{location.user or '(your login name)'!r}: put the right password in ~/.pgpass "
                             "(mode 0600), PGPASSFILE or the store's credentials file")
    if "Connection refused" in output or "could not connect" in output or "No such file or directory" in output \
            or "timeout expired" in output or "could not translate host name" in output:
        return ServerProblem(f"the PostgreSQL server at {location.server} is not answering: start it, or check the "
                             "host, port or socket")
    if "server version mismatch" in output:
        return ServerProblem(f"pg_dump is older than the PostgreSQL server at {location.server}: install the client "
                             "tools of the server's version")
    return ServerProblem(f"PostgreSQL at {location.server}: {error}")


class PostgresqlDriver(DatabaseDriver):
    type_name = "postgresql"
    description = "a PostgreSQL database, dumped consistently with pg_dump while it is in use"
    schemes = ("postgresql", "postgres")
    example = "postgresql://USER@HOST:PORT/DATABASE"
    hint = ("A PostgreSQL database: dumped with pg_dump in one snapshot while it is in use; "
            "the password comes from ~/.pgpass or the credentials file.")
    default_port = 5432
    dump_format = "custom"
    dump_file = DUMP_FILE

    # -- talking to the server ------------------------------------------------------------

    def _sql(self, location: ServerLocation, sql: str, database: str | None = None, **variables: str) -> list[str]:
        """Rows of a query (fields split by tabs), run with psql; ``:'name'`` and ``:"name"`` quote ``variables``."""
        target = database or location.database
        arguments = ["--no-psqlrc", "--no-password", "--quiet", "--tuples-only", "--no-align", "--field-separator=\t",
                     "--set=ON_ERROR_STOP=1", f"--dbname={_conninfo(location, target)}", "--file=-"]
        arguments += [f"--set={name}={value}" for name, value in variables.items()]
        try:
            output = run(_tool("psql"), arguments, stdin=sql).stdout
        except ToolFailed as error:
            raise _explain(error, location, target) from None
        return [line for line in output.splitlines() if line]

    def _admin(self, location: ServerLocation, sql: str, **variables: str) -> list[str]:
        """A query on the server's maintenance database (so it works while the store's database is absent)."""
        for index, database in enumerate(_MAINTENANCE):
            try:
                return self._sql(location, sql, database, **variables)
            except ServerProblem as problem:
                if "does not exist" not in str(problem) or index == len(_MAINTENANCE) - 1 \
                        or f"{database!r}" not in str(problem):
                    raise
        return []

    def server_info(self, location: ServerLocation) -> ServerInfo:
        pg_dump = _tool("pg_dump")
        _tool("pg_restore")
        rows = self._admin(location, "SELECT current_setting('server_version_num'), current_setting('server_version'), "
                                     "(SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = "
                                     ":'name');", name=location.database)
        number, text, owner = (rows[0].split("\t") + ["", ""])[:3]
        version = (int(number) // 10000, int(number) % 10000) if int(number) >= 100000 else \
            (int(number) // 10000, int(number) // 100 % 100, int(number) % 100)
        tool = version_of(pg_dump)
        return ServerInfo(f"PostgreSQL {text.split()[0]}", version, f"pg_dump {'.'.join(map(str, tool))}", owner)

    def check_tool_version(self, server: ServerInfo) -> None:
        tool = tuple(int(part) for part in server.tool.split()[-1].split("."))
        if tool[0] < server.version[0]:
            raise ServerProblem(f"{server.tool} is older than the server ({server.product}): install the "
                                f"postgresql-client-{server.version[0]} package")

    def database_exists(self, location: ServerLocation, name: str) -> bool:
        return bool(self._admin(location, "SELECT 1 FROM pg_database WHERE datname = :'name';", name=name))

    def database_names(self, location: ServerLocation) -> list[str]:
        return self._admin(location, "SELECT datname FROM pg_database;")

    def database_size(self, location: ServerLocation) -> tuple[int, int]:
        row = self._sql(location, "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
                                  "('pg_catalog', 'information_schema')), pg_database_size(current_database());")[0]
        tables, size = row.split("\t")
        return int(tables), int(size)

    def check_database(self, location: ServerLocation) -> list[str]:
        """Every table read through, and every B-tree index checked against its table where amcheck is there."""
        problems = []
        tables = self._sql(location, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname "
                                     "NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;")
        for table in tables:
            try:
                self._sql(location, f"SELECT count(*) FROM {table};")
            except ServerProblem as problem:
                problems.append(f"table {table} cannot be read: {problem}")
        try:
            self._sql(location, "CREATE EXTENSION IF NOT EXISTS amcheck;")
        except ServerProblem:
            return problems  # no amcheck on this server: reading every table is the check
        try:
            self._sql(location, "SELECT bt_index_check(index => c.oid, heapallindexed => true) FROM pg_index i "
                                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND "
                                "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');")
        except ServerProblem as problem:
            problems.append(f"an index does not match its table: {problem}")
        return problems

    def create_database(self, location: ServerLocation, name: str) -> None:
        self._admin(location, 'CREATE DATABASE :"name" TEMPLATE template0;', name=name)

    def drop_database(self, location: ServerLocation, name: str) -> None:
        self._admin(location, 'DROP DATABASE IF EXISTS :"name" WITH (FORCE);', name=name)

    # -- backup and restore ---------------------------------------------------------------

    def dump_command(self, location: ServerLocation) -> tuple[str, list[str]]:
        # Custom format to standard output, uncompressed (the set compresses): streamed, it beat
        # --format=directory --jobs on the bench (bench/database_bench.py), and pg_restore --jobs
        # still loads it in parallel from the file a restore writes.
        return _tool("pg_dump"), ["--format=custom", "--compress=0", "--no-password",
                                  f"--dbname={_conninfo(location)}"]

    def dump_failed(self, error: ToolFailed, location: ServerLocation) -> StoreError:
        return _explain(error, location, location.database)

    def check_dump(self, contents: DumpContents, check_cancelled=lambda: None) -> None:
        """pg_restore reads the whole dump (every block, to the end) and writes it as SQL to nowhere."""
        try:
            chunks = contents.dump_chunks(DUMP_FILE)
        except StoreError as error:
            raise ServerProblem(str(error)) from None
        try:
            run_cancellable(_tool("pg_restore"), ["--file=/dev/null"], check_cancelled, stdin_chunks=chunks)
        except ToolFailed as error:
            raise ServerProblem(f"pg_restore cannot read the dump: {last_lines(error.output) or error}; it is not a "
                                "whole pg_dump archive") from None

    def load(self, location: ServerLocation, contents: DumpContents, hooks, log) -> None:
        folder = private_scratch(contents.reader.path.parent, "restore")
        try:
            dump = folder / DUMP_FILE
            contents.extract_dump(DUMP_FILE, dump, hooks)  # pg_restore --jobs reads a file, not a pipe
            try:
                run_cancellable(_tool("pg_restore"), [f"--jobs={_jobs()}", "--exit-on-error", "--no-password",
                                                      f"--dbname={_conninfo(location)}", str(dump)],
                                hooks.check_cancelled, on_output=lambda line: log(f"pg_restore: {line}"))
            except ToolFailed as error:
                raise ServerProblem(f"pg_restore could not load the dump into {location.database} ("
                                    f"{error.output.strip().splitlines()[-1] if error.output.strip() else error}); "
                                    "nothing was left behind") from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def promote(self, location: ServerLocation, contents: DumpContents, temporary: str, destination: ServerLocation,
                exists: bool, hooks, log) -> None:
        name = destination.database
        if exists:
            log(f"replacing the database {name} (its sessions are ended)")
            self.drop_database(location, name)
        try:
            self._admin(location, 'ALTER DATABASE :"temporary" RENAME TO :"name";', temporary=temporary, name=name)
        except ServerProblem as problem:
            raise ServerProblem(f"the restored database could not be named {name!r} ({problem}); it is kept as "
                                f"{temporary!r}: rename it by hand") from None
        owner = str(contents.info().get("owner") or "")
        if owner:
            if self._admin(location, "SELECT 1 FROM pg_roles WHERE rolname = :'owner';", owner=owner):
                self._admin(location, 'ALTER DATABASE :"name" OWNER TO :"owner";', name=name, owner=owner)
            else:
                log(f"warning: the database's owner {owner!r} does not exist on this server; it is owned by the "
                    "restoring user")


register_driver(PostgresqlDriver())
