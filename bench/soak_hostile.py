"""The soak's hostile local user: a second user, in the shared (machine-scope) lock folder's group.

While the soak runs, that user (bench/soak_attacker.py) forges waiter records in the lock
folder and swaps folders for links: one of a destination root restores into, pointing at
root's folder outside it, and one of a store root backs up, pointing at a root-only folder
holding a file of the same name. A root worker here keeps restoring and backing up through
those folders, and takes the folder mutex with a bounded wait. The checks: nothing written
outside the destination, nothing outside changed owner or mode, no outside byte in a set,
no acquire blocked by a forged record.

Needs root (useradd, setpriv); otherwise the rows say it was not run.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from strongroom.core.engine import Engine
from strongroom.core.jobs import BackupOptions, JobState
from strongroom.core.paths import resolve_paths
from strongroom.core.restore import RestoreOptions

ATTACKER = Path(__file__).with_name("soak_attacker.py")
SECRET = b"root's own file: never in a set of another user's folder"
PROBE_TIMEOUT = "120"  # seconds an acquire may take under the soak's load, forged waiters ahead in its queue


def _state(folder: Path) -> dict[str, tuple]:
    found = {}
    for path in sorted(folder.rglob("*")):
        status = path.lstat()
        found[str(path.relative_to(folder))] = (stat.S_IFMT(status.st_mode), status.st_uid, status.st_gid,
                                                stat.S_IMODE(status.st_mode),
                                                path.read_bytes() if stat.S_ISREG(status.st_mode) else None)
    return found


class HostileUser:
    def __init__(self, work: Path, lock_dir: Path, cli: list[str]) -> None:
        self.problem = ""
        self.cli = cli
        self.lock_dir = lock_dir
        self.counts: dict[str, int] = {"restores": 0, "restores refused": 0, "backups": 0, "probes": 0}
        self.outside_bytes: list[str] = []
        self.blocked: list[str] = []
        self.unclear: list[str] = []
        self.attacker: dict[str, int] = {}
        self.process: subprocess.Popen | None = None
        if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"):
            self.problem = "needs root, useradd and setpriv"
            return
        self.name = f"srsoak{os.getpid() % 100000}"
        made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
                               self.name], capture_output=True, text=True, timeout=60)
        if made.returncode != 0 and "already exists" not in made.stderr:  # one a killed run left is used again
            self.problem = f"useradd failed: {made.stderr.strip()}"
            return
        user = pwd.getpwnam(self.name)
        self.uid, self.gid = user.pw_uid, user.pw_gid
        os.chmod(work, 0o711)  # the user may pass through the work folder, not list it
        base = work / "hostile-user"
        base.mkdir(mode=0o755)
        self.outside = base / "outside"  # root's: no restore may write here
        self.outside.mkdir(mode=0o755)
        (self.outside / "sentinel").write_bytes(b"untouched")
        (self.outside / "shadow").write_bytes(b"root only")
        os.chmod(self.outside / "shadow", 0o600)
        self.before = _state(self.outside)
        self.secret = base / "root-only"
        self.secret.mkdir(mode=0o700)
        (self.secret / "public.txt").write_bytes(SECRET)
        self.home = base / "home"  # the user's own folder, backed up by root
        (self.home / "sub").mkdir(parents=True)
        (self.home / "sub" / "public.txt").write_bytes(b"the user's own file")
        self.destination = base / "destination"  # a destination the user can write into
        (self.destination / "sub").mkdir(parents=True)
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(self.home), str(self.destination)], check=True)
        self.stop_file = base / "stop"
        self.home_of_engine = work / "hostile-home"
        self.engine = Engine(resolve_paths(self.home_of_engine, lock_dir=lock_dir))
        self.engine.add_store("users-home", "folder", str(self.home))

    def share_lock_dir(self) -> None:
        """Give the machine-scope lock folder to the user's group: a colleague turned hostile."""
        os.chown(self.lock_dir, -1, self.gid)
        for folder in self.lock_dir.glob("strongroom.*.waiting"):
            os.chown(folder, -1, self.gid)

    def start(self) -> None:
        if self.problem:
            return
        self.share_lock_dir()
        self.process = subprocess.Popen(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", sys.executable, str(ATTACKER),
             str(self.lock_dir), str(self.destination / "sub"), str(self.outside), str(self.home / "sub"),
             str(self.secret), str(self.stop_file)], stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline() != "attacking\n":
            self.problem = "the attacker process did not start"

    def worker(self, deadline: float) -> None:
        """Root's side: restores and backups through the user's folders, and bounded acquires."""
        if self.problem:
            return
        while time.monotonic() < deadline:
            self._backup()
            self._restore()
            self._probe()

    def _backup(self) -> None:
        job = self.engine.backup_job("users-home", BackupOptions(verify=False))
        state = job.run()
        self.counts["backups"] += 1
        if state not in (JobState.SUCCEEDED, JobState.WARNINGS):
            self.unclear.append(f"backup: {job.error}")
            return
        with self.engine.open_set(job.set_id) as reader:
            for entry in reader.manifest.own_entries:
                if entry.type == "file" and reader.read_file(entry) == SECRET:
                    self.outside_bytes.append(f"{entry.path} in {job.set_id}")

    def _restore(self) -> None:
        job = self.engine.restore_job("users-home", RestoreOptions(to=self.destination, overwrite="always"))
        state = job.run()
        self.counts["restores"] += 1
        if state == JobState.FAILED:
            self.counts["restores refused"] += 1
            if "Traceback" in (job.error or "") or str(self.destination) not in (job.error or ""):
                self.unclear.append(f"restore: {job.error}")

    def _probe(self) -> None:
        """Take the folder mutex as any job would, while forged waiters stand ahead in its queue."""
        result = subprocess.run([*self.cli, "--home", str(self.home_of_engine), "--lock-dir",
                                 str(self.lock_dir), "locks", "with", "folder", "--timeout", PROBE_TIMEOUT, "--",
                                 "true"], capture_output=True, text=True, timeout=600)
        self.counts["probes"] += 1
        if result.returncode != 0:
            self.blocked.append(result.stderr.strip()[-200:])

    def stop(self) -> None:
        if self.process is not None:
            self.stop_file.touch()
            output, _ = self.process.communicate(timeout=120)
            try:
                self.attacker = json.loads(output.strip().splitlines()[-1])
            except (ValueError, IndexError):
                self.attacker = {}
        if not self.problem:
            subprocess.run(["userdel", self.name], capture_output=True, timeout=60)

    def rows(self, row) -> list:
        if self.problem:
            return [row("hostile local user", f"not run: {self.problem}", True)]
        after = _state(self.outside)
        written = [path for path in after if path not in self.before or after[path][4] != self.before[path][4]]
        retouched = [path for path in self.before if path in after and after[path][:4] != self.before[path][:4]]
        return [
            row("hostile user: what it did", ", ".join(f"{n} {k}" for k, n in self.attacker.items()) + "; root ran "
                + ", ".join(f"{n} {k}" for k, n in self.counts.items()),
                self.attacker.get("destination swaps", 0) > 0 and self.attacker.get("forged", 0) > 0),
            row("hostile user: writes outside restore destinations", str(len(written)), not written),
            row("hostile user: files outside whose owner or mode changed", str(len(retouched)), not retouched),
            row("hostile user: outside bytes in a set of the user's folder", str(len(self.outside_bytes)),
                not self.outside_bytes),
            row("hostile user: acquires blocked by forged records", str(len(self.blocked)), not self.blocked),
            row("hostile user: jobs ending without a clear message", str(len(self.unclear)), not self.unclear),
        ]
