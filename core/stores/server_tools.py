"""Running a database server's client programs (pg_dump, mariadb, ...): found, bounded, cancellable.

Every run has a timeout or a cancel check, never a prompt (stdin is closed or ours), and
its error output kept for the one-line message. The drivers turn that output into what
went wrong and what to do (see ``ServerProblem`` in database_driver.py).
"""

from __future__ import annotations

import functools
import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
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
    the first of ``patterns`` that matches is taken. Asked once per program file (a new file: asked again)."""
    try:
        status = os.stat(tool)
        identity = (status.st_dev, status.st_ino, status.st_mtime_ns)
    except OSError:
        identity = None
    return _version_of(tool, tuple(patterns), identity)


@functools.lru_cache(maxsize=32)
def _version_of(tool: str, patterns: tuple[str, ...], identity: tuple | None) -> tuple[int, ...]:
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


class StreamedOutput:
    """A long-running tool's standard output as an iterator of chunks, read by a thread of its own.

    ``with StreamedOutput(tool, args, check_cancelled) as chunks: for chunk in chunks: ...``
    The thread keeps reading while the consumer hashes and compresses (a bounded queue,
    ``DEPTH`` chunks of a MiB), so the tool is not held up — as in ``pg_dump | zstd``.
    The iterator ends when the tool has exited; ToolFailed if it failed. Leaving the block
    early (an error, a cancel) stops the tool and its children.
    """

    DEPTH = 32
    _END = object()

    def __init__(self, tool: str, arguments: list[str], check_cancelled: Callable[[], None], *,
                 environment: dict[str, str] | None = None, on_output: Callable[[str], None] | None = None) -> None:
        self.tool, self.arguments, self.check_cancelled = tool, arguments, check_cancelled
        self.environment, self.on_output = environment, on_output
        self.errors: list[str] = []
        self.process: subprocess.Popen | None = None
        self._chunks: queue.Queue = queue.Queue(maxsize=self.DEPTH)
        self._stop = threading.Event()

    def __enter__(self) -> StreamedOutput:
        self.process = subprocess.Popen([self.tool, *self.arguments], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.environment,
                                        start_new_session=True)
        _widen_pipe(self.process.stdout.fileno())
        name = Path(self.tool).name
        self._threads = [threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True),
                         threading.Thread(target=_collect, args=(self.process.stderr, self.errors, self.on_output),
                                          name=f"{name}-stderr", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def _read(self) -> None:
        stdout = self.process.stdout
        try:
            while not self._stop.is_set():
                chunk = stdout.read(1 << 20)  # a whole MiB, or what is left at the end: few, large chunks
                if not chunk:
                    break
                while not self._stop.is_set():
                    try:
                        self._chunks.put(chunk, timeout=_POLL)
                        break
                    except queue.Full:
                        continue
        except OSError as error:
            self.errors.append(f"reading its output failed: {error}\n")
        finally:
            self._put_end()

    def _put_end(self) -> None:
        while not self._stop.is_set():
            try:
                self._chunks.put(self._END, timeout=_POLL)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                chunk = self._chunks.get(timeout=_POLL)
            except queue.Empty:
                self.check_cancelled()
                continue
            if chunk is self._END:
                break
            yield chunk
        while True:
            try:
                self.process.wait(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                self.check_cancelled()
        self._threads[1].join(timeout=10)
        if self.process.returncode != 0:
            raise ToolFailed(Path(self.tool).name, "".join(self.errors), self.process.returncode)

    def __exit__(self, exc_type, *rest) -> None:
        self._stop.set()
        if self.process.poll() is None:
            _stop(self.process)
        for thread in self._threads:
            thread.join(timeout=10)
        self.process.stdout.close()


def _widen_pipe(descriptor: int) -> None:
    """Ask Linux for a 1 MiB pipe (64 KiB by default), so each read takes more of the dump at once."""
    try:
        import fcntl

        fcntl.fcntl(descriptor, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass  # another OS, or a lower pipe-max-size: the default pipe works, in smaller reads


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
