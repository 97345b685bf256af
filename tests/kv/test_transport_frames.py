"""The transport's pure parts: frames, handshake payloads, fault decisions,
backoff. No sockets here; tests/kv/test_transport.py has those."""

from __future__ import annotations

import contextlib
import dataclasses
import random
import struct
import zlib
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consensus.confchange import ConfChange
from consensus.membership import Membership
from consensus.messages import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    InstallSnapshot,
    Message,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from consensus.records import Entry, Snapshot
from kv.frames import (
    HEADER_SIZE,
    MAGIC,
    VERSION,
    FrameDecoder,
    FrameError,
    FrameKind,
    Hello,
    decode_hello,
    decode_message_payload,
    decode_reject,
    encode_frame,
    hello_frame,
    message_frame,
    reject_frame,
)
from kv.netfaults import PARTITIONED, FaultTable, LinkFaults
from kv.transport import InboundStats, OutboundStats, TransportOptions, backoff_delay

EXAMPLES: list[Message] = [
    VoteRequest(3, 1, 2, 10, 2, pre=True),
    VoteResponse(3, 2, 1, granted=True),
    AppendRequest(
        4,
        1,
        2,
        5,
        3,
        (Entry(6, 4, '{"op":"put"}'), Entry(7, 4, "", ConfChange.leave())),
        6,
    ),
    AppendResponse(4, 2, 1, False, 5, 3, 2),
    Heartbeat(4, 1, 3, 6, 17),
    HeartbeatResponse(4, 3, 1, 17),
    InstallSnapshot(5, 1, 4, Snapshot(9, 4, Membership(voters=(1, 2, 3)), "state", 77)),
    TimeoutNow(5, 1, 2),
]


def decode_all(data: bytes, max_frame: int = 1 << 20) -> list[Message]:
    frames = FrameDecoder(max_frame).feed(data)
    assert all(f.kind is FrameKind.MESSAGE for f in frames)
    return [decode_message_payload(f.payload)[0] for f in frames]


def test_every_message_type_round_trips_with_its_trace_id() -> None:
    data = b"".join(message_frame(m, f"{m.src}:{i}") for i, m in enumerate(EXAMPLES))
    frames = FrameDecoder().feed(data)
    decoded = [decode_message_payload(f.payload) for f in frames]
    assert decoded == [(m, f"{m.src}:{i}") for i, m in enumerate(EXAMPLES)]


def test_frames_split_at_every_byte_still_decode() -> None:
    data = b"".join(message_frame(m) for m in EXAMPLES[:3])
    decoder = FrameDecoder()
    got = []
    for i in range(len(data)):
        got += decoder.feed(data[i : i + 1])
    assert [decode_message_payload(f.payload)[0] for f in got] == EXAMPLES[:3]
    assert decoder.pending == 0
    assert decoder.offset == len(data)


def test_header_layout_is_the_documented_one() -> None:
    frame = encode_frame(FrameKind.MESSAGE, b"{}")
    magic, version, kind, length, crc = struct.unpack(">2sBBII", frame[:HEADER_SIZE])
    assert (magic, version, kind, length) == (MAGIC, VERSION, 3, 2)
    assert crc == zlib.crc32(frame[:8] + b"{}")
    assert frame[HEADER_SIZE:] == b"{}"


def test_every_single_byte_corruption_is_detected() -> None:
    """Flipping any byte either raises FrameError or leaves the frame
    incomplete (a length grown past the data); it never yields a frame."""
    frame = message_frame(EXAMPLES[2])
    for i in range(len(frame)):
        bad = bytearray(frame)
        bad[i] ^= 0x41
        decoder = FrameDecoder()
        try:
            frames = decoder.feed(bytes(bad))
        except FrameError:
            continue
        assert frames == [] and 4 <= i < 8, f"corruption at byte {i} went unnoticed"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad magic b'GE'"),
        (struct.pack(">2sBBII", MAGIC, 9, 3, 0, 0), "unsupported version 9"),
        (struct.pack(">2sBBII", MAGIC, VERSION, 77, 0, 0), "unknown kind 77"),
        (struct.pack(">2sBBII", MAGIC, VERSION, 3, 1 << 30, 0), "exceeds the limit of 1024"),
        (encode_frame(FrameKind.MESSAGE, b"{}")[:-2] + b"xx", "checksum mismatch"),
    ],
)
def test_bad_frames_say_what_is_wrong(data: bytes, expected: str) -> None:
    with pytest.raises(FrameError, match="stream offset 0") as err:
        FrameDecoder(max_frame=1024).feed(data)
    assert expected in str(err.value)


def test_an_oversized_header_is_refused_before_its_payload_arrives() -> None:
    header = encode_frame(FrameKind.MESSAGE, b"x" * 2048)[:HEADER_SIZE]
    with pytest.raises(FrameError, match="2048 bytes exceeds the limit of 1024"):
        FrameDecoder(max_frame=1024).feed(header)


def test_errors_name_the_offset_of_the_bad_frame() -> None:
    good = message_frame(EXAMPLES[0])
    with pytest.raises(FrameError, match=f"stream offset {len(good)}: bad magic"):
        FrameDecoder().feed(good + b"XXXXXXXXXXXXXXXX")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"mid": 5, "msg": {}}', "'mid' must be a string"),
        (b'{"mid": "1:2"}', "message must be an object, got NoneType"),
        (b'{"msg": {"type": "gossip", "term": 1, "src": 1, "dst": 2}}', "unknown message type"),
        (b'{"msg": {"type": "heartbeat", "term": "one", "src": 1}}', "'term' must be an integer"),
    ],
)
def test_payloads_that_are_not_raft_messages_are_refused(payload: bytes, expected: str) -> None:
    with pytest.raises(FrameError, match=expected):
        decode_message_payload(payload)


