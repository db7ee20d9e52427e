"""Forging manifests as someone with write access to a target could: any entries, any order.

``rewrite_manifests`` reads a set's manifest as one plain document (the head's fields plus
``entries`` and ``deleted`` lists), lets the caller change it, and writes the manifest
section, head and trailer anew into both the set file and its sidecar — without the
writer's checks, so hostile orders and values reach the reader.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

from strongroom.core.archive import SetReader, sidecar_path
from strongroom.core.archive.manifest_blocks import DELETED_TAG, ENTRIES_TAG, HEAD_TAG, BlockWriter, frame, leaf_rows
from strongroom.core.archive.zstd_frames import trailer


def read_document(path: Path) -> dict:
    """A set's manifest as one document: the head's fields, ``entries`` and ``deleted``."""
    with SetReader(path) as reader:
        manifest = reader.manifest
    document = json.loads(manifest.head)
    entries = manifest.entries
    document["entries"] = [record for row in leaf_rows(entries.source, entries.tree)  # raw: unchecked
                           for record in entries.source.block(row, ENTRIES_TAG)]
    document["deleted"] = list(manifest.deleted)
    return document


def write_document(path: Path, document: dict) -> str:
    """Write ``document`` as the set's manifest (set file and sidecar); return the head's SHA-256."""
    document = dict(document)
    start = document["manifest_frame_offset"]
    section = io.BytesIO()
    entries, deleted = BlockWriter(section, ENTRIES_TAG), BlockWriter(section, DELETED_TAG)
    for record in document.pop("entries"):
        entries.add(str(record.get("path")), record)
    for name in document.pop("deleted"):
        deleted.add(str(name), name)
    document["entries"], document["deleted"] = entries.finish().document(), deleted.finish().document()
    head = json.dumps(document, separators=(",", ":")).encode() + b"\n"
    blocks = section.getvalue()
    head_frame = frame(HEAD_TAG, head)
    with open(path, "r+b") as handle:
        handle.truncate(start)
        handle.seek(start)
        handle.write(blocks + head_frame + trailer(start + len(blocks)))
    sidecar_path(path).write_bytes(blocks + head_frame + trailer(len(blocks)))
    return hashlib.sha256(head).hexdigest()


def rewrite_manifests(path: Path, change: Callable[[dict], None]) -> str:
    """Give a set file and its sidecar the manifest ``change(document)`` makes; the head's new SHA-256."""
    document = read_document(path)
    change(document)
    return write_document(path, document)



def rewrite_sidecar(path: Path, change: Callable[[dict], None]) -> str:
    """Give only the sidecar the manifest ``change(document)`` makes (the set file keeps its own)."""
    original = path.read_bytes()
    digest = rewrite_manifests(path, change)
    path.write_bytes(original)
    return digest
