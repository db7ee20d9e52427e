"""What the database server store types share: a dump taken in one snapshot, loaded back never half-way.

A backup asks the server for its version and streams the server's own dump tool's
consistent dump straight into the set, in parts (dump_parts.py; the store's mutex is held
until the tool has finished), with a ``server.json`` that names the server, the tools and
the parts. A restore checks the dump first, loads it into a new database with a
temporary name, and only then gives it its name — replacing an existing database only
when the overwrite policy is ``always``. A load that fails drops what it made.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..archive import Entry, SetManifest, SetReader
from ..archive.entry import new_entry
from ..leftovers import partial_name, stale_database, temporary_database_name
from .base import SnapshotSession, StoreDriver, StoreError
from .dump_parts import dump_parts, part_chunks, write_parts
from .server_tools import StreamedOutput, ToolFailed
from .server_location import ServerLocation, check_credentials_file, parse_location
from ..units import counted

SERVER_INFO = "server.json"


class ServerProblem(StoreError):
    """The server or its client tools cannot do what was asked: the message says which and what to do."""


@dataclass(frozen=True)
class ServerInfo:
    """What a set records about where its dump came from."""

    product: str  # "PostgreSQL 15.18", "MariaDB 10.11.6"
    version: tuple[int, ...]
    tool: str  # the dump tool and its version
    owner: str = ""  # the database's owner, given back to a restored database where that user exists

    def document(self, location: ServerLocation, dump_format: str, parts: int, dump_bytes: int) -> bytes:
        return json.dumps({"server": self.product, "server_version": ".".join(map(str, self.version)),
                           "dump_tool": self.tool, "database": location.database, "location": location.text,
                           "format": dump_format, "owner": self.owner, "parts": parts, "dump_bytes": dump_bytes},
                          indent=1).encode()


class DumpContents:
    """The members of one database set, read out checked (what a restore or a structure check is given)."""

    def __init__(self, reader: SetReader, manifest: SetManifest) -> None:
        self.reader = reader
        self.files = [entry for entry in manifest.entries if entry.type == "file"]

    def named(self, path: str) -> Entry | None:
        return next((entry for entry in self.files if entry.path == path), None)

    def info(self) -> dict:
        entry = self.named(SERVER_INFO)
        if entry is None:
            raise StoreError(f"the set has no {SERVER_INFO}: it was not made by a database store")
        try:
            document = json.loads(self.reader.read_file(entry))
        except ValueError as error:
            raise StoreError(f"the set's {SERVER_INFO} is not readable JSON ({error})") from None
        if not isinstance(document, dict):
            raise StoreError(f"the set's {SERVER_INFO} is not a JSON object")
        return document

    def chunks(self, entry: Entry, hooks=None) -> Iterator[bytes]:
        """The member's bytes, checked; ``hooks`` (a job's progress and cancel) hears of each chunk and the end."""
        for chunk in self.reader.member(entry):
            if hooks is not None:
                hooks.advance(len(chunk))
            yield chunk
        if hooks is not None:
            hooks.file_done(entry.path)

    def parts(self, dump_file: str) -> list[Entry]:
        """The dump's parts in order, each there and the size server.json records (StoreError if not)."""
        return dump_parts(self.files, dump_file, self.info())

    def dump_chunks(self, dump_file: str, hooks=None) -> Iterator[bytes]:
        """The whole dump's bytes in order, checked as they are read."""
        return part_chunks(self, self.parts(dump_file), hooks)

    def extract_dump(self, dump_file: str, path: Path, hooks=None) -> None:
        """Write the whole dump into the new file ``path`` (private), checked as it is read."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(descriptor, "wb") as out:
            for chunk in self.dump_chunks(dump_file, hooks):
                out.write(chunk)


def private_scratch(near: Path, label: str) -> Path:
    """A new folder only this user can enter, on ``near``'s file system if it can be written, else in TMPDIR.

    Its name marks it as a partial of this process, so that the next job removes it if
    this one is killed (leftovers.py).
    """
    for parent in (near, Path(os.environ.get("TMPDIR") or "/tmp")):
        folder = partial_name(parent / f"{label}.{secrets.token_hex(4)}")
        try:
            folder.mkdir(mode=0o700)
            return folder
        except OSError:
            continue
    raise StoreError(f"no room for a scratch folder in {near} or in the temporary folder: free some space or make "
                     f"{near} writable")


class DatabaseDriver(StoreDriver):
    """A store that is one database on a server, reached through the server's client programs."""

    location_kind = "server"
    schemes: ClassVar[tuple[str, ...]]
    example: ClassVar[str]
    default_port: ClassVar[int]
    dump_format: ClassVar[str]  # what server.json calls the dump's format
    dump_file: ClassVar[str]  # the dump's name, which its parts carry (dump_parts.py)
    renames_databases: ClassVar[bool] = True  # False: a new database is loaded under its own name, dropped on failure

    def location(self, path: str) -> ServerLocation:
        location = parse_location(path, self.schemes, self.example)
        if location.credentials:
            check_credentials_file(location.credentials)
        return location

    def compose(self, *, host: str, port: int | None, user: str, database: str, credentials: str = "",
                socket: str = "") -> str:
        """The connection URL for fields given one by one (the console's dialog), checked like a typed one."""
        text = ServerLocation(self.schemes[0], database.strip(), user.strip(), host.strip(), port, socket.strip(),
                              credentials.strip()).text
        return self.location(text).text

    def shown(self, path: str) -> str:
        try:
            return parse_location(path, self.schemes, self.example).text
        except StoreError:
            return f"{self.schemes[0]}://(a connection that cannot be read)"

    def check_path(self, path: str) -> ServerLocation:  # type: ignore[override]  # a connection, not a path
        """The connection, once its tools, server and database have been reached; else what is wrong."""
        location = self.location(path)
        server = self.server_info(location)
        if not self.database_exists(location, location.database):
            raise ServerProblem(f"the database {location.database!r} does not exist on {location.server}: check its "
                                "name, or create it first")
        self.check_tool_version(server)
        return location

    def snapshot(self, path: ServerLocation, session: SnapshotSession) -> None:  # type: ignore[override]
        location = path
        server = self.server_info(location)
        self.check_tool_version(server)
        session.log(f"{server.product} at {location.server}, database {location.database}; dumping with "
                    f"{server.tool}, streamed into the set")
        _, size = self.database_size(location)
        session.set_totals(0, size)  # the database's size on the server: about what the dump will be
        started = time.monotonic()
        tool, arguments = self.dump_command(location)
        try:
            with StreamedOutput(tool, arguments, session.check_cancelled,
                                on_output=lambda line: session.log(f"{Path(tool).name}: {line}")) as output:
                parts, total = write_parts(output, self.dump_file, session)
        except ToolFailed as error:
            raise self.dump_failed(error, location) from None
        session.release_store()  # the dump is one consistent snapshot, taken: the server is no longer read
        session.log(f"dump of {total} bytes in {counted(parts, 'part')} taken and stored in {time.monotonic() - started:.1f} s")
        document = server.document(location, self.dump_format, parts, total)
        session.add(session.writer.add_bytes(new_entry(path=SERVER_INFO, type="file", mode=0o600,
                                                       mtime_ns=time.time_ns(), size=len(document),
                                                       uid=os.geteuid(), gid=os.getegid()), document))

    # -- restore --------------------------------------------------------------------------

    def restore_database(self, location: ServerLocation, contents: DumpContents, target: str | None,
                         overwrite: str, hooks, log) -> str:
        """Load the set into ``target`` (default: the store's own database); the name it now has."""
        name = target or location.database
        if overwrite == "if-older":
            raise StoreError("'if-older' compares file times, which a database does not have: restore with "
                             "overwrite 'never' (into a new database) or 'always' (replace it)")
        destination = location.with_database(name)
        self.server_info(location)
        self.drop_stale_databases(location, log)
        exists = self.database_exists(location, name)
        if exists and overwrite != "always":
            raise StoreError(f"the database {name!r} already exists on {location.server} and the overwrite policy "
                             "is 'never': restore into a new database, or choose 'always' to replace it")
        self.check_dump(contents, hooks.check_cancelled)  # before anything on the server is touched
        log(f"the dump's structure is sound; loading it into a new database on {location.server}")
        if not exists and not self.renames_databases:
            self.create_database(location, name)
            try:
                self.load(destination, contents, hooks, log)
            except BaseException:
                self._drop_quietly(location, name, log)
                raise
            return name
        temporary = temporary_database_name(name)
        self.create_database(location, temporary)
        try:
            self.load(location.with_database(temporary), contents, hooks, log)
        except BaseException:
            self._drop_quietly(location, temporary, log)
            raise
        self.promote(location, contents, temporary, destination, exists, hooks, log)
        return name

    def drop_stale_databases(self, location: ServerLocation, log) -> None:
        """Drop the temporary databases that restores killed on this host left on the server."""
        for name in self.database_names(location):
            if stale_database(name):
                try:
                    self.drop_database(location, name)
                    log(f"dropped {name}, a database a killed restore had left half-loaded")
                except StoreError as error:
                    log(f"warning: {name}, left by a killed restore, could not be dropped ({error}): drop it by hand")

    def _drop_quietly(self, location: ServerLocation, name: str, log) -> None:
        try:
            self.drop_database(location, name)
            log(f"dropped the half-loaded database {name}")
        except StoreError as error:
            log(f"warning: the half-loaded database {name} could not be dropped ({error}): drop it by hand")

    def check_set(self, contents: DumpContents, check_cancelled=lambda: None) -> list[str]:
        """What is wrong with a set's dump, checked without a server (empty: nothing)."""
        try:
            contents.info()
            self.check_dump(contents, check_cancelled)
        except StoreError as error:
            return [str(error)]
        return []

    def deep_check(self, location: ServerLocation, contents: DumpContents, hooks, log) -> list[str]:
        """Load the set into a throwaway database on ``location``'s server, check it there, drop it."""
        if not contents.files:
            return ["the set holds no dump"]
        self.server_info(location)  # a server that cannot be reached says nothing about the set: an error, not damage
        name = temporary_database_name("verify")
        try:
            self.restore_database(location, contents, name, "never", hooks, log)
        except StoreError as error:
            return [f"the dump does not load into {location.server}: {error}"]
        try:
            return self.check_database(location.with_database(name))
        finally:
            self._drop_quietly(location, name, log)

    # -- what each server does its own way ------------------------------------------------

    @abstractmethod
    def check_database(self, location: ServerLocation) -> list[str]:
        """What the server finds wrong with the (restored) database ``location`` names; empty: nothing."""

    @abstractmethod
    def server_info(self, location: ServerLocation) -> ServerInfo:
        """Connect; the server's product and version, and the dump tool's (ServerProblem if unreachable)."""

    @abstractmethod
    def check_tool_version(self, server: ServerInfo) -> None:
        """ServerProblem if the dump tool is older than the server."""

    @abstractmethod
    def database_exists(self, location: ServerLocation, name: str) -> bool: ...

    @abstractmethod
    def database_names(self, location: ServerLocation) -> list[str]:
        """The names of all databases on ``location``'s server that its user can see."""

    @abstractmethod
    def database_size(self, location: ServerLocation) -> tuple[int, int]:
        """(tables, bytes) of the store's database."""

    @abstractmethod
    def dump_command(self, location: ServerLocation) -> tuple[str, list[str]]:
        """The dump tool and its arguments: one consistent dump of the database, written to standard output."""

    @abstractmethod
    def dump_failed(self, error: ToolFailed, location: ServerLocation) -> StoreError:
        """What went wrong when the dump tool failed, and what to do, in one line."""

    @abstractmethod
    def check_dump(self, contents: DumpContents, check_cancelled=lambda: None) -> None:
        """StoreError if the set's dump is not whole and well-formed (no server needed)."""

    @abstractmethod
    def create_database(self, location: ServerLocation, name: str) -> None: ...

    @abstractmethod
    def drop_database(self, location: ServerLocation, name: str) -> None: ...

    @abstractmethod
    def load(self, location: ServerLocation, contents: DumpContents, hooks, log) -> None:
        """Load the dump into the (new, empty) database ``location`` names."""

    @abstractmethod
    def promote(self, location: ServerLocation, contents: DumpContents, temporary: str, destination: ServerLocation,
                exists: bool, hooks, log) -> None:
        """Give the loaded database ``temporary`` the name ``destination.database`` (replacing it if ``exists``)."""
