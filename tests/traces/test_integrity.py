"""The closing record: a cut file reads as truncated at the last whole
event, a file changed after writing reads as tampered (with the events that
changed), and version-1 traces are read but marked unverifiable."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.traces.simulated import simulate, write_trace
from traces.integrity import BLOCK_EVENTS, Integrity
from traces.reader import TraceError, open_trace

Event = dict[str, object]


def written(tmp_path: Path) -> tuple[Path, list[Event]]:
    header, events = simulate("default", 1, 2.0)
    return write_trace(tmp_path / "trace.jsonl", header, events), events


def integrity_of(path: Path) -> tuple[list[Event], Integrity]:
    _, events = open_trace(path)
    read = list(events)
    assert events.integrity is not None
    return read, events.integrity


def test_a_written_trace_verifies_complete(tmp_path: Path) -> None:
    path, events = written(tmp_path)
    read, integrity = integrity_of(path)
    assert read == events
    assert integrity.ok and integrity.state == "complete" and integrity.last_seq == len(events)
    closing = integrity.closing
    assert closing is not None and closing["events"] == len(events)
    assert closing["digests"], "each node's final digest is recorded"
    last_dg = {e["n"]: e["dg"] for e in events if "dg" in e}
    assert closing["digests"] == dict(sorted(last_dg.items(), key=lambda kv: int(kv[0][1:])))


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_a_file_cut_at_a_line_boundary_is_truncated_at_the_last_event(
    tmp_path: Path, keep: float
) -> None:
    path, _ = written(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    kept = max(2, int(len(lines) * keep))
    path.write_bytes(b"".join(lines[:kept]))
    read, integrity = integrity_of(path)
    assert len(read) == kept - 1
    assert integrity.state == "truncated" and not integrity.ok
    assert integrity.message.startswith(f"truncated at seq {kept - 1}: it has no closing record")
    assert integrity.verdict == f"TRUNCATED at seq {kept - 1}"


def test_a_file_cut_inside_a_line_is_truncated_at_the_last_whole_event(tmp_path: Path) -> None:
    path, events = written(tmp_path)
    data = path.read_bytes()
    cut = data.index(orjson.dumps(events[99])) + 17  # inside event 100
    path.write_bytes(data[:cut])
    read, integrity = integrity_of(path)
    assert [e["seq"] for e in read] == list(range(1, 100))
    assert integrity.message.startswith("truncated at seq 99: its last line is cut short")


def test_a_header_alone_is_truncated_at_seq_0(tmp_path: Path) -> None:
    path, _ = written(tmp_path)
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    read, integrity = integrity_of(path)
    assert read == [] and integrity.state == "truncated" and integrity.last_seq == 0


def test_a_changed_event_is_tampering_placed_in_its_block(tmp_path: Path) -> None:
    path, events = written(tmp_path)
    target = events[BLOCK_EVENTS + 10]  # in the second block
    original = orjson.dumps(target)
    changed = orjson.dumps({**target, "t": target["t"] + 1})
    data = path.read_bytes()
    assert data.count(original) == 1
    path.write_bytes(data.replace(original, changed))
    _, integrity = integrity_of(path)
    assert integrity.state == "tampered" and integrity.verdict == "TAMPERED"
    end = min(2 * BLOCK_EVENTS, len(events))
    assert (integrity.first_bad, integrity.last_bad) == (BLOCK_EVENTS + 1, end)
    assert "does not match its own integrity record" in integrity.message
    assert f"events {BLOCK_EVENTS + 1}-{end} were modified" in integrity.message
    assert integrity.covers(target["seq"]) and not integrity.covers(5)  # type: ignore[arg-type]


def test_a_deleted_last_event_is_tampering_not_truncation(tmp_path: Path) -> None:
    path, events = written(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-2] + lines[-1:]))  # the last event gone, closing kept
    _, integrity = integrity_of(path)
    assert integrity.state == "tampered"
    assert f"it records {len(events)} events, the file holds {len(events) - 1}" in (
        integrity.message
    )


def test_a_changed_closing_record_is_tampering(tmp_path: Path) -> None:
    path, _ = written(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    closing = orjson.loads(lines[-1])
    closing["digests"]["n1"] = "00000000"
    path.write_bytes(b"".join(lines[:-1]) + orjson.dumps(closing) + b"\n")
    _, integrity = integrity_of(path)
    assert integrity.state == "tampered" and "final state digests differ" in integrity.message


def test_a_line_after_the_closing_record_is_an_error(tmp_path: Path) -> None:
    path, events = written(tmp_path)
    with path.open("ab") as file:
        file.write(orjson.dumps(events[0]) + b"\n")
    _, stream = open_trace(path)
    with pytest.raises(TraceError, match="a line after the closing record"):
        list(stream)


def test_a_version_1_trace_is_read_but_cannot_be_verified(tmp_path: Path) -> None:
    header, events = simulate("default", 1, 2.0)
    path = tmp_path / "v1.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in [{**header, "version": 1}, *events]))
    read, integrity = integrity_of(path)
    assert read == events
    assert integrity.state == "unverified" and integrity.verdict == ""
    assert integrity.message.startswith("version-1 trace: it has no closing record")


def test_a_changed_header_is_tampering(tmp_path: Path) -> None:
    path, _ = written(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    header = orjson.loads(lines[0])
    header["raft"]["election_ticks"] += 1  # would make replay look nondeterministic
    path.write_bytes(orjson.dumps(header) + b"\n" + b"".join(lines[1:]))
    _, integrity = integrity_of(path)
    assert integrity.state == "tampered"
    assert integrity.message.endswith("the header line was modified after writing")
