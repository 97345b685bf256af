"""Reading traces: every malformed input is a ``TraceError`` that names the
file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from traces.reader import TraceError, load_trace, open_trace
from traces.recorder import make_header

HEADER = make_header("test", seed=1)


def event(seq: int, **fields: Any) -> dict[str, Any]:
    return {"seq": seq, "t": 10 * seq, "n": "n1", "lc": seq, "term": 1, "act": "tick"} | fields


def write(tmp_path: Path, *lines: object, name: str = "trace.jsonl") -> Path:
    path = tmp_path / name
    raw = [x if isinstance(x, bytes) else orjson.dumps(x) for x in lines]
    path.write_bytes(b"".join(line + b"\n" for line in raw))
    return path


def error(path: Path) -> TraceError:
    with pytest.raises(TraceError) as caught:
        load_trace(path)
    return caught.value


def test_a_valid_trace_reads_back(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, event(1), b"", event(2, act="recv", cause=1))
    header, events = load_trace(path)
    assert header == HEADER
    assert [e["seq"] for e in events] == [1, 2]


def test_the_first_event_must_be_seq_1_not_true(tmp_path: Path) -> None:
    err = error(write(tmp_path, HEADER, event(1) | {"seq": True}))
    assert (err.line, err.reason) == (2, "expected seq 1, got True")


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, b"", b"   ", event(1), b"", b"{oops")
    err = error(path)
    assert err.line == 6
    assert str(err).startswith(f"{path}:6: malformed JSON")


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, event(1), b'{"seq": 2, "t": ')
    err = error(path)
    assert (err.where, err.line) == (str(path), 3)
    assert str(err).startswith(f"{path}:3: malformed JSON: ")


def test_a_last_line_cut_short_by_a_crash_is_a_truncation(tmp_path: Path) -> None:
    full = orjson.dumps(event(2))
    path = tmp_path / "cut.jsonl"
    path.write_bytes(orjson.dumps(HEADER) + b"\n" + orjson.dumps(event(1)) + b"\n" + full[:20])
    _, events = open_trace(path)
    assert [e["seq"] for e in events] == [1]
    assert events.integrity is not None
    assert events.integrity.state == "truncated"
    assert events.integrity.message.startswith("truncated at seq 1: its last line is cut short")


def test_invalid_utf8_is_malformed_json(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, b'{"seq": 1, "n": "\xff"}')
    err = error(path)
    assert err.line == 2 and "malformed JSON" in err.reason


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (event(3), "expected seq 2, got 3"),
        (event(1), "expected seq 2, got 1"),
        ({k: v for k, v in event(2).items() if k != "seq"}, "expected seq 2, got None"),
        (event(2) | {"seq": "2"}, "expected seq 2, got '2'"),
        (event(2) | {"seq": 2.0}, "expected seq 2, got 2.0"),
        (event(2, act="teleport"), "unknown action 'teleport'"),
        ({k: v for k, v in event(2).items() if k != "act"}, "unknown action None"),
        ({k: v for k, v in event(2).items() if k != "t"}, "field 't' must be a non-negative"),
        (event(2, t=-1), "field 't' must be a non-negative integer, got -1"),
        (event(2, t=1.5), "field 't' must be a non-negative integer, got 1.5"),
        ({k: v for k, v in event(2).items() if k != "lc"}, "field 'lc' must be a non-negative"),
        (event(2, lc=True), "field 'lc' must be a non-negative integer, got True"),
        ({k: v for k, v in event(2).items() if k != "n"}, "field 'n' (the actor) must be"),
        (event(2, n=""), "field 'n' (the actor) must be a non-empty string, got ''"),
        ([1, 2], "an event must be a JSON object, got list"),
        ("tick", "an event must be a JSON object, got str"),
    ],
)
def test_invalid_events_name_the_line_and_the_problem(
    tmp_path: Path, bad: object, reason: str
) -> None:
    path = write(tmp_path, HEADER, event(1), bad, event(3))
    err = error(path)
    assert (err.where, err.line) == (str(path), 3)
    assert err.reason.startswith(reason), err.reason
    assert str(err) == f"{path}:3: {err.reason}"


@pytest.mark.parametrize(
    "header",
    [event(1), {"schema": "something.else", "version": 1}, [HEADER], "raftlab.trace", None],
)
def test_a_file_that_is_not_a_trace_is_named_as_such(tmp_path: Path, header: object) -> None:
    path = write(tmp_path, header, event(1))
    err = error(path)
    assert err.line == 1
    assert "not a raftlab trace (the first line must have schema 'raftlab.trace')" in str(err)


@pytest.mark.parametrize("version", [3, 0, "1", None, True])
def test_an_unsupported_version_is_named(tmp_path: Path, version: object) -> None:
    path = write(tmp_path, {**HEADER, "version": version}, event(1))
    err = error(path)
    assert err.line == 1
    assert f"unsupported trace version {version!r} (this raftlab reads versions 1, 2)" in str(err)


def test_a_bad_header_fails_before_any_event_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, {**HEADER, "version": 9}, b"not even json")
    with pytest.raises(TraceError, match="unsupported trace version 9"):
        open_trace(path)


def test_events_are_checked_lazily_after_a_good_header(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, event(1), event(7))
    header, events = open_trace(path)
    assert header == HEADER
    assert next(events)["seq"] == 1
    with pytest.raises(TraceError, match=":3: expected seq 2, got 7"):
        next(events)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_file_is_named(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    err = error(path)
    assert str(err) == f"{path}:1: empty file"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "trace.jsonl"
    err = error(path)
    assert err.where == str(path)
    assert str(err) == f"{path}: cannot open: No such file or directory"


def test_a_directory_is_not_a_trace(tmp_path: Path) -> None:
    err = error(tmp_path)
    assert str(err) == f"{tmp_path}: cannot open: Is a directory"
