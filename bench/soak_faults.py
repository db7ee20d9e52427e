"""Faults the soak injects: a target that fills up, one that turns read-only, damaged sets, hostile sets.

Each function runs the real `strongroom` command line against the fault and returns a
Fault: what was injected, whether Strongroom's answer was the clear message expected
(exit code and words), and that answer's first line.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from soak_world import sqlite_rows_ok, tree_state

from strongroom.core.archive import Entry, SetReader, SetWriter, sidecar_path
from strongroom.core.archive.manifest import SetInfo
from strongroom.core.archive.manifest_blocks import sort_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' manifest forger
from tests.forge import rewrite_manifests, rewrite_sidecar  # noqa: E402

CLI = [sys.executable, "-m", "strongroom.core.cli.main"]
TIMEOUT = 300


@dataclass
class Fault:
    kind: str
    clear: bool
    detail: str
    injected: bool = True  # False: the fault could not be set up here (said in detail)


def cli(home: Path, lock_dir: Path, *args: str, limit_bytes: int | None = None,
        stop_after: float | None = None, during=None) -> subprocess.CompletedProcess:
    """Run the CLI; ``limit_bytes`` caps the size of any file it writes (RLIMIT_FSIZE)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the cap fail with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    command = [*CLI, "--home", str(home), "--lock-dir", str(lock_dir), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=limit if limit_bytes else None)
    if during is not None:
        during(process)
    output, _ = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def run_maybe_killed(command: list[str], kill_after: float | None) -> tuple[subprocess.Popen, str | None]:
    """Run ``command``, SIGKILLed if still running after ``kill_after`` s; (process, its output, or None if killed)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        return process, None
    return process, output


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith((".partial", ".partial-journal"))] \
        if folder.exists() else []


# -- targets that fail -----------------------------------------------------------------------------

def file_size_limit(home: Path, lock_dir: Path, target: Path, store: str) -> Fault:
    result = cli(home, lock_dir, "backup", store, "--target", str(target), "--wait", "120", limit_bytes=600_000)
    clear = result.returncode == 1 and "ran out of space" in result.stdout and "nothing was kept" in result.stdout
    return Fault("target full (file-size limit)", clear, first_line(result.stdout))


def mount_tmpfs(point: Path, size: str) -> str:
    """Mount a small tmpfs at ``point``; "" when done, else why not."""
    point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return "needs root to mount a small file system"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True,
                          text=True)
    return "" if done.returncode == 0 else f"mount refused: {done.stderr.strip()}"


def unmount(point: Path) -> None:
    subprocess.run(["umount", str(point)], capture_output=True)


def tiny_filesystem(home: Path, lock_dir: Path, target: Path, store: str) -> Fault:
    result = cli(home, lock_dir, "backup", store, "--target", str(target), "--wait", "120")
    clear = result.returncode == 1 and "ran out of space" in result.stdout and "nothing was kept" in result.stdout
    return Fault("target full (1 MiB file system)", clear, first_line(result.stdout))


def read_only_target(home: Path, lock_dir: Path, target: Path, store: str, delay: float) -> Fault:
    """Turn the target read-only ``delay`` seconds into the backup (0: before it starts)."""
    def remount_ro(_process) -> None:
        time.sleep(delay)  # the moment of the fault, chosen at random by the caller
        subprocess.run(["mount", "-o", "remount,ro", str(target)], capture_output=True)

    if delay == 0:
        remount_ro(None)
        result = cli(home, lock_dir, "backup", store, "--target", str(target), "--wait", "120")
    else:
        result = cli(home, lock_dir, "backup", store, "--target", str(target), "--wait", "120", during=remount_ro)
    subprocess.run(["mount", "-o", "remount,rw", str(target)], capture_output=True)
    if result.returncode == 0:
        return Fault("target turned read-only", True, "the backup finished before the fault", injected=False)
    clear = result.returncode == 1 and "cannot write to the target" in result.stdout
    return Fault("target turned read-only", clear, first_line(result.stdout))


# -- damaged sets ---------------------------------------------------------------------------------

DAMAGE = ("flipped bytes", "truncated", "sidecar deleted", "sidecar altered")


def damage(path: Path, kind: str, rng) -> None:
    sidecar = sidecar_path(path)
    if kind == "flipped bytes":
        data = bytearray(path.read_bytes())
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(0, max(1, len(data) - 64))] ^= 0xFF
        path.write_bytes(bytes(data))
    elif kind == "truncated":
        with open(path, "r+b") as handle:
            handle.truncate(rng.randrange(len(path.read_bytes()) // 4, len(path.read_bytes()) - 10))
    elif kind == "sidecar deleted":
        sidecar.unlink()
    else:
        def grow(document: dict) -> None:
            entry = rng.choice([e for e in document["entries"] if e["type"] == "file"])
            entry["size"] += 1

        rewrite_sidecar(path, grow)


def manifest_state(set_path: Path) -> dict[str, str]:
    """path -> SHA-256 (or "link:" + target) of every file and link a set's manifest lists."""
    state = {}
    with SetReader(set_path) as reader:
        for entry in reader.manifest.entries:
            if entry.type == "file":
                state[entry.path] = entry.sha256
            elif entry.type == "symlink":
                state[entry.path] = "link:" + (entry.target or "")
    return state


