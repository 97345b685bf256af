"""``check`` and ``replay`` on files that are not what was written: a cut
file is ``TRUNCATED at seq N`` (exit 2), a changed one ``TAMPERED`` (exit 2),
an empty one is no PASS, and only an intact file that replays differently
is ``NOT DETERMINISTIC`` (exit 1). gzip and standard input read the same."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from tests.checkers import scenarios as s
from tests.cli.test_cli import invoke, save
from tests.traces.simulated import simulate, write_trace
from traces.integrity import BLOCK_EVENTS

COMMANDS = ["check", "replay"]


@pytest.fixture
def trace_file(tmp_path: Path) -> Path:
    header, events = simulate("default", 1, 2.0)
    return write_trace(tmp_path / "run.jsonl", header, events)


def last_line(result_output: str) -> str:
    return result_output.rstrip().splitlines()[-1]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_cut_mid_line_is_truncated_not_passed(trace_file: Path, command: str) -> None:
    data = trace_file.read_bytes()
    lines = data.splitlines(keepends=True)
    kept = b"".join(lines[:1001])  # header and events 1-1000
    trace_file.write_bytes(kept + lines[1001][:25])
    result = invoke(command, trace_file)
    assert result.exit_code == 2, result.output
    assert "truncated at seq 1000: its last line is cut short" in result.output
    assert last_line(result.output) == "verdict: TRUNCATED at seq 1000"


def test_replay_of_a_file_cut_inside_a_step_is_truncated_not_nondeterministic(
    trace_file: Path,
) -> None:
    header, events = simulate("default", 1, 2.0)
    step = next(e for e in events[800:] if "dg" in e and events[e["seq"]].get("cause") == e["seq"])
    cut = step["seq"] + 1  # the input and its first effect only
    path = trace_file.with_name("cut.jsonl")
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in [header, *events[:cut]]))
    result = invoke("replay", path)
    assert result.exit_code == 2, result.output
    assert "NOT DETERMINISTIC" not in result.output
    assert last_line(result.output) == f"verdict: TRUNCATED at seq {cut}"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_header_alone_is_not_a_pass(tmp_path: Path, trace_file: Path, command: str) -> None:
    path = tmp_path / "header.jsonl"
    path.write_bytes(trace_file.read_bytes().splitlines(keepends=True)[0])
    result = invoke(command, path)
    assert result.exit_code == 2, result.output
    assert last_line(result.output) == "verdict: TRUNCATED at seq 0"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_complete_trace_without_events_is_empty_not_a_pass(tmp_path: Path, command: str) -> None:
    header, _ = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "empty.jsonl", header, [])
    result = invoke(command, path)
    assert result.exit_code == 2, result.output
    assert "no events" in result.output
    assert last_line(result.output) == "verdict: EMPTY"


def tamper_digest(path: Path, seq_from: int = 300) -> int:
    """Change one step's digest in the written file, leaving the integrity
    record as it was; the changed event's seq."""
    lines = path.read_bytes().splitlines(keepends=True)
    for i in range(seq_from, len(lines) - 1):
        event = orjson.loads(lines[i])
        if "dg" in event:
            event["dg"] = "00000000"
            lines[i] = orjson.dumps(event) + b"\n"
            path.write_bytes(b"".join(lines))
            return int(event["seq"])
    raise AssertionError("no step to tamper with")


def test_replay_names_a_changed_event_as_tampering_not_nondeterminism(trace_file: Path) -> None:
    seq = tamper_digest(trace_file)
    result = invoke("replay", trace_file)
    assert result.exit_code == 2, result.output
    assert f"diverged at seq {seq}" in result.output
    first = (seq - 1) // BLOCK_EVENTS * BLOCK_EVENTS + 1
    block = f"events {first}-{first + BLOCK_EVENTS - 1} were modified"
    assert f"does not match its own integrity record: {block}" in result.output
    assert f"the difference at seq {seq} lies in the modified events: a tampered event" in (
        result.output
    )
    assert "NOT DETERMINISTIC" not in result.output
    assert last_line(result.output) == "verdict: TAMPERED"


