"""``raftlab export``: a trace in a format other tools read (``traces.export``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from raftlab import ui

EXPORT_HELP = """Export a trace for other tools: ITF JSON, a TLA+ module or etcd-raft NDJSON.

--format itf writes the Informal Trace Format (Apalache ADR-015) that
Apalache and Quint read: one state per node step and per crash, each node
variable (currentTerm, role, votedFor, commitIndex, config, ...) a function
from node id. --format tla writes a TLA+ module whose `Trace` is a sequence
of records, one per node step and crash, for trace validation with TLC
(the file must be NAME.tla, NAME being the module). --format etcd-ndjson
writes etcd-raft's trace events (InitState, BecomeLeader,
SendAppendEntriesRequest, ...) for etcd-io/raft's Traceetcdraft.tla;
raftlab events without an etcd counterpart are skipped and counted.
docs/export.md lists every variable, field and mapping.

The trace may be simulated or merged from a real cluster (`raftlab trace
merge`). A trace modified after writing is refused; a cut or interrupted
one is exported up to its last whole event, with a warning.

Exit codes: 0 exported, 2 bad input or output (an unreadable or modified
trace, named with its file and line; an unknown format; an output that is a
directory, link or device, or the trace itself). 1 is not used: exporting
judges nothing.

Examples:

  raftlab export --format itf run.jsonl -o run.itf.json

  raftlab export --format tla run.jsonl -o RunTrace.tla

  raftlab export --format etcd-ndjson run.jsonl -o - | head
"""


def export(
    trace: Path = typer.Argument(..., help="A trace (.jsonl, .jsonl.gz, or - for stdin)."),
    fmt: str = typer.Option(
        ..., "--format", "-f", help="itf, tla or etcd-ndjson (see the description above)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Where to write the export (- for standard output)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a summary as JSON."),
) -> None:
    from raftlab.outputs import OutputError, check_output_file, write_atomic
    from traces.export import ExportError, export_trace
    from traces.reader import TraceError

    streaming = str(out) == "-"
    if as_json and streaming:
        raise ui.fail("--json prints to standard output: give --out a file, not -")
    try:
        check_output_file(out, "--out", stream=True)
        _refuse_overwriting_input(trace, out)
        with ui.io_errors():
            result = export_trace(trace, fmt, out)
            if streaming:
                typer.get_binary_stream("stdout").write(result.data)
            else:
                write_atomic(out, result.data)
    except (TraceError, ExportError, OutputError) as error:
        raise ui.fail(str(error)) from None
    integrity = result.summary["integrity"]
    if integrity["state"] != "complete":
        ui.warn(f"{trace}: {integrity['message']}; exported the events before that")
    if as_json:
        ui.print_json(result.summary)
    elif not streaming:
        ui.out.print(describe(result.summary), markup=False)


def _refuse_overwriting_input(trace: Path, out: Path) -> None:
    from raftlab.outputs import OutputError

    if str(trace) == "-" or str(out) == "-":
        return
    try:
        same = os.path.samefile(trace, out)
    except OSError:  # one of them does not exist: nothing to clobber
        return
    if same:
        raise OutputError(f"--out: {out} is the trace being exported; give another path")


def describe(summary: dict[str, Any]) -> str:
    """One line saying what was written."""
    fmt, events, out = summary["format"], summary["events"], summary["out"]
    if fmt == "itf":
        what = f"{summary['states']} ITF states"
    elif fmt == "tla":
        what = f"module {summary['module']} with {summary['records']} trace records"
    else:
        skipped = sum(summary["skipped"].values())
        what = (
            f"{summary['lines']} etcd-raft trace events "
            f"({skipped} raftlab events without an etcd counterpart skipped)"
        )
    return f"exported {what} from {events} events to {out}"
