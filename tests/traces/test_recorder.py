"""Writing traces: a trace appears under its name only once it is complete,
ends with a closing record, and two writers never share a file."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import orjson
import pytest

from traces.reader import load_trace, open_trace
from traces.recorder import FileRecorder, MemoryRecorder, StopRequest, make_header
from traces.schema import SCHEMA, VERSION


def tick(t: int) -> dict[str, object]:
    return {"seq": 0, "t": t, "n": "n1", "lc": t, "term": 0, "act": "tick", "dg": "0"}


def test_the_header_names_schema_version_and_implementation() -> None:
    header = make_header("raftlab-sim", seed=7, nodes=[1, 2])
    assert header == {
        "schema": SCHEMA,
        "version": VERSION,
        "impl": "raftlab-sim",
        "seed": 7,
        "nodes": [1, 2],
    }


def test_a_trace_is_partial_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "trace.jsonl"
    recorder = FileRecorder(path, make_header("test"))
    partial = recorder.partial
    assert partial.parent == path.parent and partial.name.startswith(".trace.jsonl.")
    assert partial.name.endswith(".partial")
    assert [recorder.emit(tick(t)) for t in (1, 2, 3)] == [1, 2, 3]
    assert partial.exists() and not path.exists()
    assert recorder.close() == path
    assert path.exists() and not partial.exists()
    header, events = load_trace(path)
    assert header["impl"] == "test"
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["t"] for e in events] == [1, 2, 3]


def test_a_run_that_dies_leaves_only_the_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    recorder = FileRecorder(path, make_header("test"), buffer_events=2)
    for t in range(1, 6):
        recorder.emit(tick(t))
    # Whatever has been written so far is under the partial name only.
    assert not path.exists()
    assert list(tmp_path.iterdir()) == [recorder.partial]


def test_closing_twice_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    recorder = FileRecorder(path, make_header("test"))
    recorder.emit(tick(1))
    recorder.close()
    assert recorder.close() == path
    assert len(load_trace(path)[1]) == 1


def test_an_empty_run_is_a_header_and_a_closing_record(tmp_path: Path) -> None:
    path = FileRecorder(tmp_path / "trace.jsonl", make_header("test")).close()
    header, events = open_trace(path)
    assert header["impl"] == "test" and list(events) == []
    assert events.integrity is not None and events.integrity.state == "complete"
    assert len(path.read_bytes().splitlines()) == 2


def test_the_memory_recorder_numbers_events_like_the_file_recorder() -> None:
    recorder = MemoryRecorder(make_header("test"))
    assert [recorder.emit(tick(t)) for t in (5, 6)] == [1, 2]
    assert [e["seq"] for e in recorder.events] == [1, 2]
    recorder.close()


def test_an_aborted_trace_stays_partial_and_spares_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    old = FileRecorder(path, make_header("old"))
    old.emit(tick(1))
    old.close()
    before = path.read_bytes()
    recorder = FileRecorder(path, make_header("new"))
    for t in (1, 2):
        recorder.emit(tick(t))
    partial = recorder.abort("interrupted (KeyboardInterrupt)")
    assert partial == recorder.partial and partial.exists()
    # header, both events, flushed, and a closing record that says the run ended early
    assert len(partial.read_bytes().splitlines()) == 4
    assert path.read_bytes() == before
    assert recorder.abort() == partial  # harmless twice
    _, events = open_trace(partial)
    assert len(list(events)) == 2
    assert events.integrity is not None and events.integrity.state == "interrupted"
    assert "KeyboardInterrupt" in events.integrity.message


def test_the_closing_record_counts_hashes_and_keeps_the_final_digests(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    recorder = FileRecorder(path, make_header("test"))
    recorder.emit(tick(1))
    recorder.emit(tick(2) | {"n": "n2", "dg": "beef"})
    recorder.emit(tick(3) | {"dg": "cafe"})
    recorder.close()
    lines = path.read_bytes().splitlines(keepends=True)
    closing = orjson.loads(lines[-1])
    assert closing["end"] == "complete" and closing["events"] == 3
    assert closing["digests"] == {"n1": "cafe", "n2": "beef"}
    assert closing["sha256"] == hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    assert closing["header"] == f"{zlib.crc32(lines[0]):08x}"
    assert closing["blocks"] == [f"{zlib.crc32(b''.join(lines[1:-1])):08x}"]


def test_two_writers_of_one_path_never_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    first = FileRecorder(path, make_header("first"))
    second = FileRecorder(path, make_header("second"))
    assert first.partial != second.partial
    for t in (1, 2):
        first.emit(tick(t))
        second.emit(tick(t + 10))
    first.close()
    assert load_trace(path)[0]["impl"] == "first"
    second.close()  # the later one wins, whole: never a mix of both
    header, events = open_trace(path)
    assert header["impl"] == "second" and [e["t"] for e in events] == [11, 12]
    assert events.integrity is not None and events.integrity.ok
    assert list(tmp_path.iterdir()) == [path]


def test_a_gz_path_is_written_compressed_and_read_back_transparently(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl.gz"
    recorder = FileRecorder(path, make_header("test"))
    for t in range(1, 50):
        recorder.emit(tick(t))
    recorder.close()
    assert gzip.decompress(path.read_bytes()).startswith(b'{"schema":"raftlab.trace"')
    _, events = open_trace(path)
    assert [e["t"] for e in events] == list(range(1, 50))
    assert events.integrity is not None and events.integrity.ok


def test_a_cut_gzip_trace_reads_as_truncated(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl.gz"
    recorder = FileRecorder(path, make_header("test"))
    for t in range(1, 2000):
        recorder.emit(tick(t) | {"pad": "x" * (t % 97)})
    recorder.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _, events = open_trace(path)
    seqs = [e["seq"] for e in events]
    assert events.integrity is not None and events.integrity.state == "truncated"
    assert seqs == list(range(1, len(seqs) + 1)) and 0 < len(seqs) < 1999
    assert events.integrity.message.startswith(f"truncated at seq {len(seqs)}")


def test_a_stop_request_ends_the_run_between_two_events(tmp_path: Path) -> None:
    stop = StopRequest()
    recorder = FileRecorder(tmp_path / "trace.jsonl", make_header("test"), stop=stop)
    recorder.emit(tick(1))
    stop.requested = True  # what the signal handler does
    with pytest.raises(KeyboardInterrupt):
        recorder.emit(tick(2))
    _, events = open_trace(recorder.abort("interrupted by SIGTERM"))
    assert [e["t"] for e in events] == [1]
    assert events.integrity is not None and events.integrity.state == "interrupted"
    assert events.integrity.message == "the run ended early at seq 1 (interrupted by SIGTERM)"
