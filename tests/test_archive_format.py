"""The backup-set file format: readable by standard tools, randomly accessible, verifiable."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from strongroom.core.archive import DamagedSet, Entry, HostileSet, SetManifest, SetReader, SetWriter, sidecar_path, \
    verify_set
from strongroom.core.archive.manifest import SetInfo
from strongroom.core.archive.manifest_blocks import sort_key
from strongroom.core.archive.zstd_frames import ZSTD_MAGIC, frame_end

from .forge import rewrite_manifests
from .trees import make_tree, tree_state


def write_set(path: Path, files: dict[str, bytes], *, frame_target: int = 4 << 20,
              extra: list[Entry] | None = None, set_id: str = "s1") -> SetManifest:
    """A set with the given files (and any raw entries, hostile or not, forged into its manifest)."""
    now = time.time_ns()
    with SetWriter(path, set_id=set_id, frame_target=frame_target) as writer:
        for name in sorted(files, key=sort_key):
            data = files[name]
            entry, _ = writer.add_file(Entry(path=name, type="file", mode=0o640, mtime_ns=now, size=len(data)),
                                       io.BytesIO(data))
            writer.record(entry)
        forged = [writer.add_bodiless(entry) for entry in extra or []]
        manifest = writer.finish(SetInfo(set_id=set_id, store="s", store_type="folder", kind="full", parent=None,
                                         created="2026-01-01T00:00:00Z", source="/src"))
    if forged:
        def add(document: dict) -> None:
            document["entries"] = sorted(document["entries"] + [entry.public_dict() for entry in forged],
                                         key=lambda record: sort_key(record["path"]))
        rewrite_manifests(path, add)
        with SetReader(path) as reader:
            return reader.manifest
    return manifest


def walk_manifest(path: Path) -> list[Entry]:
    """Every entry of a set's manifest, read as a restore reads them (checked)."""
    with SetReader(path) as reader:
        return list(reader.manifest.entries)


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    files = {f"dir/file{i:02d}.bin": os.urandom(1000 * i + 7) + b"x" * 50_000 for i in range(20)}
    files["big.bin"] = os.urandom(300_000)
    path = tmp_path / "set.tar.zst"
    write_set(path, files, frame_target=100_000)
    return path, files


@pytest.mark.skipif(not (shutil.which("zstd") and shutil.which("tar")), reason="needs the zstd and tar tools")
def test_system_tools_restore_a_set_made_by_the_engine(engine, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {
        "a.txt": "alpha", "sub/deeper/b.bin": os.urandom(70_000), "empty": b"",
        "long/" + "n" * 150 + ".txt": "a name longer than ustar's 100 characters", "ünïcödé.txt": "accents",
    }, links={"sub/link": "../a.txt"})
    os.chmod(source / "a.txt", 0o600)
    engine.add_store("docs", "folder", str(source))
    job = engine.backup_job("docs")
    assert job.run().value == "succeeded", job.error
    set_path = Path(engine.catalog.get_set(job.set_id).path)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(f"zstd -dc '{set_path}' | tar -x -C '{out}'", shell=True, check=True, timeout=60)
    assert not (out / ".strongroom-manifest.json").exists()  # the manifest is in skippable frames, not the tree
    assert tree_state(out, times=False) == tree_state(source, times=False)


def test_frames_start_at_member_boundaries_and_one_member_reads_alone(sample) -> None:
    path, files = sample
    with SetReader(path) as reader:
        manifest = reader.manifest
    data = path.read_bytes()
    frames = {entry.frame_offset for entry in manifest.entries}
    assert len(frames) > 5  # small members share frames, but the set has many
    for offset in frames:
        assert struct.unpack_from("<I", data, offset)[0] == ZSTD_MAGIC
    for entry in manifest.entries:
        if entry.header_offset == 0:
            assert entry.data_offset in (512, 1024, 1536)  # a member starts its frame
    # Destroy every byte before the last file's frame: it must still read back intact.
    last = max(manifest.entries, key=lambda entry: entry.frame_offset)
    damaged = bytearray(data)
    damaged[: last.frame_offset] = bytes(last.frame_offset)
    path.write_bytes(bytes(damaged))
    with SetReader(path) as reader:
        assert reader.read_file(last) == files[last.path]


