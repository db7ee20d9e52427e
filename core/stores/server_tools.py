"""Running a database server's client programs (pg_dump, mariadb, ...): found, bounded, cancellable.

Every run has a timeout or a cancel check, never a prompt (stdin is closed or ours), and
its error output kept for the one-line message. The drivers turn that output into what
went wrong and what to do (see ``ServerProblem`` in database_driver.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .base import StoreError

QUERY_TIMEOUT = 120.0
_POLL = 0.2


class ToolFailed(StoreError):
    """A client program ended with an error; ``output`` is what it wrote to stderr."""

    def __init__(self, tool: str, output: str, returncode: int) -> None:
        self.tool, self.output, self.returncode = tool, output, returncode
        super().__init__(f"{tool} failed: {last_lines(output) or f'exit status {returncode}'}")


def last_lines(output: str, count: int = 2) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return " ".join(lines[-count:])


def find_tool(name: str, package: str) -> str:
    """The path of client program ``name`` on PATH, or StoreError naming the package to install."""
    found = shutil.which(name)
    if found:
        return found
    raise StoreError(f"{name} is not installed: install the {package} package (it must be as new as the server)")


def version_of(tool: str, patterns: Iterable[str] = (r"(\d+)\.(\d+)(?:\.(\d+))?",)) -> tuple[int, ...]:
    """The version a client program prints with --version, as numbers (``pg_dump (PostgreSQL) 15.18`` → (15, 18));
    the first of ``patterns`` that matches is taken."""
    text = run(tool, ["--version"], timeout=30).stdout
    for pattern in patterns:
        match = re.search(pattern, text)
        if match is not None:
            return tuple(int(part) for part in match.groups() if part is not None)
    raise StoreError(f"cannot tell the version of {tool} from {text.strip()!r}")


def run(tool: str, arguments: list[str], *, timeout: float = QUERY_TIMEOUT, stdin: str | None = None,
        environment: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``tool`` to its end within ``timeout``; ToolFailed with its error output if it fails."""
    try:
        result = subprocess.run([tool, *arguments], input=stdin,
                                stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True, text=True,
                                timeout=timeout, env=environment, errors="replace")
    except FileNotFoundError:
        raise StoreError(f"{tool} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise StoreError(f"{Path(tool).name} did not finish within {timeout:g} s: check that the server answers")\
            from None
    if result.returncode != 0:
        raise ToolFailed(Path(tool).name, result.stderr, result.returncode)
    return result


def run_cancellable(tool: str, arguments: list[str], check_cancelled: Callable[[], None], *,
                    environment: dict[str, str] | None = None, stdin_chunks: Iterable[bytes] | None = None,
                    on_output: Callable[[str], None] | None = None) -> str:
    """Run a long job (a dump, a load) to its end; stop it at once when ``check_cancelled`` raises.

    ``stdin_chunks`` are fed to the program (a dump being loaded); its stderr is collected
    (and each line given to ``on_output``) and returned. ToolFailed if it fails.
    """
    process = subprocess.Popen([tool, *arguments], stdin=subprocess.PIPE if stdin_chunks is not None else
                               subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment,
                               start_new_session=True)
    errors: list[str] = []
    reader = threading.Thread(target=_collect, args=(process.stderr, errors, on_output), daemon=True,
                              name=f"{Path(tool).name}-stderr")
    reader.start()
    try:
        if stdin_chunks is not None:
            try:
                for chunk in stdin_chunks:
                    check_cancelled()
                    process.stdin.write(chunk)
            except BrokenPipeError:
                pass  # it stopped reading: its exit status and stderr say why
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
        while True:
            try:
                process.wait(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                check_cancelled()
    except BaseException:
        _stop(process)
        raise
    finally:
        reader.join(timeout=10)
    output = "".join(errors)
    if process.returncode != 0:
        raise ToolFailed(Path(tool).name, output, process.returncode)
    return output


def _collect(stream, into: list[str], on_output: Callable[[str], None] | None) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        into.append(line)
        if on_output is not None and line.strip():
            on_output(line.rstrip())
    stream.close()


def _stop(process: subprocess.Popen) -> None:
    """End a program and its children (pg_dump --jobs starts workers): TERM, then KILL after 5 s."""
    for signal_number, grace in ((15, 5.0), (9, 5.0)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
