"""FileRecorder writes in chunks of about ``buffer_bytes`` (or ``buffer_events``,
whichever is reached first), and what it writes does not depend on either.

The byte limit is there for speed (traces/recorder.py says why); these tests
keep it doing what it says and keep the file's bytes independent of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from traces.recorder import BUFFER_BYTES, FileRecorder, encode_line, make_header, trace_bytes


def _event(i: int) -> dict[str, object]:
    return {"seq": 0, "t": i, "n": "n1", "lc": i, "term": 1, "act": "tick", "pad": "x" * 100}


class _Spy:
    """Stands for the recorder's output stream and keeps each write's size."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sizes: list[int] = []

    def write(self, data: bytes) -> int:
        self.sizes.append(len(data))
        return self.out.write(data)

    def close(self) -> None:
        """The recorder closes what it takes for a compressor; the file
        beneath is its own to close."""


def _spied(recorder: FileRecorder) -> _Spy:
    spy = _Spy(recorder._out)
    recorder._out = spy  # type: ignore[assignment]
    return spy


def test_writes_once_the_byte_limit_is_buffered(tmp_path: Path) -> None:
    recorder = FileRecorder(tmp_path / "t.jsonl", make_header("test"), buffer_bytes=1000)
    spy = _spied(recorder)
    line = len(encode_line(dict(_event(0), seq=1)))
    for i in range(100):
        recorder.emit(_event(i))
    assert spy.sizes, "nothing written after far more than 1000 bytes"
    # The header sits in the first write uncounted; every write holds the
    # lines that reached the limit, and no more than one line beyond it.
    assert all(1000 <= size < 1000 + 2 * line + 100 for size in spy.sizes)
    assert sum(spy.sizes) > 100 * line - 1000 - line
    recorder.close()


def test_default_limit_writes_before_the_event_limit(tmp_path: Path) -> None:
    recorder = FileRecorder(tmp_path / "t.jsonl", make_header("test"))
    spy = _spied(recorder)
    for i in range(BUFFER_BYTES // 100):  # lines of ~150 bytes: past the byte limit
        recorder.emit(_event(i))
    assert len(spy.sizes) == 1 and BUFFER_BYTES <= spy.sizes[0] < BUFFER_BYTES + 1000
    recorder.close()


def test_bytes_do_not_depend_on_the_limits(tmp_path: Path) -> None:
    header = make_header("test")
    events = [_event(i) for i in range(3000)]
    written = []
    for name, limits in {"a": {}, "b": {"buffer_bytes": 1}, "c": {"buffer_events": 7}}.items():
        recorder = FileRecorder(tmp_path / f"{name}.jsonl", header, **limits)  # type: ignore[arg-type]
        for i, event in enumerate(events):
            assert recorder.emit(dict(event)) == i + 1
        written.append(recorder.close().read_bytes())
    expected = trace_bytes(header, [dict(e, seq=i + 1) for i, e in enumerate(events)])
    assert written == [expected] * 3
