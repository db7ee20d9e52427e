"""Who runs the plans: an agent, when one runs for this home, else this console while it is open.

Every few seconds it reads the agent's presence record. With no live agent, it runs the
core schedule loop (the agent's own) in a thread, and the jobs of the plans it starts are
shown in the Jobs view like the console's own. When an agent starts meanwhile, the
console stops scheduling and lets the plans it started finish; two schedulers could
not run one slot twice anyway (the catalog hands each slot out once).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.agent.agent import ScheduleLoop
from ..core.agent.presence import read_presence
from ..core.engine import Engine
from ..core.jobs import Job
from ..core.units import human_time
from .external_jobs import ExternalJobs

log = logging.getLogger(__name__)

CHECK_MS = 5000


class HostedSchedule(QObject):
    charge_changed = Signal(str)  # who runs the plans, in words

    def __init__(self, engine: Engine, external: ExternalJobs, parent: QObject | None = None, *,
                 poll: float = 5.0) -> None:
        super().__init__(parent)
        self.engine = engine
        self.external = external
        self.poll = poll
        self.text = ""
        self._loop: ScheduleLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        self.check()
        self._timer.start()

    @property
    def hosting(self) -> bool:
        return self._thread is not None and self._thread.is_alive()  # its loop, or the loop's wait for its runs

    def check(self) -> None:
        """Host the schedule or leave it to the agent, and say which."""
        if self._stopped:
            return
        presence = read_presence(self.engine.paths.data_dir)
        if presence is not None and presence.running:
            if self._loop is not None:
                self._loop.stop(cancel_running=False)  # its running plans go on to their end
                self._loop = None
            self._say(f"Plans run by the agent (pid {presence.pid}, since {human_time(presence.since)})"
                      + (f"; next: {presence.next_plan} at {human_time(presence.next_at)}" if presence.next_plan
                         else ""))
            return
        if self._loop is None:
            self._loop = ScheduleLoop(self.engine, log=lambda line: log.info("%s", line), poll=self.poll,
                                      on_jobs=self._show)
            self._thread = threading.Thread(target=self._loop.run, name="hosted schedule", daemon=True)
            self._thread.start()
        upcoming = self._loop.scheduler.upcoming
        self._say("Plans run by this console while it is open (no agent runs: see the README to install it as a "
                  "service)" + (f"; next: {upcoming.plan} at {human_time(upcoming.at.isoformat())}" if upcoming
                                else ""))

    def _show(self, jobs: list[Job]) -> None:
        self.external.attach(jobs)

    def _say(self, text: str) -> None:
        if text != self.text:
            self.text = text
            self.charge_changed.emit(text)

    def running_plans(self) -> list[str]:
        return self._loop.running_plans() if self._loop is not None else []

    def stop(self) -> None:
        """Stop scheduling and cancel the plans it runs (``hosting`` is False once they have ended)."""
        self._stopped = True
        self._timer.stop()
        if self._loop is not None:
            self._loop.stop()
