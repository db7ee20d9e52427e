"""Compression in a background thread, so reading a store and compressing overlap.

``tar | zstd`` gets this for free from the pipe between two processes; here the writer
thread hands batches of tar bytes to this pipe and goes on reading files while zstd
compresses (zstandard releases the GIL). The queue is short, so memory stays bounded.
Frame ends travel through the same queue, and the pipe records where each frame
starts in the compressed file. A frame can also be taken back whole (``rollback``): a
file that fails to read half-way is cut out of the set instead of failing the backup.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import BinaryIO

import zstandard

DEPTH = 8  # batches of up to a MiB waiting to be compressed
_POLL = 0.1  # how often a producer waiting for room checks for a cancel
# An abort waits this long for the compressor to notice; a slow level (19 on a 4 MiB batch takes seconds) is
# left to end on its own: its file is being removed, and its next write to it fails and ends the thread.
_ABORT_WAIT = 0.2


class CompressionPipe:
    def __init__(self, new_writer: Callable[[], zstandard.ZstdCompressionWriter], fh: BinaryIO,
                 check_cancelled: Callable[[], None] = lambda: None) -> None:
        self._check_cancelled = check_cancelled  # may raise while a producer waits for room (a slow level)
        self._new_writer = new_writer
        self._writer = new_writer()
        self._fh = fh
        self._queue: queue.Queue[tuple[str, bytes | None]] = queue.Queue(maxsize=DEPTH)
        self.frame_offsets = [0]  # compressed offset where frame i starts
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="set compressor", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        self._put(("data", data))

    def end_frame(self) -> None:
        self._put(("frame", None))

    def rollback(self) -> None:
        """Take back the frame being written: the file is cut back to where it started."""
        self._put(("rollback", None))

    def drain(self, check: Callable[[], None] = lambda: None) -> None:
        """Wait until everything queued is compressed and written; raise what went wrong there.

        ``check`` is called while waiting and may raise (a cancel): at a slow level the last
        batches take seconds, and a cancelled job must not wait for them.
        """
        self._put(("stop", None))
        while self._thread.is_alive():
            check()
            self._thread.join(_POLL / 5)
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop without finishing (the set is being thrown away)."""
        self._error = self._error or RuntimeError("aborted")
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        try:
            self._queue.put(("stop", None), timeout=_POLL)
        except queue.Full:
            pass
        self._thread.join(_ABORT_WAIT)

    def _put(self, item: tuple[str, bytes | None]) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise RuntimeError("the compressor thread has stopped") from None
                self._check_cancelled()

    def _run(self) -> None:
        while True:
            kind, data = self._queue.get()
            if kind == "stop":
                return
            if self._error is not None:
                continue  # keep taking items so that the producer sees the error, not a full queue
            try:
                if kind == "data":
                    self._writer.write(data)
                elif kind == "rollback":
                    self._writer = self._new_writer()  # the old one's unwritten output is dropped with it
                    self._fh.seek(self.frame_offsets[-1])
                    self._fh.truncate()
                else:
                    self._writer.flush(zstandard.FLUSH_FRAME)
                    self.frame_offsets.append(self._fh.tell())
            except BaseException as error:  # noqa: BLE001 - handed to the producer
                self._error = error