def test_hello_round_trips_and_bad_hellos_are_refused() -> None:
    (frame,) = FrameDecoder().feed(hello_frame(FrameKind.HELLO, Hello(1, 2, "c")))
    assert frame.kind is FrameKind.HELLO
    assert decode_hello(frame.payload) == Hello(1, 2, "c")
    with pytest.raises(FrameError, match="integer 'src' and 'dst'"):
        decode_hello(b'{"src": true, "dst": 2}')
    with pytest.raises(FrameError, match="'cluster' must be a string"):
        decode_hello(b'{"src": 1, "dst": 2, "cluster": 5}')
    (reject,) = FrameDecoder().feed(reject_frame("go away"))
    assert decode_reject(reject.payload) == "go away"


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=64))
def test_garbage_only_ever_raises_frame_error(data: bytes, chunk: int) -> None:
    decoder = FrameDecoder(max_frame=256)
    try:
        for i in range(0, len(data), chunk):
            for frame in decoder.feed(data[i : i + chunk]):
                decode_message_payload(frame.payload)
    except FrameError:
        pass


@given(st.binary(max_size=200))
def test_any_payload_in_a_valid_frame_only_raises_frame_error(payload: bytes) -> None:
    (frame,) = FrameDecoder().feed(encode_frame(FrameKind.MESSAGE, payload))
    with contextlib.suppress(FrameError):
        decode_message_payload(frame.payload)


# -- faults -------------------------------------------------------------------


def test_link_faults_validate_and_parse_json() -> None:
    with pytest.raises(ValueError, match="probability"):
        LinkFaults(drop=1.5)
    with pytest.raises(ValueError, match="negative"):
        LinkFaults(delay_ms=-1)
    with pytest.raises(ValueError, match="unknown fault fields"):
        LinkFaults.from_json({"dorp": 0.5})
    with pytest.raises(ValueError, match="must be true or false"):
        LinkFaults.from_json({"block_in": 1})
    with pytest.raises(ValueError, match="must be a number"):
        LinkFaults.from_json({"drop": "half"})
    faults = LinkFaults(drop=0.25, delay_ms=5, jitter_ms=2, block_out=True)
    assert LinkFaults.from_json(faults.to_json()) == faults
    assert LinkFaults().clear and not PARTITIONED.clear


def test_fault_decisions_per_peer() -> None:
    table = FaultTable(random.Random(1))
    assert table.outbound(2) == 0.0
    table.set(2, LinkFaults(block_out=True))
    table.set(3, LinkFaults(block_in=True))
    table.set(4, LinkFaults(drop=1.0))
    table.set(5, LinkFaults(delay_ms=40, jitter_ms=10))
    assert table.outbound(2) == "blocked" and not table.blocks_in(2)
    assert table.outbound(3) == 0.0 and table.blocks_in(3)
    assert table.outbound(4) == "dropped"
    delays = [table.outbound(5) for _ in range(200)]
    assert all(isinstance(d, float) and 0.040 <= d <= 0.050 for d in delays)
    assert len(set(delays)) > 100
    table.set(2, LinkFaults())
    assert sorted(table.snapshot()) == [3, 4, 5]
    table.heal()
    assert table.snapshot() == {} and table.outbound(4) == 0.0


def test_drop_decisions_are_seeded() -> None:
    def pattern(seed: int) -> list[str | float]:
        table = FaultTable(random.Random(seed))
        table.set(2, LinkFaults(drop=0.3))
        return [table.outbound(2) for _ in range(1000)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    dropped = pattern(7).count("dropped")
    assert 230 < dropped < 370


# -- backoff ------------------------------------------------------------------


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    rng = random.Random(3)
    for attempt in range(40):
        ceiling = min(2.0, 0.05 * 2**attempt)
        delay = backoff_delay(attempt, rng, 0.05, 2.0)
        assert ceiling / 2 <= delay <= ceiling
    draws = {backoff_delay(10, rng, 0.05, 2.0) for _ in range(50)}
    assert len(draws) == 50


def test_backoff_is_seeded() -> None:
    a, b = random.Random(5), random.Random(5)
    assert [backoff_delay(i, a, 0.1, 1.0) for i in range(8)] == [
        backoff_delay(i, b, 0.1, 1.0) for i in range(8)
    ]


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="overflow"):
        TransportOptions(overflow="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="queue_messages"):
        TransportOptions(queue_messages=0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
FIELDS = ["term", "src", "dst", "entries", "snapshot", "commit", "round", "pre", "conf"]


@given(
    st.sampled_from([m.KIND for m in EXAMPLES]),
    st.dictionaries(st.sampled_from(FIELDS), JSON),
)
def test_message_shaped_junk_only_raises_frame_error(kind: str, fields: dict[str, object]) -> None:
    message = {"type": kind, "term": 1, "src": 1, "dst": 2, **fields}
    payload = orjson.dumps({"mid": "1:1", "msg": message})
    with contextlib.suppress(FrameError):
        decode_message_payload(payload)


def test_the_docs_list_every_option_and_counter() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "transport.md").read_text()
    for cls in (TransportOptions, OutboundStats, InboundStats, LinkFaults):
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in text, f"docs/transport.md does not mention {f.name}"
