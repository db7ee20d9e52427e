"""Throwaway database servers the tests start themselves: PostgreSQL and MariaDB, on 127.0.0.1.

Each server lives in a temporary folder with its own data, socket and port, runs as an
unprivileged user (the package's ``postgres`` or ``mysql`` when the tests run as root),
asks for a password over TCP, and is stopped and removed when the test session ends.
Without the server programs the starters raise ServerUnavailable; conftest turns that into a
skip with the reason — unless ``STRONGROOM_REQUIRE_SERVERS`` is set (CI sets it), which makes
it a failure. The bench and the soak start their servers with the same code (no pytest here).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "pw-" + secrets.token_hex(8)


class ServerUnavailable(Exception):
    """A server cannot be started here for want of its programs or its user; the reason says which."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _service_user(name: str) -> pwd.struct_passwd | None:
    """The unprivileged user to run a server as when the tests run as root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ServerUnavailable(f"running as root, and there is no '{name}' user to run the server as") from None


def _as(user: pwd.struct_passwd | None, command: list[str]) -> list[str]:
    if user is None:
        return command
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--", *command]


def _wait_for_port(port: int, process: subprocess.Popen | None, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # polling another process's start-up; the deadline bounds it
    raise RuntimeError(f"the server did not listen on port {port} within {timeout} s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


def _server_folder(label: str, user: pwd.struct_passwd | None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"strongroom-{label}-"))
    folder.chmod(0o755)  # the server's user must reach it
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    return folder


@dataclass
class Server:
    """A running throwaway server and how to reach it."""

    kind: str
    port: int
    folder: Path
    superuser: str
    credentials: Path  # an owner-only file with the superuser's password, in the client's own format
    client: list[str] = field(default_factory=list)  # the command-line client, connected as superuser

    def url(self, database: str, *, credentials: bool = True) -> str:
        query = f"?credentials={self.credentials}" if credentials else ""
        return f"{self.kind}://{self.superuser}@127.0.0.1:{self.port}/{database}{query}"

    def sql(self, statement: str, database: str | None = None, timeout: float = 120) -> str:
        """Run SQL as the superuser; its output (tab-separated rows)."""
        command = [*self.client, *([self.database_flag(database)] if database else [])]
        result = subprocess.run(command, input=statement, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{self.kind} SQL failed: {result.stderr}\n{statement[:500]}")
        return result.stdout

    def database_flag(self, database: str) -> str:
        return f"--dbname={database}" if self.kind == "postgresql" else f"--database={database}"

    def create_database(self, name: str) -> None:
        if self.kind == "postgresql":
            self.sql(f'CREATE DATABASE "{name}"')
        else:
            self.sql(f"CREATE DATABASE `{name}`")

    def databases(self) -> set[str]:
        if self.kind == "postgresql":
            return set(self.sql("SELECT datname FROM pg_database").split())
        return set(self.sql("SHOW DATABASES").split())


def _pg_bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else shutil.which(name)


def start_postgresql() -> tuple[Server, subprocess.Popen | None, callable]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl or not shutil.which("pg_dump") and not _pg_bin("pg_dump"):
        raise ServerUnavailable("PostgreSQL's initdb, pg_ctl and pg_dump are not installed (Debian: postgresql)")
    user = _service_user("postgres")
    folder = _server_folder("postgresql", user)
    data, port = folder / "data", free_port()
    password_file = folder / "initdb-password"
    password_file.write_text(PASSWORD + "\n")
    if user is not None:
        os.chown(password_file, user.pw_uid, user.pw_gid)
    superuser = user.pw_name if user is not None else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(_as(user, [initdb, "--pgdata", str(data), "--username", superuser, "--auth-local=trust",
                              "--auth-host=scram-sha-256", f"--pwfile={password_file}", "--no-sync", "-E", "UTF8",
                              "--locale=C.UTF-8"]),
                   check=True, capture_output=True, timeout=120)
    log = folder / "server.log"
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} -c fsync=off " \
              "-c max_connections=60 -c shared_buffers=64MB"
    subprocess.run(_as(user, [pg_ctl, "--pgdata", str(data), "--log", str(log), "--options", options, "--wait",
                              "--timeout=60", "start"]), check=True, capture_output=True, timeout=90)
    credentials = Path(tempfile.mkdtemp(prefix="strongroom-pgpass-")) / "pgpass"
    credentials.write_text(f"127.0.0.1:{port}:*:{superuser}:{PASSWORD}\n")
    credentials.chmod(0o600)
    psql = _pg_bin("psql") or "psql"
    client = [psql, "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "--field-separator=\t",
              "--set=ON_ERROR_STOP=1", "-h", str(folder), "-p", str(port), "-U", superuser]
    server = Server("postgresql", port, folder, superuser, credentials, client)

    def stop() -> None:
        subprocess.run(_as(user, [pg_ctl, "--pgdata", str(data), "--mode=immediate", "--wait", "--timeout=30",
                                  "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(credentials.parent, ignore_errors=True)

    return server, None, stop


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def start_mariadb() -> tuple[Server, subprocess.Popen | None, callable]:
    install_db, daemon = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or \
        (os.path.exists("/usr/sbin/mariadbd") and "/usr/sbin/mariadbd")
    client_program = shutil.which("mariadb")
    if not install_db or not daemon or not client_program or not shutil.which("mariadb-dump"):
        raise ServerUnavailable("MariaDB's mariadb-install-db, mariadbd, mariadb and mariadb-dump are not installed "
                    "(Debian: mariadb-server)")
    user = _service_user("mysql")
    folder = _server_folder("mariadb", user)
    data, port, sock = folder / "data", free_port(), folder / "mariadb.sock"
    run_as = user.pw_name if user is not None else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run([install_db, "--no-defaults", f"--datadir={data}", f"--user={run_as}", "--skip-test-db",
                    "--auth-root-authentication-method=normal", "--skip-name-resolve"],
                   check=True, capture_output=True, timeout=180)
    log = folder / "server.log"
    process = subprocess.Popen([daemon, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}",
                                "--bind-address=127.0.0.1", f"--user={run_as}", f"--log-error={log}",
                                f"--pid-file={folder / 'mariadb.pid'}", "--skip-name-resolve",
                                "--innodb-buffer-pool-size=128M", "--innodb-flush-log-at-trx-commit=2",
                                "--skip-log-bin", "--max-connections=60"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_port(port, process, 60, log)
    socket_client = [client_program, "--no-defaults", f"--socket={sock}", "-u", "root", "--batch",
                     "--skip-column-names"]
    setup = subprocess.run(socket_client, input=f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{PASSWORD}';"
                   f"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';"
                   f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';"
                   "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
                   capture_output=True, text=True, timeout=60)
    if setup.returncode != 0:
        stop_process(process)
        raise RuntimeError(f"setting up MariaDB's users failed: {setup.stderr}")
    credentials = Path(tempfile.mkdtemp(prefix="strongroom-mycnf-")) / "client.cnf"
    credentials.write_text(f"[client]\npassword={PASSWORD}\n")
    credentials.chmod(0o600)
    client = [client_program, f"--defaults-extra-file={credentials}", "--protocol=TCP", "-h", "127.0.0.1",
              "-P", str(port), "-u", "root", "--batch", "--skip-column-names"]
    server = Server("mariadb", port, folder, "root", credentials, client)

    def stop() -> None:
        stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(credentials.parent, ignore_errors=True)

    return server, process, stop