def test_replay_calls_an_unreplayable_tampered_file_tampered(trace_file: Path) -> None:
    lines = trace_file.read_bytes().splitlines(keepends=True)
    for i in range(300, len(lines) - 1):
        event = orjson.loads(lines[i])
        if event["act"] == "recv":
            event["in"]["mid"] = "9:99999"
            lines[i] = orjson.dumps(event) + b"\n"
            break
    trace_file.write_bytes(b"".join(lines))
    result = invoke("replay", trace_file)
    assert result.exit_code == 2, result.output
    assert "replay could not follow the trace: seq" in result.output
    assert last_line(result.output) == "verdict: TAMPERED"


def test_check_refuses_to_pass_a_tampered_file(trace_file: Path) -> None:
    tamper_digest(trace_file)
    result = invoke("check", trace_file)
    assert result.exit_code == 2, result.output
    assert "does not match its own integrity record" in result.output
    assert last_line(result.output) == "verdict: TAMPERED"


def test_a_violation_before_a_cut_is_still_a_violation(tmp_path: Path) -> None:
    path = save(s.two_leaders(2).trace, tmp_path / "bad.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the closing record lost
    result = invoke("check", path)
    assert result.exit_code == 1, result.output
    assert "truncated at seq" in result.output
    assert last_line(result.output) == "verdict: FAIL"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_version_1_trace_is_still_read_with_a_note(trace_file: Path, command: str) -> None:
    lines = trace_file.read_bytes().splitlines(keepends=True)
    header = orjson.loads(lines[0]) | {"version": 1}
    trace_file.write_bytes(b"".join([orjson.dumps(header) + b"\n", *lines[1:-1]]))
    result = invoke(command, trace_file)
    assert result.exit_code == 0, result.output
    assert "version-1 trace: it has no closing record" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_gzip_and_standard_input_read_like_a_file(trace_file: Path, command: str) -> None:
    packed = trace_file.with_name("run.jsonl.gz")
    packed.write_bytes(gzip.compress(trace_file.read_bytes()))
    plain = invoke(command, trace_file)
    assert plain.exit_code == 0, plain.output
    for result in (invoke(command, packed), invoke(command, "-", stdin=packed.read_bytes())):
        assert result.exit_code == 0, result.output
        assert last_line(result.output) == last_line(plain.output)


def test_replay_prints_json_with_the_verdict_and_the_integrity(trace_file: Path) -> None:
    seq = tamper_digest(trace_file)
    result = invoke("replay", trace_file, "--json")
    assert result.exit_code == 2
    doc = orjson.loads(result.stdout)
    assert doc["verdict"] == "TAMPERED" and doc["ok"] is False
    assert doc["divergence"]["seq"] == seq
    first = (seq - 1) // BLOCK_EVENTS * BLOCK_EVENTS + 1
    assert doc["integrity"]["state"] == "tampered"
    assert doc["integrity"]["changed"] == [first, first + BLOCK_EVENTS - 1]
    assert doc["files"] == {} and doc["trace"] == str(trace_file)


def test_replay_names_an_entry_crc_the_trace_contradicts_as_tampering(tmp_path: Path) -> None:
    """The closing record matches (the file was rewritten whole), but a
    follower's ``append`` records a CRC that is not that of the payload the
    leader's message carried: no run can produce that trace."""
    header, events = simulate("default", 1, 2.0)
    append = next(
        e
        for e in events[300:]
        if e["act"] == "append"
        and len(e["entries"][0]) == 3
        and events[e["cause"] - 1]["act"] == "recv"
    )
    index, term, crc = append["entries"][0]
    append["entries"][0] = [index, term, crc ^ 1]
    path = write_trace(tmp_path / "forged.jsonl", header, events)
    result = invoke("replay", path)
    assert result.exit_code == 2, result.output
    assert f"diverged at seq {append['seq']}" in result.output
    assert (
        f"the event at seq {append['seq']} contradicts the trace itself: it records CRC "
        f"{crc ^ 1} for entry {index} of term {term}, but the payload sent for that entry"
    ) in result.output
    assert "NOT DETERMINISTIC" not in result.output
    assert last_line(result.output) == "verdict: TAMPERED"