def test_a_flipped_bit_is_found_and_the_member_named(tmp_path: Path) -> None:
    files = {f"dir/file{i:02d}.bin": os.urandom(20_000) for i in range(20)}
    path = tmp_path / "set.tar.zst"
    write_set(path, files, frame_target=1)  # one frame per member: the flip hits exactly one
    with SetReader(path) as reader:
        victim = reader.manifest.entries.find("dir/file10.bin")
        next_frame = frame_end(reader.raw, victim.frame_offset, reader.size)
    data = bytearray(path.read_bytes())
    data[(victim.frame_offset + next_frame) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    report = verify_set(path)
    assert not report.ok
    assert "dir/file10.bin" in report.damaged
    assert "dir/file00.bin" not in report.damaged  # other frames are still checked and found intact
    assert "dir/file10.bin" in report.summary()
    with SetReader(path) as reader, pytest.raises(DamagedSet, match="file10.bin"):
        reader.read_file(victim)


def test_a_truncated_set_is_found(sample) -> None:
    path, _ = sample
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size * 2 // 3)
    report = verify_set(path)
    assert not report.ok
    assert report.damaged  # members past the cut are named
    assert any("trailer" in problem for problem in report.problems)


def test_a_missing_sidecar_is_reported_but_the_set_still_reads(sample) -> None:
    path, files = sample
    sidecar_path(path).unlink()
    report = verify_set(path)
    assert not report.ok and report.members_checked == len(files)
    assert any("sidecar" in problem and "missing" in problem for problem in report.problems)
    with SetReader(path) as reader:  # found through the index trailer
        entry = next(entry for entry in reader.manifest.entries if entry.path == "big.bin")
        assert reader.read_file(entry) == files["big.bin"]


def test_an_altered_sidecar_is_reported(sample) -> None:
    path, _ = sample
    original = path.read_bytes()

    def grow(document: dict) -> None:
        document["entries"][0]["size"] += 1

    rewrite_manifests(path, grow)
    path.write_bytes(original)  # the sidecar alone is altered
    report = verify_set(path)
    assert any("differs" in problem for problem in report.problems)


def test_an_intact_set_verifies(sample) -> None:
    path, files = sample
    report = verify_set(path)
    assert report.ok, report.summary()
    assert report.members_checked == len(files)
    assert report.bytes_checked == sum(len(data) for data in files.values())


def test_a_file_that_is_not_a_set_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "junk.tar.zst"
    path.write_bytes(os.urandom(5000))
    with pytest.raises(DamagedSet, match="truncated or not a Strongroom set"):
        SetReader(path)
    assert not verify_set(path).ok


HOSTILE = [
    (Entry(path="../escape", type="dir", mode=0o755, mtime_ns=0), "'..'"),
    (Entry(path="/etc/evil", type="dir", mode=0o755, mtime_ns=0), "absolute path"),
    (Entry(path="hard", type="hardlink", mode=0o644, mtime_ns=0, target="/etc/shadow"), "not a file stored before"),
    (Entry(path="ok.txt/under", type="dir", mode=0o755, mtime_ns=0), "below a file"),
]


@pytest.mark.parametrize(("entry", "message"), HOSTILE, ids=["dotdot", "absolute", "hard-link-out", "below-file"])
def test_hostile_members_are_refused_by_name(tmp_path: Path, entry: Entry, message: str) -> None:
    path = tmp_path / "hostile.tar.zst"
    write_set(path, {"ok.txt": b"fine"}, extra=[entry])
    with pytest.raises(HostileSet, match=message) as raised:
        walk_manifest(path)
    assert raised.value.member == entry.path


@pytest.mark.parametrize("change", [
    {"type": "chardev"}, {"path": "a/./b"}, {"path": "a//b"},
])
def test_device_and_odd_paths_in_a_manifest_are_refused(sample, change) -> None:
    path, _ = sample
    rewrite_manifests(path, lambda document: document["entries"][0].update(change))
    with pytest.raises(HostileSet):
        walk_manifest(path)


def test_members_below_a_link_and_duplicates_are_refused(sample) -> None:
    path, _ = sample
    link = {"path": "dir", "type": "symlink", "mode": 511, "mtime_ns": 0, "target": "."}
    rewrite_manifests(path, lambda document: document["entries"].insert(0, link))
    with pytest.raises(HostileSet, match="appears twice|out of order"):
        walk_manifest(path)

    def below_link(document: dict) -> None:
        files = document["entries"][1:]
        document["entries"] = sorted(files + [{**link, "path": "lnk"}, {**files[0], "path": "lnk/x"}],
                                     key=lambda record: sort_key(record["path"]))

    rewrite_manifests(path, below_link)
    with pytest.raises(HostileSet, match="below a link"):
        walk_manifest(path)


def test_names_are_shown_with_every_misleading_byte_escaped() -> None:
    from strongroom.core.archive import display_path

    assert display_path("plain/ünïcödé name") == "plain/ünïcödé name"
    assert display_path("a\nb\tc\\d") == "a\\nb\\tc\\\\d"
    assert display_path(os.fsdecode(b"latin1-\xe9\x1b[0m\x7f")) == "latin1-\\xe9\\x1b[0m\\x7f"
    assert display_path("\u009b31m") == "\\x9b31m"  # the one-byte CSI of C1 controls


def test_a_set_of_format_1_still_reads_and_verifies(tmp_path: Path) -> None:
    """Sets written before format 2 kept the manifest as the tar stream's last member."""
    import zstandard

    from strongroom.core.archive import tar_format
    from strongroom.core.archive.tar_format import MemberHead
    from strongroom.core.archive.zstd_frames import trailer

    data = b"old contents"
    head = tar_format.header(MemberHead(path="old.txt", kind="file", mode=0o644, stored=len(data), size=len(data)))
    first = zstandard.ZstdCompressor(write_checksum=True).compress(head + data + bytes(tar_format.padding(len(data))))
    entry = {"path": "old.txt", "type": "file", "mode": 420, "mtime_ns": 0, "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "set_id": "v1", "frame_offset": 0, "header_offset": 0,
             "data_offset": 512}
    document = json.dumps({"format": "strongroom-set", "version": 1, "set_id": "v1", "store": "s",
                           "store_type": "folder", "kind": "full", "parent": None, "created": "2026-01-01T00:00:00Z",
                           "source": "/src", "manifest_frame_offset": len(first), "entries": [entry]}).encode()
    last = tar_format.header(MemberHead(path=".strongroom-manifest.json", kind="file", mode=0o644,
                                        stored=len(document), size=len(document)))
    second = zstandard.ZstdCompressor(write_checksum=True).compress(
        last + document + bytes(tar_format.padding(len(document))) + tar_format.END_OF_ARCHIVE)
    path = tmp_path / "v1.tar.zst"
    path.write_bytes(first + second + trailer(len(first)))
    sidecar_path(path).write_bytes(document)
    with SetReader(path) as reader:
        assert reader.manifest.set_id == "v1"
        assert reader.read_file(next(iter(reader.manifest.entries))) == data
    report = verify_set(path)
    assert report.ok, report.summary()


def test_a_set_of_format_2_still_reads_restores_and_verifies(tmp_path: Path) -> None:
    """Format 2 kept the whole manifest as one document in a skippable frame after the end-of-archive frame."""
    import zstandard

    from strongroom.core.archive import tar_format
    from strongroom.core.archive.tar_format import MemberHead
    from strongroom.core.archive.zstd_frames import MANIFEST_MAGIC, MANIFEST_TAG, trailer

    data = b"written by an earlier Strongroom"
    head = tar_format.header(MemberHead(path="old.txt", kind="file", mode=0o640, mtime_ns=0, stored=len(data),
                                        size=len(data)))
    compress = zstandard.ZstdCompressor(write_checksum=True).compress
    member = compress(head + data + bytes(tar_format.padding(len(data))))
    end = compress(tar_format.END_OF_ARCHIVE)
    entry = {"path": "old.txt", "type": "file", "mode": 0o640, "mtime_ns": 0, "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "set_id": "v2", "frame_offset": 0, "header_offset": 0,
             "data_offset": len(head)}
    document = json.dumps({"format": "strongroom-set", "version": 2, "set_id": "v2", "store": "s",
                           "store_type": "folder", "kind": "full", "parent": None, "created": "2026-11-01T00:00:00Z",
                           "source": "/src", "compression_level": 3, "notes": [], "deleted": [],
                           "manifest_frame_offset": len(member) + len(end), "end_frame_offset": len(member),
                           "entries": [entry]}).encode()
    payload = MANIFEST_TAG + compress(document)
    path = tmp_path / "v2.tar.zst"
    path.write_bytes(member + end + struct.pack("<II", MANIFEST_MAGIC, len(payload)) + payload
                     + trailer(len(member) + len(end)))
    sidecar_path(path).write_bytes(document)
    with SetReader(path) as reader:
        assert reader.manifest.version == 2 and reader.manifest.files == 1
        assert reader.read_file(reader.manifest.entries.find("old.txt")) == data
    report = verify_set(path)
    assert report.ok, report.summary()
