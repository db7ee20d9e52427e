"""Where a database server store lives: a connection written as a URL, never with a secret in it.

``postgresql://USER@HOST:PORT/DB``, ``mariadb://USER@HOST:PORT/DB``; a Unix socket is a
host that is a path (``postgresql://USER@%2Frun%2Fpostgresql/DB`` or ``?socket=/run/...``).
A credentials file (a PostgreSQL passfile, a MariaDB option file) may be named with
``?credentials=PATH``; it must be readable by its owner only. A password in the URL is
refused: it would end up in the catalog, the logs and every process list.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .base import StoreError

_KNOWN_PARAMETERS = ("credentials", "socket", "sslmode", "service")


@dataclass(frozen=True)
class ServerLocation:
    """One database on one server, as the store's "path" holds it (no secrets, ever)."""

    scheme: str
    database: str
    user: str = ""
    host: str = ""  # empty: the client's default (a local socket)
    port: int | None = None
    socket: str = ""  # a Unix socket folder (PostgreSQL) or file (MariaDB)
    credentials: str = ""  # a file holding the password
    sslmode: str = ""
    service: str = ""  # a PostgreSQL service file entry (which may hold the password)

    @property
    def text(self) -> str:
        """The URL, as stored and shown (it never holds a password)."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        host = quote(self.host, safe="") if self.host else ""
        port = f":{self.port}" if self.port is not None else ""
        query = "&".join(f"{name}={quote(value, safe='/')}" for name, value in
                         (("socket", self.socket), ("credentials", self.credentials), ("sslmode", self.sslmode),
                          ("service", self.service))
                         if value)
        return f"{self.scheme}://{user}{host}{port}/{quote(self.database, safe='')}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.text

    @property
    def server(self) -> str:
        """The server part, for messages: host:port or the socket."""
        if self.socket:
            return f"the socket {self.socket}"
        return f"{self.host or 'localhost'}" + (f":{self.port}" if self.port is not None else "")

    def with_database(self, database: str) -> ServerLocation:
        return replace(self, database=check_database_name(database))


def check_database_name(name: str) -> str:
    """A database name Strongroom will put in a command: 1-63 characters, no control characters."""
    if not name or len(name) > 63 or any(ord(character) < 32 or character == "\x7f" for character in name):
        raise StoreError(f"{name!r} is not a usable database name: give 1-63 characters without control characters")
    return name


def parse_location(text: str, schemes: tuple[str, ...], example: str) -> ServerLocation:
    """The location ``text`` names (its scheme one of ``schemes``, the first being the one kept), or StoreError
    saying what is wrong with it and how it should look."""
    scheme = schemes[0]
    parts = urlsplit(text.strip())
    if parts.scheme not in schemes:
        raise StoreError(f"{redacted(text)} is not a {scheme} connection: write it as {example}")
    if parts.password is not None:
        raise StoreError(f"the connection {redacted(text)} holds a password: remove it from the URL and keep it in a "
                         "credentials file readable only by you (see the store type's help)")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise StoreError(f"the connection {redacted(text)} names no database: write it as {example}")
    parameters = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(parameters) - set(_KNOWN_PARAMETERS))
    if unknown:
        raise StoreError(f"the connection {redacted(text)} has unknown parameter(s) {', '.join(unknown)}: use only "
                         f"{', '.join(_KNOWN_PARAMETERS)}")
    host, port = _host_and_port(parts.netloc.rpartition("@")[2], text)
    socket = parameters.get("socket", "")
    if host.startswith("/"):
        socket, host = socket or host, ""
    credentials = parameters.get("credentials", "")
    if credentials:
        credentials = str(Path(credentials).expanduser().absolute())
    return ServerLocation(scheme=scheme, database=check_database_name(database), user=unquote(parts.username or ""),
                          host=host, port=port, socket=socket, credentials=credentials,
                          sslmode=parameters.get("sslmode", ""), service=parameters.get("service", ""))


def _host_and_port(hostport: str, text: str) -> tuple[str, int | None]:
    """The host (unquoted, case kept: it may be a socket path) and port of a URL's host part."""
    if hostport.startswith("["):  # an IPv6 address
        host, _, rest = hostport[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return unquote(host), None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise StoreError(f"the port in {redacted(text)} is not a number from 1 to 65535")
    return unquote(host), int(port_text)


def redacted(text: str) -> str:
    """``text`` with any password in its URL replaced by ``***`` (for messages about a bad location)."""
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user_part, _, host_part = parts.netloc.rpartition("@")
    user = user_part.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host_part}").geturl()


def check_credentials_file(path: str) -> Path:
    """A credentials file that exists, is a regular file and is readable by its owner only."""
    file = Path(path)
    try:
        status = os.stat(file)
    except FileNotFoundError:
        raise StoreError(f"the credentials file {file} does not exist: create it (mode 0600) or leave it out") \
            from None
    except OSError as error:
        raise StoreError(f"the credentials file {file} cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise StoreError(f"the credentials file {file} is not a regular file")
    if status.st_mode & 0o077:
        raise StoreError(f"the credentials file {file} can be read by others (mode {stat.S_IMODE(status.st_mode):04o}):"
                         f" chmod 600 {file}")
    if status.st_uid not in (os.geteuid(), 0):
        raise StoreError(f"the credentials file {file} belongs to another user: it must be yours")
    if not os.access(file, os.R_OK):
        raise StoreError(f"the credentials file {file} cannot be read by this user")
    return file
