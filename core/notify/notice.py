"""What a notification says: one plan run (or a test), as an e-mail's text and a webhook's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..identity import host_name
from ..units import counted


@dataclass(frozen=True)
class JobLine:
    store: str
    state: str
    set_id: str | None
    error: str | None
    warnings: int
    job_id: str


@dataclass(frozen=True)
class Notice:
    event: str  # "plan-run" | "test"
    result: str  # the worst job state: failed, cancelled, succeeded-with-warnings, succeeded
    plan: str = ""
    trigger: str = ""
    started: str = ""
    finished: str = ""
    jobs: tuple[JobLine, ...] = ()
    detail: str = ""
    host: str = field(default_factory=host_name)

    @property
    def subject(self) -> str:
        if self.event == "test":
            return f"Strongroom on {self.host}: a test message"
        return f"Strongroom on {self.host}: plan {self.plan} {self.result.replace('-', ' ')}"

    def text(self) -> str:
        if self.event == "test":
            return (f"This is a test message from Strongroom on {self.host}.\n"
                    "Notifications of failed scheduled backups will come this way.\n")
        lines = [f"Plan {self.plan} ({self.trigger}) on {self.host}: {self.result.replace('-', ' ')}.",
                 f"Started {self.started}, ended {self.finished}.", ""]
        for job in self.jobs:
            lines.append(f"- {job.store}: {job.state.replace('-', ' ')}"
                         + (f", set {job.set_id}" if job.set_id else "")
                         + (f", {counted(job.warnings, 'warning')}" if job.warnings else ""))
            if job.error:
                lines.append(f"  error: {job.error}")
            lines.append(f"  its log: strongroom jobs --log {job.job_id}")
        if self.detail:
            lines += ["", self.detail]
        return "\n".join(lines) + "\n"

    def document(self) -> dict:
        return {"event": self.event, "host": self.host, "plan": self.plan, "trigger": self.trigger,
                "result": self.result, "started": self.started, "finished": self.finished, "detail": self.detail,
                "jobs": [job.__dict__ for job in self.jobs]}
