"""Writing traces: a trace appears under its name only once it is complete."""

from __future__ import annotations

from pathlib import Path

from traces.reader import load_trace
from traces.recorder import FileRecorder, MemoryRecorder, make_header
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
    partial = tmp_path / "runs" / "trace.jsonl.partial"
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
    assert list(tmp_path.iterdir()) == [tmp_path / "trace.jsonl.partial"]


def test_closing_twice_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    recorder = FileRecorder(path, make_header("test"))
    recorder.emit(tick(1))
    recorder.close()
    assert recorder.close() == path
    assert len(load_trace(path)[1]) == 1


def test_an_empty_run_is_a_header_only_trace(tmp_path: Path) -> None:
    path = FileRecorder(tmp_path / "trace.jsonl", make_header("test")).close()
    header, events = load_trace(path)
    assert header["impl"] == "test" and events == []


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
    partial = recorder.abort()
    assert partial == tmp_path / "trace.jsonl.partial"
    assert len(partial.read_bytes().splitlines()) == 3  # header and both events, flushed
    assert path.read_bytes() == before
    assert recorder.abort() == partial  # harmless twice
