"""Verifying a backup set: every frame whole, every member's bytes and header as recorded.

Verification walks the set frame by frame, so damage in one frame does not hide the
state of the others, and each problem names the members it touches: a flipped bit (the
SHA-256 or the zstd checksum disagrees), a truncated file (frames cut short or missing),
a missing or altered sidecar (it must equal the manifest stored inside the set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import zstandard

from . import tar_format
from .errors import DamagedSet
from .manifest import SetManifest, parse_manifest, sidecar_path
from .reader import CHUNK, SetReader, read_exactly, read_sidecar
from .zstd_frames import TRAILER, FrameError, frame_end, frame_stream


@dataclass
class VerifyReport:
    """What verification found. ``ok`` only when there is nothing to report."""

    path: Path
    set_id: str = ""
    members_checked: int = 0
    bytes_checked: int = 0
    damaged: dict[str, str] = field(default_factory=dict)  # member -> reason
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"set {self.set_id} is intact: {self.members_checked} members, {self.bytes_checked} bytes checked"
        parts = list(self.problems)
        parts += [f"member {member!r} is damaged ({reason})" for member, reason in sorted(self.damaged.items())]
        return f"set {self.set_id or self.path} is damaged: " + "; ".join(parts)

    def public_dict(self) -> dict:
        return {"path": str(self.path), "set_id": self.set_id, "ok": self.ok,
                "members_checked": self.members_checked, "bytes_checked": self.bytes_checked,
                "damaged": [{"member": member, "reason": reason} for member, reason in sorted(self.damaged.items())],
                "problems": list(self.problems)}


ProgressCallback = Callable[[int, str], None]


def verify_set(path: Path, on_data: ProgressCallback | None = None) -> VerifyReport:
    """Check the set file at ``path``; raises ArchiveError only when it cannot be opened at all."""
    report = VerifyReport(path)
    with SetReader(path, load=False) as reader:
        try:
            reader.use(_trusted_manifest(reader, report))
        except DamagedSet as error:
            report.problems.append(str(error))
            return report
        manifest = reader.manifest
        report.set_id = manifest.set_id
        own = sorted(manifest.own_entries, key=lambda entry: (entry.frame_offset, entry.header_offset))
        for frame, members in groupby(own, key=lambda entry: entry.frame_offset):
            _verify_frame(reader, frame, list(members), report, on_data)
        _check_frame(reader, manifest.manifest_frame_offset, report, "the manifest's frame")
        if reader.trailer_offset is None:
            report.problems.append("the index trailer at the end of the set is missing (the file is truncated)")
    return report


def _trusted_manifest(reader: SetReader, report: VerifyReport) -> SetManifest:
    """The manifest inside the set; the sidecar is checked against it (or used if that is lost)."""
    internal = error = None
    try:
        internal = reader.internal_manifest()
    except DamagedSet as problem:
        error = problem
    sidecar = read_sidecar(reader.path)
    sidecar_name = sidecar_path(reader.path).name
    if sidecar is None:
        report.problems.append(f"the sidecar manifest {sidecar_name} is missing")
    elif internal is not None and sidecar != internal.to_bytes():
        report.problems.append(f"the sidecar manifest {sidecar_name} differs from the manifest inside the set "
                               "(it was altered or belongs to another set)")
    if internal is not None:
        return internal
    report.problems.append(str(error))
    if sidecar is None:
        raise DamagedSet(f"{reader.path} has neither a readable internal manifest nor a sidecar: "
                         "nothing can be verified")
    return parse_manifest(sidecar, str(sidecar_path(reader.path)))


def _check_frame(reader: SetReader, start: int, report: VerifyReport, what: str) -> bool:
    expected_end = reader.frame_end(start)
    try:
        end = frame_end(reader.raw, start, reader.size - TRAILER.size)
    except FrameError as error:
        report.problems.append(f"{what} is damaged: {error}")
        return False
    if end != expected_end:
        report.problems.append(f"{what} ends at offset {end}, not at {expected_end} where the next one starts")
        return False
    return True


def _verify_frame(reader: SetReader, frame: int, members: list, report: VerifyReport,
                  on_data: ProgressCallback | None) -> None:
    if not _check_frame(reader, frame, report, f"the frame at offset {frame}"):
        for entry in members:
            report.damaged.setdefault(entry.path, "its frame is cut short or damaged")
        return
    stream = frame_stream(reader.raw, frame, reader.frame_end(frame))
    position = 0
    done: set[str] = set()
    try:
        for entry in members:
            if entry.header_offset != position:
                raise ValueError(f"member {entry.path!r} is not where the manifest says")
            header = read_exactly(stream, entry.data_offset - entry.header_offset)
            path, kind, size, target = tar_format.parse_header(header)
            if (path, kind, size, target or None) != (entry.path, entry.type, entry.size, entry.target):
                report.damaged[entry.path] = f"its tar header says {path!r} ({kind}, {size} bytes)"
            digest = hashlib.sha256()
            remaining = entry.size
            while remaining:
                chunk = read_exactly(stream, min(CHUNK, remaining))
                digest.update(chunk)
                remaining -= len(chunk)
                if on_data is not None:
                    on_data(len(chunk), entry.path)
            read_exactly(stream, tar_format.padding(entry.size))
            position = entry.data_offset + entry.size + tar_format.padding(entry.size)
            if entry.type == "file" and digest.hexdigest() != entry.sha256:
                report.damaged[entry.path] = "its SHA-256 does not match the manifest"
            done.add(entry.path)
            report.members_checked += 1
            report.bytes_checked += entry.size
        if stream.read(1):
            raise ValueError("the frame holds more than the manifest lists")
    except (ValueError, zstandard.ZstdError) as error:
        for entry in members:
            if entry.path not in done:
                report.damaged[entry.path] = f"unreadable: {error}"
        if all(entry.path in done for entry in members):
            report.problems.append(f"the frame at offset {frame} is damaged: {error}")
