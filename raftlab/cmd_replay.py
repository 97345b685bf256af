"""``raftlab replay``: prove a trace is deterministic by re-running it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from traces.replay import ReplayReport

REPLAY_HELP = """Re-run every node step of a trace on fresh Raft cores and compare.

Each node input recorded in the trace (ticks, messages, proposals, storage
acknowledgements...) is fed again to a new core built from the trace's
header; every effect and every state digest must come out the same. The
first difference is reported as `diverged at seq N: expected ..., got ...`.

A difference means nondeterminism only if the file is the one that was
written: the trace's closing record (event count and checksums) tells a file
modified after writing (TAMPERED, naming the events that changed) and a cut
file (TRUNCATED at seq N) from a real divergence (NOT DETERMINISTIC). A
diverging entry whose recorded CRC contradicts the payload the trace's own
messages carry is TAMPERED too: no run can produce it.

Exit codes: 0 identical, 1 diverged although the file is intact
(nondeterminism), 2 bad input: an unreadable, truncated, tampered or empty
trace.

Example:

  raftlab replay run.jsonl
"""


def replay(
    trace: Path = typer.Argument(
        ..., help="A trace written by `raftlab sim` (.jsonl, .jsonl.gz, or - for stdin)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from consensus.replayer import ReplayError
    from raftlab.experiment import replay_file
    from traces.reader import TraceError

    try:
        with (
            ui.no_verdict_on_interrupt("replaying"),
            ui.io_errors(),
            ui.progress_bar("replaying", None, " events") as update,
        ):
            report = replay_file(trace, update)
    except (TraceError, ReplayError) as error:
        raise ui.fail(str(error)) from None
    if as_json:
        ui.print_json(replay_doc(trace, report))
    else:
        print_replay(report)
    raise typer.Exit(report.exit_code)


def replay_doc(trace: Path, report: ReplayReport) -> dict[str, Any]:
    """The result as JSON: the same facts as ``print_replay``."""
    divergence = report.divergence
    return {
        "trace": str(trace),
        "steps": report.steps,
        "events": report.events,
        "nodes": sorted(report.nodes, key=lambda n: int(n[1:]) if n[1:].isdigit() else 0),
        "divergence": None
        if divergence is None
        else {
            "seq": divergence.seq,
            "expected": divergence.expected,
            "got": divergence.got,
            "text": divergence.describe(),
        },
        "integrity": report.integrity.to_json() if report.integrity else None,
        "contradiction": report.contradiction or None,
        "explanation": report.explain(),
        "verdict": report.verdict,
        "ok": report.ok,
        "files": {},
    }


def print_replay(report: ReplayReport) -> None:
    for line in report.explain():
        ui.out.print(line, markup=False)
    if report.integrity is not None and report.integrity.ok:
        ui.out.print(f"trace {report.integrity.message}", markup=False)
    if report.ok:
        ui.out.print(
            f"{report.steps} steps of {len(report.nodes)} nodes replayed ({report.events} "
            "events): every effect and state digest matched"
        )
    verdict = report.verdict
    color = {"DETERMINISTIC": "green", "NOT DETERMINISTIC": "red"}.get(verdict, "yellow")
    ui.out.print(f"verdict: [bold {color}]{verdict}[/]")
