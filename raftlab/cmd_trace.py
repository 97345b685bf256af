"""``raftlab trace``: work on trace files; ``raftlab trace merge`` joins the
per-node traces of a real cluster into one (``traces.merge``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from traces.merge import Event

#: Registered as a group of sub-commands (raftlab/cli.py).
GROUP = True

TRACE_HELP = """Work on trace files: merge the per-node traces of a real cluster.

`raftlab trace merge` joins per-node traces into one trace that `raftlab
check` and `raftlab replay` read.
"""

MERGE_HELP = """Merge per-node traces by causality into one trace.

A real cluster leaves one trace per node process and incarnation
(n<id>.<incarnation>.trace.jsonl), an environment trace of the faults
injected (env.trace.jsonl) and a client history. The merge orders them by
causality, never by wall clock alone: each file keeps its order, a recv
comes after the send with its message id (whose Lamport clock must be
lower), a crash after the last event of the incarnation it ends and before
the next one; wall time orders only what causality leaves open. It fills in
what no single node can write: causes across files, a crash between two
incarnations that the environment trace does not record, a duplicate for a
message received twice (both marked `inferred`), and, with --history, the
clients' invoke and complete events.

A node trace without a closing record (its process was killed) is merged
and reported as such; a torn last line is dropped; a recv whose send was
lost with a killed sender's unwritten tail is kept.

Exit codes: 0 merged, 2 bad input (an unreadable, modified or inconsistent
input, named with its file and line; e.g. a recv whose Lamport clock is not
above its send's). 1 is not used: merging judges nothing, run `raftlab
check` on the result.

Examples:

  raftlab trace merge run/traces -o merged.jsonl --history run/history.jsonl

  raftlab trace merge n1.0.trace.jsonl n2.0.trace.jsonl n3.0.trace.jsonl -o - | raftlab check -
"""


def trace() -> typer.Typer:
    """The ``trace`` group and its sub-commands."""
    group = typer.Typer(no_args_is_help=True, add_completion=False)
    group.command("merge", help=MERGE_HELP)(merge)
    return group


def merge(
    inputs: list[Path] = typer.Argument(
        ..., help="Per-node and environment trace files, or directories holding them."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Where to write the merged trace (- for standard output)."
    ),
    history: Path = typer.Option(
        None, "--history", help="A client history (JSONL) to add as client events."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from raftlab.outputs import OutputError, check_output_file
    from traces.merge import merge_traces, write_merged
    from traces.reader import TraceError

    if as_json and str(out) == "-":
        raise ui.fail("--json prints to standard output: give --out a file, not -")
    try:
        check_output_file(out, "--out", stream=True)
        with ui.io_errors():
            header, events = merge_traces(inputs, history)
            write_merged(out, header, events)
    except (TraceError, OutputError) as error:
        raise ui.fail(str(error)) from None
    doc = merge_doc(out, header, events)
    if as_json:
        ui.print_json(doc)
    elif str(out) != "-":
        print_merge(doc)


def merge_doc(out: Path, header: Event, events: list[Event]) -> dict[str, Any]:
    inferred: dict[str, int] = {}
    for event in events:
        if event.get("inferred"):
            inferred[event["act"]] = inferred.get(event["act"], 0) + 1
    return {
        "out": str(out),
        "events": len(events),
        "level": header.get("level"),
        "inputs": header.get("inputs", []),
        "inferred": inferred,
        "history": header.get("history"),
    }


def print_merge(doc: dict[str, Any]) -> None:
    for item in doc["inputs"]:
        ui.out.print(f"{item['file']}: {item['events']} events, {item['ending']}", markup=False)
    inferred = ", ".join(f"{n} {act}" for act, n in sorted(doc["inferred"].items()))
    ui.out.print(
        f"merged {doc['events']} events (level {doc['level']}) into {doc['out']}"
        + (f"; inferred: {inferred}" if inferred else ""),
        markup=False,
    )