def damaged_set(home: Path, lock_dir: Path, record, kind: str, scratch: Path, rng) -> tuple[Fault, Fault | None]:
    """Damage a catalogued set in place, verify and restore it, then put it back as it was."""
    path = Path(record.path)
    saved = scratch / "saved"
    saved.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, saved / path.name)
    shutil.copy2(sidecar_path(path), saved / sidecar_path(path).name)
    verify_fault = None
    try:
        damage(path, kind, rng)
        verify = cli(home, lock_dir, "verify", record.id)
        words = ("damaged", "truncated", "sidecar", "checksum", "differs", "corrupt")
        verify_fault = Fault(f"damaged set: {kind}", verify.returncode == 1 and "Traceback" not in verify.stdout
                             and any(word in verify.stdout.lower() for word in words), first_line(verify.stdout))
        restore_fault = None
        if kind != "sidecar deleted":  # without its sidecar a set is still whole: its restore must just work
            # --allow-damaged: the restore itself must find the damage, not only the catalog's mark from verify
            restore = cli(home, lock_dir, "restore", record.store, "--set", record.id, "--to", str(scratch / "out"),
                          "--allow-damaged",
                          "--wait", "120")
            if restore.returncode == 0:
                # The damage may miss every member a restore needs (the sidecar and the per-file SHA-256
                # still hold): then the restored files must be exactly the set's.
                if record.store_type == "sqlite":  # an incremental set's member is a page delta, not the file
                    restored_right = sqlite_rows_ok(scratch / "out" / f"{record.store}.db")[0]
                else:
                    restored_right = tree_state(scratch / "out") == manifest_state(saved / path.name)
                restore_fault = Fault(f"restore of damaged set: {kind}", restored_right,
                                      "restored correctly: the damage missed every member it needed"
                                      if restored_right else f"RESTORED WRONG DATA (set {record.id})")
            else:
                restore_fault = Fault(f"restore of damaged set: {kind}", restore.returncode == 1 and bool(
                    first_line(restore.stdout)) and "Traceback" not in restore.stdout, first_line(restore.stdout))
            if leftovers(scratch / "out"):
                restore_fault.clear = False
                restore_fault.detail += " (left partial files)"
    finally:
        shutil.copy2(saved / path.name, path)
        shutil.copy2(saved / sidecar_path(path).name, sidecar_path(path))
        # Put back whole, it is verified again, as an administrator would: the catalog marked it damaged, and a
        # damaged set is not restored without an override.
        again = cli(home, lock_dir, "verify", record.id)
        if again.returncode != 0 and verify_fault is not None:
            verify_fault.clear = False
            verify_fault.detail += f" (put back whole, it still does not verify: {first_line(again.stdout)})"
    return verify_fault, restore_fault


# -- hostile sets ---------------------------------------------------------------------------------

