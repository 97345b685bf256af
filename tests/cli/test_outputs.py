"""Where commands write: only regular files or new paths, never through a
link or onto a device, never beside an input unless asked, ``-`` for
standard output; every I/O error and every bad value is one line, exit 2;
legal values that make a run say little are warned about."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest

import raftlab.experiment as experiment
from tests.cli.test_cli import failed, invoke
from tests.traces.simulated import simulate, write_trace
from traces.reader import open_trace


def test_out_dev_stdout_is_refused_and_the_link_left_alone(tmp_path: Path) -> None:
    before = os.lstat("/dev/stdout")
    result = invoke("sim", "--out", "/dev/stdout", "--duration", 0.5)
    error = failed(result, 2, "--out: /dev/stdout is ")
    assert "symbolic link" in error or "not a regular file" in error
    after = os.lstat("/dev/stdout")
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


def test_out_through_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_text("keep me")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    failed(invoke("sim", "--out", link, "--duration", 0.5), 2, f"--out: {link} is a symbolic")
    assert link.is_symlink() and target.read_text() == "keep me"


def test_out_onto_a_device_is_refused() -> None:
    failed(invoke("sim", "--out", "/dev/null"), 2, "--out: /dev/null is not a regular file")


def test_out_under_a_file_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    failed(invoke("sim", "--out", a_file / "t.jsonl"), 2, f"--out: {a_file} is not a directory")


def test_out_dash_streams_the_trace_and_check_reads_it_back(tmp_path: Path) -> None:
    result = invoke("sim", "--out", "-", "--duration", 1, "--seed", 4)
    assert result.exit_code == 0, result.output
    trace = result.stdout_bytes
    assert trace.startswith(b'{"schema":"raftlab.trace"')
    assert "leaders per term" in result.stderr, "the summary goes to stderr"
    assert "not checked here" in result.stderr
    checked = invoke("check", "-", stdin=trace)
    assert checked.exit_code == 0, checked.output
    assert checked.output.rstrip().endswith("verdict: PASS")
    assert list(tmp_path.iterdir()) == []


def test_check_writes_nothing_unless_asked(tmp_path: Path) -> None:
    header, events = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "run.jsonl", header, events)
    assert invoke("check", path).exit_code == 0
    assert list(tmp_path.iterdir()) == [path]
    page = tmp_path / "lin.html"
    result = invoke("check", path, "--html", page, "--json")
    assert result.exit_code == 0, result.output
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert orjson.loads(result.stdout)["files"] == {"linearizability_html": str(page)}


def test_a_directory_given_as_html_exits_2(tmp_path: Path) -> None:
    header, events = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "run.jsonl", header, events)
    failed(invoke("check", path, "--html", tmp_path), 2, f"--html: {tmp_path} is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        failed(invoke("sim", "--out", locked / "t.jsonl"), 2, f"cannot write in {locked}")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    ("errno", "reason"), [(13, "Permission denied"), (30, "Read-only file system")]
)
def test_an_io_error_while_writing_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno: int, reason: str
) -> None:
    out = tmp_path / "t.jsonl"

    def refuse(path: Path, header: object, **options: object) -> None:
        raise OSError(errno, reason, str(path))

    monkeypatch.setattr(experiment, "FileRecorder", refuse)
    failed(invoke("sim", "--out", out, "--duration", 0.5), 2, f"{out}: cannot write: {reason}")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--rate", "nan"], "--rate must be a positive number"),
        (["--rate", "0"], "--rate must be a positive number"),
        (["--clients", "-1"], "--clients must be at least 0, got -1"),
        (["--keys", "0"], "--keys must be at least 1, got 0"),
        (["--duration", "1e300"], "--duration must be at most 1000000 simulated seconds"),
    ],
)
def test_bad_workload_values_exit_2(tmp_path: Path, args: list[str], phrase: str) -> None:
    failed(invoke("sim", *args, "--out", tmp_path / "t.jsonl"), 2, phrase)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("timeout", ["0", "-3", "nan"])
def test_a_non_positive_lin_timeout_exits_2(tmp_path: Path, timeout: str) -> None:
    header, events = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "run.jsonl", header, events)
    failed(invoke("check", path, "--lin-timeout", timeout), 2, "--lin-timeout must be a positive")


def test_json_and_out_dash_cannot_share_stdout() -> None:
    failed(invoke("sim", "--out", "-", "--json"), 2, "--json and --out - both want standard")


def test_a_duration_too_short_to_elect_a_leader_is_warned(tmp_path: Path) -> None:
    result = invoke("sim", "--duration", 0.2, "--out", tmp_path / "t.jsonl", "--no-check")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: --duration 0.2 s is shorter than the time a first")
    assert "may never elect a leader" in result.stderr


def test_a_rate_beyond_the_clients_is_warned(tmp_path: Path) -> None:
    args = ["--duration", 0.5, "--rate", 5000, "--out", tmp_path / "t.jsonl", "--no-check"]
    result = invoke("sim", *args)
    assert result.exit_code == 0, result.output
    assert "warning: --rate 5000 is more than 5 client(s) can offer (about 125" in result.stderr
    quiet = invoke("sim", "--duration", 0.5, "--out", tmp_path / "u.jsonl", "--no-check")
    assert "warning" not in quiet.stderr


class _Killed:
    """A simulation that is sent SIGTERM half-way and keeps emitting."""

    def __init__(self, config: object, sink: Any, actor: object) -> None:
        self.sink = sink

    def run(self, progress: object = None) -> None:
        for t in range(1, 100):
            if t == 10:
                os.kill(os.getpid(), signal.SIGTERM)
            self.sink.emit({"seq": 0, "t": t, "n": "env", "lc": t, "act": "heal"})


def test_a_killed_sim_closes_its_trace_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(experiment, "Simulation", _Killed)
    out = tmp_path / "t.jsonl"
    error = failed(invoke("sim", "--out", out, "--duration", 1), 2, "interrupted; what was")
    assert not out.exists()
    [partial] = tmp_path.iterdir()
    assert str(partial) in error
    _, events = open_trace(partial)
    assert [e["t"] for e in events] == list(range(1, 10))
    assert events.integrity is not None and events.integrity.state == "interrupted"


def test_paths_that_look_like_markup_are_printed_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = "[red]x[/red].jsonl"
    result = invoke("sim", "--duration", 0.5, "--out", out, "--no-check")
    assert result.exit_code == 0, result.output
    rows = {line.split(maxsplit=1)[0]: line for line in result.output.splitlines() if line}
    assert rows["trace"].split()[1] == out, "the summary's trace row keeps the brackets"
    assert result.output.rstrip().endswith(f"trace: {out}")


@pytest.mark.parametrize("command", ["check", "replay"])
def test_ctrl_c_during_a_check_is_exit_2_not_a_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    header, events = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "run.jsonl", header, events)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(
        experiment, "check_trace" if command == "check" else "replay_file", interrupted
    )
    what = "checking" if command == "check" else "replaying"
    failed(invoke(command, path), 2, f"interrupted while {what}: no verdict")
