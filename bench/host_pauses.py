"""When the machine itself stood still: a bare Qt event loop in a process of its own, timed beside the console's.

On a virtual machine the host may stop every virtual CPU at once (CPU steal): a 1 ms timer
then comes 20-35 ms late in any program, a bare QCoreApplication as much as the console. The
helper runs such a loop next to the console's and reads its own thread's run time
(/proc/thread-self/schedstat) at each tick. The loop does nothing but tick, so the part of a late
tick it did not run was imposed on it: asleep with its timer due, or ready and given no CPU. perf
and /proc/stat showed those moments to be the host's (steal on both CPUs, 20-50 ms of it, while the
console's own thread ran 0.1-0.4 ms). The console's gap less the time imposed on the bare loop
inside it is what the console answers for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

# The helper prints one line per late tick (> 5 ms): the gap's start (CLOCK_MONOTONIC, as perf_counter in
# every process), its length and the part of it the thread did not run, in seconds.
LOOP = ("import os, sys, time\n"
        "os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
        "from PySide6.QtCore import QCoreApplication, QSocketNotifier, QTimer, Qt\n"
        "app = QCoreApplication([])\n"
        "counters = open('/proc/thread-self/schedstat')\n"
        "def read():\n"
        "    counters.seek(0); return int(counters.read().split()[0]) / 1e9\n"
        "last = [time.perf_counter(), read()]\n"
        "def tick():\n"
        "    now, ran = time.perf_counter(), read()\n"
        "    if now - last[0] > 0.005:\n"
        "        print(f'{last[0]:.6f} {now - last[0]:.6f} {max(now - last[0] - (ran - last[1]), 0):.6f}', flush=True)\n"
        "    last[:] = now, ran\n"
        "ticker = QTimer(); ticker.setTimerType(Qt.TimerType.PreciseTimer); ticker.setInterval(1)\n"
        "ticker.timeout.connect(tick); ticker.start()\n"
        "stop = QSocketNotifier(0, QSocketNotifier.Type.Read); stop.activated.connect(app.quit)\n"
        "QTimer.singleShot(3_600_000, app.quit)\n"
        "print('ready', flush=True)\n"
        "app.exec()\n")


class HostPauses:
    """``with HostPauses() as pauses: ...`` then ``pauses.longest_ms()`` and ``pauses.inside(start, end)``."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (start, end) of the time imposed on the bare loop
        self.gaps: list[float] = []  # the bare loop's late ticks, seconds
        self.steal_share = 0.0  # of the CPUs' time while it ran, the share the host took (/proc/stat)

    def __enter__(self) -> HostPauses:
        self._loop = subprocess.Popen([sys.executable, "-c", LOOP], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)
        if self._loop.stdout.readline().strip() != "ready":
            raise SystemExit("the bare event loop of host_pauses.py did not start")
        self._started = time.perf_counter(), steal_seconds()
        return self

    def __exit__(self, *_exc) -> None:
        started, stolen = self._started
        self.steal_share = (steal_seconds() - stolen) / ((time.perf_counter() - started) * (os.cpu_count() or 1))
        output, _ = self._loop.communicate(timeout=30)  # which closes its standard input: that ends its loop
        for line in output.splitlines():
            start, length, imposed = (float(field) for field in line.split())
            self.gaps.append(length)
            if imposed > 0.002:
                # Where in the gap is not known; its run time (well under 1 ms) is put at the gap's start.
                self.pauses.append((start + length - imposed, start + length))

    def longest_ms(self) -> float:
        """The bare loop's longest late tick: the floor any Qt program met under the same load."""
        return max(self.gaps, default=0.0) * 1000

    def inside(self, start: float, end: float) -> float:
        """Seconds of machine pause inside [start, end]."""
        return sum(max(0.0, min(end, pause_end) - max(start, pause_start)) for pause_start, pause_end in self.pauses)


def steal_seconds() -> float:
    """CPU time the host has taken from this machine since boot, all CPUs (the "steal" column of /proc/stat)."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0
