"""zstd frame plumbing: walking a frame's structure, the index trailer, bounded reads.

The decompressor checks a frame's checksum only when it reaches the frame's end, and
silently stops at a truncated one, so completeness is proven here by walking the block
headers (cheap: no decompression). The manifest travels in a zstd *skippable* frame
after the tar stream, and the index trailer, another skippable frame at the very end,
says where it starts: ``zstd -d`` skips both, so ``zstd -dc SET | tar -x`` never sees
the manifest, while a set can still be read when its sidecar is lost.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

import zstandard

ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE_MAGIC = 0x184D2A5B
MANIFEST_MAGIC = 0x184D2A5A  # another of the 16 skippable-frame magic numbers
MANIFEST_TAG = b"SRMANIF2"
_SKIPPABLE_HEAD = struct.Struct("<II8s")  # magic, payload size, tag
MAX_SKIPPABLE = (1 << 32) - 1
TRAILER_TAG = b"STRONGRM"
TRAILER = struct.Struct("<II8sQ")  # magic, payload size, tag, manifest frame offset
_BLOCK_HEADER = 3


class FrameError(ValueError):
    """A frame that is not where it should be, or ends before its last block."""


def frame_end(fh: BinaryIO, start: int, limit: int) -> int:
    """The offset just past the zstd frame at ``start``; FrameError if it is not a whole frame before ``limit``."""
    fh.seek(start)
    head = fh.read(18)
    if len(head) < 6 or struct.unpack_from("<I", head)[0] != ZSTD_MAGIC:
        raise FrameError(f"no zstd frame starts at offset {start}")
    try:
        position = start + zstandard.frame_header_size(head)
    except zstandard.ZstdError as error:
        raise FrameError(f"bad zstd frame header at offset {start}: {error}") from None
    has_checksum = bool(head[4] & 0x04)
    while True:
        fh.seek(position)
        raw = fh.read(_BLOCK_HEADER)
        if len(raw) < _BLOCK_HEADER:
            raise FrameError(f"the zstd frame at offset {start} is cut short at offset {position}")
        value = int.from_bytes(raw, "little")
        last, block_type, size = value & 1, (value >> 1) & 3, value >> 3
        if block_type == 3:
            raise FrameError(f"reserved zstd block type at offset {position}")
        position += _BLOCK_HEADER + (1 if block_type == 1 else size)
        if position > limit:
            raise FrameError(f"the zstd frame at offset {start} runs past the end of the data ({limit})")
        if last:
            break
    if has_checksum:
        position += 4
    if position > limit:
        raise FrameError(f"the zstd frame at offset {start} is cut short before its checksum")
    return position


def read_manifest_frame(fh: BinaryIO, start: int, limit: int, max_size: int) -> bytes:
    """The manifest document in the skippable frame at ``start``; FrameError if it is not whole before ``limit``."""
    fh.seek(start)
    head = fh.read(_SKIPPABLE_HEAD.size)
    if len(head) < _SKIPPABLE_HEAD.size:
        raise FrameError(f"the manifest frame at offset {start} is cut short")
    magic, size, tag = _SKIPPABLE_HEAD.unpack(head)
    if magic != MANIFEST_MAGIC or tag != MANIFEST_TAG:
        raise FrameError(f"no manifest frame starts at offset {start}")
    if start + 8 + size != limit:
        raise FrameError(f"the manifest frame at offset {start} does not end where the index trailer starts")
    compressed = fh.read(size - len(MANIFEST_TAG))
    if len(compressed) != size - len(MANIFEST_TAG):
        raise FrameError(f"the manifest frame at offset {start} is cut short")
    try:
        return zstandard.ZstdDecompressor().decompress(compressed, max_output_size=max_size)
    except zstandard.ZstdError as error:
        raise FrameError(f"the manifest frame at offset {start} is damaged: {error}") from None


def trailer(manifest_frame_offset: int) -> bytes:
    return TRAILER.pack(SKIPPABLE_MAGIC, TRAILER.size - 8, TRAILER_TAG, manifest_frame_offset)


def read_trailer(fh: BinaryIO, file_size: int) -> int | None:
    """The manifest frame offset from the trailer, or None if the set has no intact trailer."""
    if file_size < TRAILER.size:
        return None
    fh.seek(file_size - TRAILER.size)
    magic, size, tag, offset = TRAILER.unpack(fh.read(TRAILER.size))
    if magic != SKIPPABLE_MAGIC or size != TRAILER.size - 8 or tag != TRAILER_TAG or offset >= file_size:
        return None
    return offset


class BoundedReader(io.RawIOBase):
    """Read-only view of ``fh`` between two offsets (one frame), for the decompressor."""

    def __init__(self, fh: BinaryIO, start: int, end: int) -> None:
        super().__init__()
        self._fh = fh
        self._position = start
        self._end = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._end - self._position)
        if wanted <= 0:
            return 0
        self._fh.seek(self._position)
        data = self._fh.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def frame_stream(fh: BinaryIO, start: int, end: int) -> zstandard.ZstdDecompressionReader:
    """A reader of the decompressed bytes of the single frame in [start, end)."""
    return zstandard.ZstdDecompressor().stream_reader(BoundedReader(fh, start, end), read_across_frames=False,
                                                      read_size=1 << 17)
