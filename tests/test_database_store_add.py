"""`strongroom store add` for database stores: one line for every way a connection can be wrong."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import cli
from .db_servers import PASSWORD
from .db_servers import Server
from .test_database_stores import KINDS, make_database, new_name

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=KINDS)
def server(request) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


def _add(home: Path, kind: str, url: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return cli(home, "store", "add", "db", "--type", kind, url, timeout=60, **kwargs)


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_store_add_says_the_server_is_down(home: Path, server) -> None:
    from .db_servers import free_port

    url = f"{server.kind}://{server.superuser}@127.0.0.1:{free_port()}/x?credentials={server.credentials}"
    assert "is not answering: start it, or check the host, port or socket" in _one_line_error(_add(home, server.kind, url))


def test_store_add_says_the_login_was_refused(home: Path, server, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text(server.credentials.read_text().replace(PASSWORD, "not-the-password"))
    wrong.chmod(0o600)
    url = server.url("postgres" if server.kind == "postgresql" else "mysql").split("?")[0] + f"?credentials={wrong}"
    assert f"refused the login of '{server.superuser}'" in _one_line_error(_add(home, server.kind, url))


def test_store_add_says_the_database_does_not_exist(home: Path, server) -> None:
    missing = new_name("missing")
    message = _one_line_error(_add(home, server.kind, server.url(missing)))
    assert f"the database '{missing}' does not exist on" in message and "create it first" in message


def test_store_add_refuses_a_password_in_the_url_and_never_repeats_it(home: Path, server) -> None:
    url = server.url("x", credentials=False).replace(f"{server.superuser}@", f"{server.superuser}:{PASSWORD}@")
    result = _add(home, server.kind, url)
    assert "holds a password: remove it from the URL" in _one_line_error(result)
    assert PASSWORD not in result.stderr + result.stdout


def test_store_add_refuses_a_credentials_file_others_can_read(home: Path, server, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shutil.copy(server.credentials, shared)
    shared.chmod(0o644)
    url = server.url("x").split("?")[0] + f"?credentials={shared}"
    assert _one_line_error(_add(home, server.kind, url)).endswith(f"can be read by others (mode 0644): chmod 600 {shared}")


def _path_without(tmp_path: Path, missing: tuple[str, ...], fakes: dict[str, str] | None = None) -> str:
    """A PATH with every program of this machine but ``missing`` (and with ``fakes`` standing in)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name not in missing and not (folder / name).exists() and os.access(Path(directory) / name, os.X_OK):
                (folder / name).symlink_to(Path(directory) / name)
    for name, script in (fakes or {}).items():
        (folder / name).unlink(missing_ok=True)
        (folder / name).write_text(script)
        (folder / name).chmod(0o755)
    return str(folder)


def test_store_add_says_the_dump_tool_is_missing(home: Path, server, tmp_path: Path) -> None:
    tools = ("pg_dump",) if server.kind == "postgresql" else ("mariadb-dump", "mysqldump")
    package = "postgresql-client" if server.kind == "postgresql" else "mariadb-client"
    database = make_database(server, rows=1)
    path = _path_without(tmp_path, tools)
    message = _one_line_error(_add(home, server.kind, server.url(database), env={**os.environ, "PATH": path}))
    assert f"{tools[0]} is not installed: install the {package} package" in message


def test_store_add_says_the_dump_tool_is_older_than_the_server(home: Path, server, tmp_path: Path) -> None:
    tool = "pg_dump" if server.kind == "postgresql" else "mariadb-dump"
    old = "pg_dump (PostgreSQL) 9.6.24" if server.kind == "postgresql" else \
        "mariadb-dump  Ver 10.19 Distrib 5.5.68-MariaDB, for Linux (x86_64)"
    path = _path_without(tmp_path, (tool,), {tool: f"#!/bin/sh\necho '{old}'\n"})
    database = make_database(server, rows=1)
    message = _one_line_error(_add(home, server.kind, server.url(database), env={**os.environ, "PATH": path}))
    assert "is older than the server" in message and "install" in message


def test_a_stored_connection_shows_no_secret_and_keeps_owner_only_credentials(home: Path, server) -> None:
    result = _add(home, server.kind, server.url("postgres" if server.kind == "postgresql" else "mysql"))
    assert result.returncode == 0, result.stderr
    listing = cli(home, "store", "list", "--json")
    assert PASSWORD not in listing.stdout
    assert stat.S_IMODE(server.credentials.stat().st_mode) == 0o600


def test_with_no_stores_store_list_names_every_registered_type(home: Path) -> None:
    from strongroom.core.stores import driver_names

    result = cli(home, "store", "list")
    assert result.returncode == 0, result.stderr
    assert f"--type {'|'.join(driver_names())} PATH" in result.stdout
    assert {"folder", "sqlite", "postgresql", "mariadb"} <= set(driver_names())