# A link pointing out of the destination is data, not hostile: it is restored as a link. What is
# hostile is what would be written *through* one, or land outside the destination.
HOSTILE_MEMBER = {"'..' in a path": "../escape", "absolute path": "/tmp/strongroom-soak-escape",
                  "member below a link": "out/cron.d", "hard link to outside the set": "hard",
                  "device entry": "ok.txt"}
HOSTILE: dict[str, tuple[Entry, ...]] = {
    "'..' in a path": (Entry(path="../escape", type="dir", mode=0o755, mtime_ns=0),),
    "absolute path": (Entry(path="/tmp/strongroom-soak-escape", type="dir", mode=0o755, mtime_ns=0),),
    "member below a link": (Entry(path="out", type="symlink", mode=0o777, mtime_ns=0, target="../../.."),
                            Entry(path="out/cron.d", type="dir", mode=0o755, mtime_ns=0)),
    "hard link to outside the set": (Entry(path="hard", type="hardlink", mode=0o644, mtime_ns=0,
                                           target="/etc/shadow"),),
    "device entry": (),  # written as a file, then turned into a character device in the manifests
}


def write_hostile(path: Path, kind: str, set_id: str) -> tuple[str, str]:
    """Write a hostile set; (its creation time, the SHA-256 of its manifest) for its catalog record."""
    with SetWriter(path, set_id=set_id) as writer:
        data = b"harmless\n"
        entry, _ = writer.add_file(Entry(path="ok.txt", type="file", mode=0o644, mtime_ns=0, size=len(data)),
                                   io.BytesIO(data))
        writer.record(entry)
        forged = [writer.add_bodiless(member).public_dict() for member in HOSTILE[kind]]
        manifest = writer.finish(SetInfo(
            set_id=set_id, store="hostile", store_type="folder", kind="full", parent=None,
            created="2026-01-01T00:00:00.000Z", source="/nonexistent/hostile"))

    # SetWriter writes no hostile manifest: both manifests, the sidecar and the one inside, are rewritten as
    # the set's maker would (a sidecar edited alone is passed over for the one inside).
    def plant(document: dict) -> None:
        if not forged:
            document["entries"][0]["type"] = "chardev"
        document["entries"] = sorted(document["entries"] + forged, key=lambda record: sort_key(record["path"]))

    return manifest.created, rewrite_manifests(path, plant)


def hostile_set(home: Path, lock_dir: Path, folder: Path, kind: str, number: int) -> tuple[Fault, Fault]:
    """Feed a hostile set to verify (by file) and to restore (catalogued in a catalog of its own)."""
    from strongroom.core.catalog import Catalog, SetRecord

    set_id = f"hostile-{number}"
    path = folder / "hostile" / f"{set_id}.tar.zst"
    path.parent.mkdir(parents=True, exist_ok=True)
    created, digest = write_hostile(path, kind, set_id)
    verify = cli(home, lock_dir, "verify", str(path), "--untrusted")
    named = (HOSTILE_MEMBER[kind] in verify.stdout or "sidecar" in verify.stdout) and "Traceback" not in verify.stdout
    verify_fault = Fault(f"hostile set: {kind}", verify.returncode == 1 and named, first_line(verify.stdout))
    Catalog(home / "catalog.sqlite").add_set(SetRecord(
        id=set_id, store="hostile", store_type="folder", kind="full", parent=None, created=created,
        path=str(path), files=1, bytes=9, stored_bytes=path.stat().st_size, manifest_sha256=digest))
    destination = folder / f"restore-{number}" / "dest"
    destination.mkdir(parents=True)
    restore = cli(home, lock_dir, "restore", "hostile", "--set", set_id, "--to", str(destination))
    written = [p for p in destination.parent.rglob("*") if p != destination]
    escaped = Path("/tmp/strongroom-soak-escape").exists() or (destination.parent / "escape").exists()
    restore_fault = Fault(f"restore of hostile set: {kind}", restore.returncode == 1 and not written and not escaped
                          and HOSTILE_MEMBER[kind] in restore.stdout + verify.stdout,
                          first_line(restore.stdout) + (" (WROTE FILES)" if written or escaped else ""))
    return verify_fault, restore_fault
