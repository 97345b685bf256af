"""The peer transport's wire format, without any I/O.

Called by ``kv.transport`` (which owns the sockets) and by tests that speak
the protocol by hand. Keeping the bytes apart from the sockets lets the
decoder be tested, and fuzzed, on plain byte strings, as h11 does for HTTP:
garbage only ever raises ``FrameError``.

A frame is a 12-byte header followed by a JSON payload::

    0..1   magic       b"RL"
    2      version     1
    3      kind        HELLO=1, WELCOME=2, MESSAGE=3, REJECT=4
    4..7   length      payload bytes, unsigned big-endian, at most the limit
    8..11  checksum    CRC-32 of header bytes 0..7 followed by the payload

The checksum covers the kind and the length as well as the payload, so a
flipped bit anywhere is caught. Messages are the core's own JSON forms
(``consensus.codec``) with their trace ids; no pickle, nothing that can
build arbitrary objects.
docs/transport.md has the full description and the handshake.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from consensus.codec import CodecError, decode_message, encode_message
from consensus.messages import Message

MAGIC = b"RL"
VERSION = 1
HEADER = struct.Struct(">2sBBII")
HEADER_SIZE = HEADER.size
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
"""Largest payload accepted by default (16 MiB): big enough for the
snapshots of a test store, small enough that a garbage length cannot make
a node allocate gigabytes."""

_PREFIX = struct.Struct(">2sBBI")


class FrameKind(IntEnum):
    HELLO = 1
    WELCOME = 2
    MESSAGE = 3
    REJECT = 4


class FrameError(ValueError):
    """Bytes from a peer that are not a valid frame, or a frame that breaks
    the protocol. The message says what is wrong; the connection that
    carried it cannot be trusted any more and is closed."""


@dataclass(slots=True, frozen=True)
class Frame:
    kind: FrameKind
    payload: bytes


@dataclass(slots=True, frozen=True)
class Hello:
    """The handshake: ``src`` dials ``dst`` within cluster ``cluster``.

    The acceptor answers with a WELCOME carrying the roles swapped, or a
    REJECT saying why, so that the dialer learns at once that it reached
    the wrong node instead of sending into the void."""

    src: int
    dst: int
    cluster: str = ""


# -- encoding ------------------------------------------------------------------


def encode_frame(kind: FrameKind, payload: bytes) -> bytes:
    prefix = _PREFIX.pack(MAGIC, VERSION, int(kind), len(payload))
    crc = zlib.crc32(payload, zlib.crc32(prefix))
    return prefix + crc.to_bytes(4, "big") + payload


def message_frame(message: Message, mid: str = "") -> bytes:
    """A MESSAGE frame: ``{"mid": mid, "msg": <the core's JSON form>}``.

    ``mid`` is the message's trace id (``"<src>:<lamport clock>"``, empty
    when tracing is off), carried so that per-node traces can be merged by
    causality: the receiver's ``recv`` names the sender's ``send``."""
    body = {"mid": mid, "msg": encode_message(message)}
    return encode_frame(FrameKind.MESSAGE, orjson.dumps(body))


def hello_frame(kind: FrameKind, hello: Hello) -> bytes:
    body = {"src": hello.src, "dst": hello.dst, "cluster": hello.cluster}
    return encode_frame(kind, orjson.dumps(body))


def reject_frame(reason: str) -> bytes:
    return encode_frame(FrameKind.REJECT, orjson.dumps({"error": reason}))


# -- decoding ------------------------------------------------------------------


class FrameDecoder:
    """Turns a byte stream into frames; feed it whatever the socket gave.

    ``offset`` is the stream position of the next undecoded byte, so that
    errors can say where in the connection the bad frame started.
    """

    __slots__ = ("_buf", "max_frame", "offset")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buf = bytearray()
        self.max_frame = max_frame
        self.offset = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Every complete frame in the stream so far; raises ``FrameError``
        at the first invalid one (the header is judged as soon as its 12
        bytes are in, without waiting for an oversized payload)."""
        self._buf += data
        frames: list[Frame] = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= HEADER_SIZE:
            magic, version, kind, length, crc = HEADER.unpack_from(buf, pos)
            where = self.offset + pos
            _check_header(magic, version, kind, length, self.max_frame, where)
            end = pos + HEADER_SIZE + length
            if len(buf) < end:
                break
            payload = bytes(buf[pos + HEADER_SIZE : end])
            actual = zlib.crc32(payload, zlib.crc32(buf[pos : pos + 8]))
            if actual != crc:
                raise FrameError(
                    f"frame at stream offset {where}: checksum mismatch "
                    f"(header says {crc:#010x}, content gives {actual:#010x})"
                )
            frames.append(Frame(FrameKind(kind), payload))
            pos = end
        if pos:
            del buf[:pos]
            self.offset += pos
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)


def _check_header(magic: bytes, version: int, kind: int, length: int, limit: int, at: int) -> None:
    if magic != MAGIC:
        raise FrameError(
            f"frame at stream offset {at}: bad magic {magic!r} (expected {MAGIC!r}); "
            "not a raftlab peer connection"
        )
    if version != VERSION:
        raise FrameError(
            f"frame at stream offset {at}: unsupported version {version} "
            f"(this node speaks {VERSION})"
        )
    if kind not in _KINDS:
        raise FrameError(f"frame at stream offset {at}: unknown kind {kind}")
    if length > limit:
        raise FrameError(
            f"frame at stream offset {at}: payload of {length} bytes exceeds the limit of {limit}"
        )


_KINDS = frozenset(int(k) for k in FrameKind)


def decode_message_payload(payload: bytes) -> tuple[Message, str]:
    """The message and its trace id from a MESSAGE frame's payload."""
    raw = _json_object(payload, "message")
    mid = raw.get("mid", "")
    if not isinstance(mid, str):
        raise FrameError(f"message field 'mid' must be a string, got {mid!r}")
    try:
        return decode_message(raw.get("msg")), mid
    except CodecError as err:
        raise FrameError(f"message payload is not a Raft message: {err}") from None


def decode_hello(payload: bytes) -> Hello:
    raw = _json_object(payload, "hello")
    src, dst, cluster = raw.get("src"), raw.get("dst"), raw.get("cluster", "")
    if not isinstance(src, int) or not isinstance(dst, int) or _is_bool(src, dst):
        raise FrameError(f"hello needs integer 'src' and 'dst', got {raw!r}")
    if not isinstance(cluster, str):
        raise FrameError(f"hello field 'cluster' must be a string, got {cluster!r}")
    return Hello(src, dst, cluster)


def decode_reject(payload: bytes) -> str:
    raw = _json_object(payload, "reject")
    reason = raw.get("error")
    return reason if isinstance(reason, str) else repr(raw)


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise FrameError(f"{what} payload is not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise FrameError(f"{what} payload must be a JSON object, got {type(raw).__name__}")
    return raw


def _is_bool(*values: object) -> bool:
    return any(isinstance(v, bool) for v in values)
