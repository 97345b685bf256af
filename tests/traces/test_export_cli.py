"""``raftlab export`` end to end: each format written to a file or standard
output, the summary, and every bad input or output one error line, exit 2,
with nothing clobbered."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.cli.test_cli import failed, invoke
from tests.traces.simulated import simulate, write_trace
from traces.itf import read_itf

RUN = ("chaos", 5, 1.0, "random")


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    header, events = simulate(*RUN)
    return write_trace(tmp_path / "run.jsonl", header, events)


@pytest.mark.parametrize(
    ("fmt", "name", "said"),
    [
        ("itf", "run.itf.json", "ITF states"),
        ("tla", "RunTrace.tla", "module RunTrace with"),
        ("etcd-ndjson", "run.ndjson", "etcd-raft trace events"),
    ],
)
def test_each_format_is_written_and_summarized(
    tmp_path: Path, trace: Path, fmt: str, name: str, said: str
) -> None:
    out = tmp_path / name
    result = invoke("export", "--format", fmt, trace, "-o", out)
    assert result.exit_code == 0, result.output
    assert said in result.stdout and f"to {out}" in result.stdout
    assert out.stat().st_size > 0
    again = invoke("export", "-f", fmt, trace, "-o", out, "--json")
    assert again.exit_code == 0, again.output
    doc = orjson.loads(again.stdout)
    assert doc["format"] == fmt and doc["integrity"]["state"] == "complete"
    assert doc["events"] == len(simulate(*RUN)[1])


def test_out_dash_writes_to_standard_output_only(tmp_path: Path, trace: Path) -> None:
    result = invoke("export", "--format", "itf", trace, "-o", "-")
    assert result.exit_code == 0, result.output
    streamed = tmp_path / "streamed.itf.json"
    streamed.write_bytes(result.stdout_bytes)
    assert read_itf(streamed).states
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl", "streamed.itf.json"]


def test_the_trace_itself_is_never_overwritten(trace: Path) -> None:
    before = trace.read_bytes()
    failed(invoke("export", "-f", "itf", trace, "-o", trace), 2, "is the trace being exported")
    assert trace.read_bytes() == before


def test_links_directories_and_devices_are_refused(tmp_path: Path, trace: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("keep me")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    failed(invoke("export", "-f", "itf", trace, "-o", link), 2, "--out:", "symbolic link")
    assert target.read_text() == "keep me"
    failed(invoke("export", "-f", "itf", trace, "-o", tmp_path), 2, "is a directory")
    failed(invoke("export", "-f", "itf", trace, "-o", "/dev/null"), 2, "not a regular file")


def test_bad_choices_are_one_line(tmp_path: Path, trace: Path) -> None:
    failed(invoke("export", "-f", "xml", trace, "-o", tmp_path / "x"), 2, "unknown format 'xml'")
    failed(
        invoke("export", "-f", "tla", trace, "-o", tmp_path / "run-trace.tla"),
        2,
        "a TLA+ module must be in NAME.tla",
    )
    failed(invoke("export", "-f", "itf", trace, "-o", "-", "--json"), 2, "--json prints")
    assert not (tmp_path / "x").exists()


def test_a_bad_trace_line_is_named_by_file_and_line(tmp_path: Path, trace: Path) -> None:
    lines = trace.read_bytes().splitlines(keepends=True)
    lines[5] = b'{"seq": 5, "oops"\n'
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines))
    failed(invoke("export", "-f", "etcd-ndjson", bad, "-o", tmp_path / "o"), 2, f"{bad}:6:")
    failed(invoke("export", "-f", "itf", tmp_path / "none", "-o", tmp_path / "o"), 2, "cannot open")
    assert not (tmp_path / "o").exists()


def test_a_modified_trace_is_refused_and_a_cut_one_exported_with_a_warning(
    tmp_path: Path, trace: Path
) -> None:
    lines = trace.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[40])
    event["t"] += 1
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(b"".join([*lines[:40], orjson.dumps(event) + b"\n", *lines[41:]]))
    out = tmp_path / "o.json"
    failed(invoke("export", "-f", "itf", tampered, "-o", out), 2, "not exported", "modified")
    assert not out.exists()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[:101]))  # the header and 100 events, no closing record
    result = invoke("export", "-f", "itf", cut, "-o", out)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "truncated at seq 100" in result.stderr
    assert max(s["step"]["seq"] for s in read_itf(out).states) <= 100
