"""The mariadb store type: one database on a MariaDB (or MySQL) server, dumped with mariadb-dump.

Backup: ``mariadb-dump --single-transaction --routines --triggers --events`` — one
InnoDB snapshot, consistent while the database is written to, with no table locked.
Restore: the dump is fed to the ``mariadb`` client. MariaDB cannot rename a database,
so a new database is loaded under its own name and dropped if the load fails; a
database that is replaced is first proven by loading the dump into a scratch database,
and only then dropped and loaded again. Passwords come from option files only
(``~/.my.cnf`` or the store's ``?credentials=`` file, owner-only), never a command line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import register_driver
from .database_driver import DatabaseDriver, DumpContents, ServerInfo, ServerProblem
from .server_location import ServerLocation
from .base import StoreError
from .server_tools import ToolFailed, run, run_cancellable, version_of

DUMP_FILE = "dump.sql"
_HEADS = (b"-- MariaDB dump", b"-- MySQL dump", b"/*M!999999")
_COMPLETED = b"-- Dump completed"
_VERSION_PATTERNS = (r"from (\d+)\.(\d+)\.(\d+)", r"Distrib (\d+)\.(\d+)\.(\d+)", r"(\d+)\.(\d+)\.(\d+)")


def _tool(*names: str) -> str:
    """The first of ``names`` installed (MariaDB's own names, then MySQL's), or StoreError naming the package."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise StoreError(f"{names[0]} is not installed: install the mariadb-client package (as new as the server)")


def _client() -> str:
    return _tool("mariadb", "mysql")


def _dumper() -> str:
    return _tool("mariadb-dump", "mysqldump")


def _connection(location: ServerLocation, *, client: bool = True) -> list[str]:
    """The client options that reach ``location``'s server; the option file first, as the clients require."""
    arguments = [f"--defaults-extra-file={location.credentials}"] if location.credentials else []
    if location.socket:
        arguments += ["--protocol=SOCKET", f"--socket={location.socket}"]
    elif location.host:
        arguments += ["--protocol=TCP", f"--host={location.host}"]
    if location.port:
        arguments.append(f"--port={location.port}")
    if location.user:
        arguments.append(f"--user={location.user}")
    if location.sslmode in ("disable", "disabled"):
        arguments.append("--skip-ssl")
    return [*arguments, "--connect-timeout=10"] if client else arguments  # mariadb-dump has no such option


