"""Verifying a backup set: every frame whole, every member's bytes and header as recorded.

Verification walks the set frame by frame, so damage in one frame does not hide the
state of the others, and each problem names the members it touches: a flipped bit (the
SHA-256 or the zstd checksum disagrees), a truncated file (frames cut short or missing),
a missing or altered sidecar (it must equal the manifest stored inside the set).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator
from pathlib import Path

import zstandard

from . import tar_format
from .entries import EntryStream
from .entry import Entry
from .errors import ArchiveError, DamagedSet, HostileSet
from .manifest import SetManifest, parse_manifest, sidecar_path
from .manifest_blocks import all_frames
from .member_paths import display_path
from .reader import CHUNK, Expected, SetReader, read_exactly, read_sidecar_head
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
        parts += [f"member '{display_path(member)}' is damaged ({reason})" for member, reason in sorted(self.damaged.items())]
        return f"set {self.set_id or self.path} is damaged: " + "; ".join(parts)

    def public_dict(self) -> dict:
        return {"path": str(self.path), "set_id": self.set_id, "ok": self.ok,
                "members_checked": self.members_checked, "bytes_checked": self.bytes_checked,
                "damaged": [{"member": member, "reason": reason} for member, reason in sorted(self.damaged.items())],
                "problems": list(self.problems)}


ProgressCallback = Callable[[int, str], None]


def verify_set(path: Path, on_data: ProgressCallback | None = None, expected: Expected | None = None,
               on_member: Callable[[Entry], None] | None = None) -> VerifyReport:
    """Check the set file at ``path`` (against the catalog's record when given).

    Raises ArchiveError only when the file cannot be opened at all.
    """
    report = VerifyReport(path)
    with SetReader(path, load=False, expected=expected) as reader:
        if expected is not None and reader.size != expected.size:
            report.problems.append(f"the set file is {reader.size} bytes, but set {expected.set_id} was written with "
                                   f"{expected.size}: it was cut short, extended or replaced")
        try:
            manifest = _trusted_manifest(reader, report)
            reader.check_expected(manifest)
            reader.use(manifest)
        except DamagedSet as error:
            report.problems.append(str(error))
            return report
        manifest = reader.manifest
        report.set_id = manifest.set_id
        exact = manifest.end_frame_offset is not None  # format 2 on: every header is the one its entry makes
        tar_end = manifest.end_frame_offset if exact else manifest.manifest_frame_offset
        try:
            for frame, members, end in _frames(_in_set_order(manifest), tar_end):
                _verify_frame(reader, frame, end, members, report, on_data, exact, on_member)
            if isinstance(manifest.entries, EntryStream):
                check_manifest_frames(reader, manifest, report)
        except (DamagedSet, HostileSet) as error:
            report.problems.append(str(error))
        if manifest.end_frame_offset is None:  # version 1: the manifest was the tar stream's last member
            _check_frame(reader, manifest.manifest_frame_offset, reader.size - TRAILER.size, report,
                         "the manifest's frame")
        else:
            check_end_of_archive(reader, manifest.end_frame_offset, manifest.manifest_frame_offset, report)
            if manifest.version < 3 and reader.trailer_offset is not None and \
                    reader.trailer_offset != manifest.manifest_frame_offset:
                report.problems.append(f"something lies between the end of the tar stream and the manifest (offsets "
                                       f"{manifest.manifest_frame_offset} to {reader.trailer_offset}): the set was "
                                       "altered")
        if reader.trailer_offset is None:
            report.problems.append("the index trailer at the end of the set is missing (the file is truncated)")
    return report


def _in_set_order(manifest: SetManifest) -> Iterable[Entry]:
    """The set's own members in the order of its tar stream (a format 3 manifest lists them so)."""
    if isinstance(manifest.entries, EntryStream):
        return manifest.own_entries
    return sorted(manifest.own_entries, key=lambda entry: (entry.frame_offset, entry.header_offset))


def _frames(own: Iterable[Entry], tar_end: int) -> Iterator[tuple[int, list[Entry], int]]:
    """(frame offset, its members, where the next frame starts), one frame at a time."""
    frame, members = -1, []
    for entry in own:
        if entry.frame_offset != frame:
            if entry.frame_offset < frame:
                raise DamagedSet(f"member '{display_path(entry.path)}' lies in a frame before the one of the member "
                                 "listed before it: the manifest is not the set's")
            if members:
                yield frame, members, entry.frame_offset
            frame, members = entry.frame_offset, []
        members.append(entry)
    if members:
        yield frame, members, tar_end


def check_manifest_frames(reader: SetReader, manifest: SetManifest, report: VerifyReport) -> None:
    """The manifest's blocks tile its section exactly: nothing hidden between them, nothing unlisted."""
    source = manifest.entries.source
    frames = sorted((row.offset, row.length) for tree in (manifest.entries.tree, manifest.deleted.tree)
                    for row in all_frames(source, tree))
    position = 0
    for offset, length in frames:
        if offset != position:
            report.problems.append(f"something lies in the manifest section that its index does not list (at "
                                   f"offset {manifest.manifest_frame_offset + position}): the set was altered")
            return
        position += length
    if manifest.manifest_frame_offset + position != reader.trailer_offset:
        report.problems.append(f"something lies between the manifest's blocks and its head (offsets "
                               f"{manifest.manifest_frame_offset + position} to {reader.trailer_offset}): the set "
                               "was altered")


def _trusted_manifest(reader: SetReader, report: VerifyReport) -> SetManifest:
    """The manifest inside the set; the sidecar is checked against it (or used if that is lost)."""
    internal = error = None
    try:
        internal = reader.internal_manifest()
    except DamagedSet as problem:
        error = problem
    sidecar_name = sidecar_path(reader.path).name
    try:
        sidecar = read_sidecar_head(reader.path)
    except ArchiveError:
        sidecar = None
        report.problems.append(f"the sidecar manifest {sidecar_name} is damaged")
    else:
        if sidecar is None:
            report.problems.append(f"the sidecar manifest {sidecar_name} is missing")
        elif internal is not None and not same_manifest(reader, internal):
            report.problems.append(f"the sidecar manifest {sidecar_name} differs from the manifest inside the set "
                                   "(it was altered or belongs to another set)")
    if internal is not None:
        return internal
    report.problems.append(str(error))
    if sidecar is None:
        raise DamagedSet(f"{reader.path} has neither a readable internal manifest nor a sidecar: "
                         "nothing can be verified")
    return parse_manifest(sidecar[0], str(sidecar_path(reader.path)), sidecar[1])


def same_manifest(reader: SetReader, internal: SetManifest) -> bool:
    """Whether the sidecar holds the same manifest bytes as the set (its own trailer aside)."""
    start = internal.manifest_frame_offset if internal.version >= 3 else reader.trailer_offset or 0
    length = reader.size - TRAILER.size - start
    try:
        with open(sidecar_path(reader.path), "rb") as sidecar:
            if internal.version < 3:
                return sidecar.read(len(internal.head) + 1) == internal.head
            if os.fstat(sidecar.fileno()).st_size != length + TRAILER.size:
                return False
            reader.raw.seek(start)
            remaining = length
            while remaining:
                count = min(CHUNK, remaining)
                if sidecar.read(count) != reader.raw.read(count):
                    return False
                remaining -= count
    except OSError:
        return False
    return True


def _check_frame(reader: SetReader, start: int, expected_end: int, report: VerifyReport, what: str) -> bool:
    try:
        end = frame_end(reader.raw, start, reader.size - TRAILER.size)
    except FrameError as error:
        report.problems.append(f"{what} is damaged: {error}")
        return False
    if end != expected_end:
        report.problems.append(f"{what} ends at offset {end}, not at {expected_end} where the next one starts")
        return False
    return True


def check_end_of_archive(reader: SetReader, start: int, end: int, report: VerifyReport) -> None:
    """The frame after the last member holds the two zero blocks that end a tar stream, and nothing else."""
    if not _check_frame(reader, start, end, report, "the end-of-archive frame"):
        return
    try:
        data = frame_stream(reader.raw, start, end).read(2 * len(tar_format.END_OF_ARCHIVE))
    except zstandard.ZstdError as error:
        report.problems.append(f"the end-of-archive frame is damaged: {error}")
        return
    if data != tar_format.END_OF_ARCHIVE:
        report.problems.append("the end-of-archive frame does not hold the tar stream's end")


def _verify_frame(reader: SetReader, frame: int, end: int, members: list, report: VerifyReport,
                  on_data: ProgressCallback | None, exact: bool,
                  on_member: Callable[[Entry], None] | None = None) -> None:
    if not _check_frame(reader, frame, end, report, f"the frame at offset {frame}"):
        for entry in members:
            report.damaged.setdefault(entry.path, "its frame is cut short or damaged")
        return
    stream = frame_stream(reader.raw, frame, end)
    position = 0
    done: set[str] = set()
    try:
        for entry in members:
            if entry.header_offset != position:
                raise ValueError(f"member '{display_path(entry.path)}' is not where the manifest says")
            raw_header = read_exactly(stream, entry.data_offset - entry.header_offset)
            header = tar_format.parse_header(raw_header)
            stored = entry.stored_size
            if (header.path, header.kind, header.stored, header.target or None) != (
                    entry.path, entry.type, stored, entry.target):
                report.damaged[entry.path] = (f"its tar header says {display_path(header.path)!r} ({header.kind}, "
                                              f"{header.stored} bytes)")
            elif exact and raw_header != tar_format.header(entry.head()):
                # what tar -x would make of it is not what the manifest says (a mode, owner, time, attribute);
                # the ACL text names users as this system names them now, so only the ACL xattr itself counts
                differing = [field for field in tar_format.header_differences(raw_header, tar_format.header(entry.head()))
                             if not field.startswith("pax SCHILY.acl.")]
                if differing:
                    report.damaged[entry.path] = f"its tar header differs from the manifest in {', '.join(differing)}"
            digest = hashlib.sha256()
            remaining = stored
            if entry.sparse is not None:  # tar -x places the data by the map at its start: it must be the manifest's
                sparse_map = tar_format.sparse_map(entry.sparse, entry.size)
                head = read_exactly(stream, len(sparse_map))
                digest.update(head)
                remaining -= len(head)
                if head != sparse_map:
                    report.damaged[entry.path] = "its sparse map differs from the manifest"
            while remaining:
                chunk = read_exactly(stream, min(CHUNK, remaining))
                digest.update(chunk)
                remaining -= len(chunk)
                if on_data is not None:
                    on_data(len(chunk), entry.path)
            read_exactly(stream, tar_format.padding(stored))
            position = entry.data_offset + stored + tar_format.padding(stored)
            if entry.type == "file" and digest.hexdigest() != entry.sha256:
                report.damaged[entry.path] = "its SHA-256 does not match the manifest"
            done.add(entry.path)
            report.members_checked += 1
            report.bytes_checked += stored
            if on_member is not None:
                on_member(entry)
        if stream.read(1):
            raise ValueError("the frame holds more than the manifest lists")
    except (ValueError, zstandard.ZstdError) as error:
        for entry in members:
            if entry.path not in done:
                report.damaged[entry.path] = f"unreadable: {error}"
        if all(entry.path in done for entry in members):
            report.problems.append(f"the frame at offset {frame} is damaged: {error}")
