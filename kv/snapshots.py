"""Snapshot files: one Raft snapshot per file, written atomically, checked on load.

A file holds the core's whole ``Snapshot`` (index, term, membership, chain
hash and the state machine's data) in the core's JSON codec, behind a small
header with a checksum (layout in docs/storage.md). Files are named by the
snapshot's index, so the newest is the one with the largest name.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import orjson

from consensus.codec import CodecError, decode_snapshot, encode_snapshot
from consensus.records import Snapshot
from kv.files import CorruptionError, Fsync, write_atomically

MAGIC = b"RLSNAP01"
#: magic, payload length, payload CRC-32, CRC-32 of the 20 bytes before it
HEADER = struct.Struct("<8sQII")
_NAME = re.compile(r"snap-(\d{20})\.snap")


def snapshot_path(directory: Path, index: int) -> Path:
    return directory / f"snap-{index:020d}.snap"


def snapshot_files(directory: Path) -> list[tuple[int, Path]]:
    """(index, path) of every snapshot file in the directory, oldest first;
    temp files and other names are not snapshot files."""
    found = []
    for path in directory.iterdir():
        match = _NAME.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def encode_snapshot_file(snapshot: Snapshot) -> bytes:
    payload = orjson.dumps(encode_snapshot(snapshot))
    head = struct.pack("<8sQI", MAGIC, len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def write_snapshot(directory: Path, snapshot: Snapshot, fsync: Fsync) -> Path:
    """Store ``snapshot`` durably and atomically; returns its path."""
    path = snapshot_path(directory, snapshot.index)
    write_atomically(path, encode_snapshot_file(snapshot), fsync)
    return path


def read_snapshot(path: Path) -> Snapshot:
    """Load and verify one snapshot file; ``CorruptionError`` names what is wrong."""
    raw = path.read_bytes()
    if len(raw) < HEADER.size:
        raise CorruptionError(path, 0, f"{len(raw)} bytes is shorter than the header")
    magic, length, crc, head_crc = HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise CorruptionError(path, 0, f"not a snapshot file (magic {magic!r})")
    if zlib.crc32(raw[: HEADER.size - 4]) != head_crc:
        raise CorruptionError(path, 0, "header checksum mismatch")
    payload = raw[HEADER.size :]
    if len(payload) != length:
        raise CorruptionError(path, HEADER.size, f"payload is {len(payload)} bytes, not {length}")
    if zlib.crc32(payload) != crc:
        raise CorruptionError(path, HEADER.size, "payload checksum mismatch")
    try:
        snapshot = decode_snapshot(orjson.loads(payload))
    except (orjson.JSONDecodeError, CodecError) as err:
        raise CorruptionError(path, HEADER.size, f"undecodable snapshot: {err}") from None
    if snapshot_path(path.parent, snapshot.index).name != path.name:
        raise CorruptionError(path, HEADER.size, f"holds index {snapshot.index}, not its name's")
    return snapshot
