"""The WAL's record format: encoding ``Persist`` and checkpoint records, and
reading a segment back with torn-tail and corruption detection.

A record is a 16-byte header (payload length, type, payload CRC-32, header
CRC-32) and a JSON payload in the core's codec; docs/storage.md gives the
layout byte by byte and the rules ``scan_segment`` applies.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from consensus.codec import CodecError, decode_entry, decode_snapshot, encode_entry, encode_snapshot
from consensus.core import DurableState
from consensus.effects import Persist
from consensus.records import Entry, HardState, Snapshot
from kv.files import CorruptionError

#: payload length, record type, 3 zero bytes, payload CRC-32, CRC-32 of the 12 bytes before it
HEADER = struct.Struct("<IB3xII")
CHECKPOINT = 1
PERSIST = 2
RECORD_TYPES = (CHECKPOINT, PERSIST)
#: a length above this is corruption, never a record
MAX_RECORD = 1 << 30
FORMAT_VERSION = 1


def encode_record(kind: int, payload: bytes) -> bytes:
    head = struct.pack("<IB3xI", len(payload), kind, zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


def _snapshot_meta(snapshot: Snapshot) -> dict[str, Any]:
    meta = encode_snapshot(dataclasses.replace(snapshot, data=""))
    del meta["data"]
    meta["data_crc"] = zlib.crc32(snapshot.data.encode())
    return meta


def _hard_state(hs: HardState) -> list[int]:
    return [hs.term, hs.vote, hs.commit]


def encode_persist(persist: Persist) -> bytes:
    body: dict[str, Any] = {
        "hs": _hard_state(persist.hard_state),
        "entries": [encode_entry(e) for e in persist.entries],
    }
    if persist.snapshot is not None:
        body["snapshot"] = _snapshot_meta(persist.snapshot)
    return encode_record(PERSIST, orjson.dumps(body))


def encode_checkpoint(state: DurableState) -> bytes:
    body = {
        "v": FORMAT_VERSION,
        "hs": _hard_state(state.hard_state),
        "snapshot": _snapshot_meta(state.snapshot),
        "entries": [encode_entry(e) for e in state.entries],
    }
    return encode_record(CHECKPOINT, orjson.dumps(body))


@dataclass(slots=True, frozen=True)
class Decoded:
    """A record's payload as core values; snapshots carry no data yet."""

    hard_state: HardState
    entries: tuple[Entry, ...]
    snapshot: Snapshot | None
    data_crc: int


def _decode_payload(kind: int, payload: bytes) -> Decoded:
    body = orjson.loads(payload)
    if not isinstance(body, dict):
        raise CodecError("record payload must be an object")
    if kind == CHECKPOINT and body.get("v") != FORMAT_VERSION:
        raise CodecError(f"checkpoint format version {body.get('v')!r} is not {FORMAT_VERSION}")
    hs = body.get("hs")
    if not (isinstance(hs, list) and len(hs) == 3 and all(isinstance(x, int) for x in hs)):
        raise CodecError(f"hard state must be [term, vote, commit]: {hs!r}")
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise CodecError("record entries must be a list")
    snapshot, data_crc = None, 0
    if "snapshot" in body or kind == CHECKPOINT:
        meta = body.get("snapshot")
        if not isinstance(meta, dict) or not isinstance(meta.get("data_crc"), int):
            raise CodecError("record snapshot must be an object with data_crc")
        snapshot = decode_snapshot({**meta, "data": ""})
        data_crc = meta["data_crc"]
    return Decoded(HardState(*hs), tuple(decode_entry(e) for e in entries), snapshot, data_crc)


@dataclass(slots=True)
class Scanned:
    path: Path
    records: list[tuple[int, Decoded]]  # (type, payload) of each good record
    good_end: int  # bytes up to the end of the last good record
    size: int


def scan_segment(path: Path, is_last: bool) -> Scanned:
    """Read a segment's records; tolerate a torn tail only in the last segment."""
    raw = path.read_bytes()
    records: list[tuple[int, Decoded]] = []
    offset, size = 0, len(raw)
    while offset < size:
        torn = _torn_reason(raw, offset, path)
        if torn is not None:
            if is_last:
                break
            raise CorruptionError(path, offset, torn + " (not in the last segment)")
        length, kind, crc, _ = HEADER.unpack_from(raw, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if zlib.crc32(raw[start:end]) != crc:
            if is_last and end == size:
                break  # the last record of the log, torn while being written
            raise CorruptionError(path, offset, "record payload checksum mismatch")
        try:
            records.append((kind, _decode_payload(kind, raw[start:end])))
        except (orjson.JSONDecodeError, CodecError) as err:
            raise CorruptionError(path, offset, f"undecodable record: {err}") from None
        offset = end
    return Scanned(path, records, offset, size)


def _torn_reason(raw: bytes, offset: int, path: Path) -> str | None:
    """Why the record at ``offset`` is cut short, or None if it is complete.
    A complete header that fails its checks raises ``CorruptionError``: it is
    never taken for a torn tail, since its length cannot be trusted."""
    if len(raw) - offset < HEADER.size:
        return "incomplete record header"
    length, kind, _, head_crc = HEADER.unpack_from(raw, offset)
    if zlib.crc32(raw[offset : offset + HEADER.size - 4]) != head_crc:
        raise CorruptionError(path, offset, "record header checksum mismatch")
    if kind not in RECORD_TYPES or length > MAX_RECORD:
        raise CorruptionError(path, offset, f"impossible record header (type {kind})")
    if offset + HEADER.size + length > len(raw):
        return "record extends past the end of the file"
    return None
