"""``raftlab replay``: prove a trace is deterministic by re-running it."""

from __future__ import annotations

from pathlib import Path

import typer

from raftlab import ui

REPLAY_HELP = """Re-run every node step of a trace on fresh Raft cores and compare.

Each node input recorded in the trace (ticks, messages, proposals, storage
acknowledgements...) is fed again to a new core built from the trace's
header; every effect and every state digest must come out the same. The
first difference is reported as `diverged at seq N: expected ..., got ...`.

Exit codes: 0 identical, 1 diverged, 2 unreadable trace.

Example:

  raftlab replay run.jsonl
"""


def replay(trace: Path = typer.Argument(..., help="A trace written by `raftlab sim`.")) -> None:
    from consensus.replayer import ReplayError
    from raftlab.experiment import replay_file
    from traces.reader import TraceError

    try:
        with ui.progress_bar("replaying", None, " events") as update:
            report = replay_file(trace, update)
    except (TraceError, ReplayError) as error:
        raise ui.fail(str(error)) from None
    if report.divergence is not None:
        ui.out.print(report.divergence.describe(), markup=False)
        ui.out.print("verdict: [bold red]NOT DETERMINISTIC[/]")
        raise typer.Exit(1)
    ui.out.print(
        f"{report.steps} steps of {len(report.nodes)} nodes replayed ({report.events} events): "
        "every effect and state digest matched"
    )
    ui.out.print("verdict: [bold green]DETERMINISTIC[/]")
