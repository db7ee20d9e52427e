"""How long input waits for the GUI thread: the delay from a byte written to a pipe to the event loop reading it.

The 1 ms timer of gui_bench.py counts any late tick as a stall, also when the thread was
idle and only the timer came late (perf showed the thread asleep in poll() for 24-26 ms
while the ticker was due). A window's input arrives as a readable descriptor (the display
connection): a helper process writes its send time to a pipe every 5 ms, and a
QSocketNotifier in the GUI thread reads it, so the delay is what a keypress or click
would have waited.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time

SENDER = ("import os, sys, time, struct\n"
          "fd = int(sys.argv[1])\n"
          "while True:\n"
          "    os.write(fd, struct.pack('d', time.perf_counter()))\n"
          "    time.sleep(0.005)\n")


class InputProbe:
    """``with InputProbe() as probe: ...`` then ``probe.delays`` (seconds, sorted)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __enter__(self) -> InputProbe:
        from PySide6.QtCore import QSocketNotifier

        self._read, write = os.pipe()
        os.set_blocking(self._read, False)
        self._sender = subprocess.Popen([sys.executable, "-c", SENDER, str(write)], pass_fds=(write,))
        os.close(write)
        self._notifier = QSocketNotifier(self._read, QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._readable)
        return self

    def _readable(self) -> None:
        now = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in both processes
        try:
            data = os.read(self._read, 8 * 256)
        except BlockingIOError:
            return
        for start in range(0, len(data) - 7, 8):
            self.delays.append(now - struct.unpack("d", data[start:start + 8])[0])

    def __exit__(self, *_exc) -> None:
        self._notifier.setEnabled(False)
        self._sender.kill()
        self._sender.wait(10)
        os.close(self._read)
        self.delays.sort()

    def longest_ms(self) -> float:
        return self.delays[-1] * 1000 if self.delays else float("nan")

    def p99_ms(self) -> float:
        return self.delays[int(len(self.delays) * 0.99)] * 1000 if self.delays else float("nan")