def _name(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _explain(error: ToolFailed, location: ServerLocation, database: str | None) -> ServerProblem:
    output = error.output
    if "Unknown database" in output:
        return ServerProblem(f"the database {database!r} does not exist on the MariaDB server {location.server}: "
                             "check its name, or create it first")
    if "Access denied" in output:
        return ServerProblem(f"the MariaDB server {location.server} refused the login of "
                             f"{location.user or '(your login name)'!r} or its rights: put the right password in "
                             "the store's credentials file or ~/.my.cnf (mode 0600), and check the user's grants")
    if "Can't connect" in output or "Lost connection" in output or "Unknown MySQL server host" in output or \
            "Unknown server host" in output:
        return ServerProblem(f"the MariaDB server at {location.server} is not answering: start it, or check the "
                             "host, port or socket")
    return ServerProblem(f"MariaDB at {location.server}: {error}")


class MariadbDriver(DatabaseDriver):
    type_name = "mariadb"
    description = "a MariaDB or MySQL database, dumped in one consistent InnoDB snapshot while it is in use"
    schemes = ("mariadb", "mysql")
    example = "mariadb://USER@HOST:PORT/DATABASE"
    hint = ("A MariaDB or MySQL database: dumped in one InnoDB snapshot while it is in use; "
            "the password comes from ~/.my.cnf or the credentials file.")
    default_port = 3306
    dump_format = "sql"
    dump_file = DUMP_FILE
    renames_databases = False

    def _sql(self, location: ServerLocation, sql: str, database: str | None = None) -> list[str]:
        arguments = [*_connection(location), "--batch", "--skip-column-names", "--raw"]
        if database:
            arguments.append(f"--database={database}")
        try:
            output = run(_client(), arguments, stdin=sql).stdout
        except ToolFailed as error:
            raise _explain(error, location, database) from None
        return [line for line in output.splitlines() if line]

    def server_info(self, location: ServerLocation) -> ServerInfo:
        dumper = _dumper()
        text = self._sql(location, "SELECT VERSION();")[0]
        numbers = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
        version = tuple(int(part) for part in numbers.groups()) if numbers else (0,)
        product = "MariaDB" if "MariaDB" in text else "MySQL"
        tool = version_of(dumper, _VERSION_PATTERNS)
        return ServerInfo(f"{product} {text}", version, f"{Path(dumper).name} {'.'.join(map(str, tool))}")

    def check_tool_version(self, server: ServerInfo) -> None:
        tool = tuple(int(part) for part in server.tool.split()[-1].split("."))
        if tool[:2] < server.version[:2]:
            raise ServerProblem(f"{server.tool} is older than the server ({server.product}): install the client "
                                "tools of the server's version (mariadb-client)")

    def database_exists(self, location: ServerLocation, name: str) -> bool:
        return bool(self._sql(location, f"SELECT 1 FROM information_schema.schemata WHERE schema_name = {_text(name)};"))

    def database_names(self, location: ServerLocation) -> list[str]:
        return self._sql(location, "SELECT schema_name FROM information_schema.schemata;")

    def database_size(self, location: ServerLocation) -> tuple[int, int]:
        row = self._sql(location, "SELECT count(*), COALESCE(sum(data_length + index_length), 0) FROM "
                                  f"information_schema.tables WHERE table_schema = {_text(location.database)};")[0]
        tables, size = row.split("\t")
        return int(tables), int(size)

    def check_database(self, location: ServerLocation) -> list[str]:
        """CHECK TABLE on every table: what it reports other than OK."""
        tables = self._sql(location, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                     "DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1;", location.database)
        if not tables:
            return []
        rows = self._sql(location, f"CHECK TABLE {', '.join(_name(table) for table in tables)};", location.database)
        return [f"CHECK TABLE {fields[0]}: {fields[3]}" for fields in (row.split("\t") for row in rows)
                if len(fields) >= 4 and (fields[2] == "error" or (fields[2] == "status" and fields[3] != "OK"))]

    def create_database(self, location: ServerLocation, name: str) -> None:
        self._sql(location, f"CREATE DATABASE {_name(name)};")

    def drop_database(self, location: ServerLocation, name: str) -> None:
        self._sql(location, f"DROP DATABASE IF EXISTS {_name(name)};")

    def dump_command(self, location: ServerLocation) -> tuple[str, list[str]]:
        return _dumper(), [*_connection(location, client=False), "--single-transaction", "--routines", "--triggers",
                           "--events", "--hex-blob", "--quick", "--default-character-set=utf8mb4", "--",
                           location.database]

    def dump_failed(self, error: ToolFailed, location: ServerLocation) -> StoreError:
        return _explain(error, location, location.database)

    def check_dump(self, contents: DumpContents, check_cancelled=lambda: None) -> None:
        """The dump begins as mariadb-dump's output and ends with its "Dump completed" line."""
        try:
            parts = contents.parts(DUMP_FILE)
        except StoreError as error:
            raise ServerProblem(str(error)) from None
        head = b"".join(contents.chunks(parts[0]))[:256]
        tail = b"".join(b"".join(contents.chunks(entry)) for entry in parts[-2:])[-512:]
        if not head.lstrip().startswith(_HEADS):
            raise ServerProblem(f"{DUMP_FILE} in the set does not begin as a mariadb-dump file: it is not a dump")
        if _COMPLETED not in tail:
            raise ServerProblem(f"{DUMP_FILE} in the set does not end with mariadb-dump's 'Dump completed' line: the "
                                "dump was cut short")

    def load(self, location: ServerLocation, contents: DumpContents, hooks, log) -> None:
        try:
            run_cancellable(_client(), [*_connection(location), "--batch", f"--database={location.database}",
                                        "--default-character-set=utf8mb4"],
                            hooks.check_cancelled, stdin_chunks=contents.dump_chunks(DUMP_FILE, hooks),
                            on_output=lambda line: log(f"mariadb: {line}"))
        except ToolFailed as error:
            raise ServerProblem(f"the mariadb client could not load the dump into {location.database} ("
                                f"{error.output.strip().splitlines()[-1] if error.output.strip() else error})") \
                from None

    def promote(self, location: ServerLocation, contents: DumpContents, temporary: str, destination: ServerLocation,
                exists: bool, hooks, log) -> None:
        """The dump loaded into ``temporary``: now replace the destination with a second load of it."""
        name = destination.database
        log(f"the dump loaded cleanly into {temporary}; replacing the database {name}")
        self.drop_database(location, name)
        self.create_database(location, name)
        try:
            self.load(destination, contents, hooks, log)
        except BaseException as error:
            raise ServerProblem(f"loading the dump into {name} failed after it had been replaced ({error}); the "
                                f"restored data is whole in the database {temporary!r}") from None
        self.drop_database(location, temporary)


register_driver(MariadbDriver())
