"""``raftlab check``: run every registered checker over a trace."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from raftlab import ui

CHECK_HELP = """Check a trace against every invariant, and its client history for linearizability.

Invariants: the five safety properties of the Raft paper (Election Safety,
Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety),
monotonic commit and apply, and the membership invariants (at most one change
pending, joint decisions need both majorities, learners never vote or count,
no campaign with unapplied changes). `--list` names them all, plug-ins too.

A violation names the invariant, the events that witness it (their seq
numbers in the trace) and the nodes' state, in plain words.

Exit codes: 0 every check passed, 1 a violation (or a non-linearizable
history), 2 bad input or an undecided linearizability check.

Examples:

  raftlab check run.jsonl

  raftlab check run.jsonl --checker election-safety --checker log-matching --json
"""


def check(
    trace: Path = typer.Argument(None, help="A trace written by `raftlab sim` or a node."),
    checker: list[str] = typer.Option(
        None, "--checker", "-c", help="Run only this checker (repeatable)."
    ),
    list_checkers: bool = typer.Option(False, "--list", help="List the registered checkers."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    html: Path = typer.Option(
        None,
        "--html",
        help="Where to write the linearizability report (default: beside the trace).",
    ),
    lin_timeout: float = typer.Option(60.0, help="Seconds allowed for the linearizability check."),
) -> None:
    if list_checkers:
        from checkers import default_registry

        infos = default_registry().infos()
        ui.out.print(ui.table([(i.name, f"{i.invariant}: {i.summary}") for i in infos]))
        return
    if trace is None:
        raise ui.fail("which trace? `raftlab check TRACE` (or `--list` for the checkers)")
    passed = report_check(trace, checker or None, html, lin_timeout, as_json)
    if passed is None:
        raise typer.Exit(2)
    if not passed:
        raise typer.Exit(1)


def report_check(
    trace: Path,
    names: list[str] | None = None,
    html: Path | None = None,
    lin_timeout: float = 60.0,
    as_json: bool = False,
) -> bool | None:
    """Check and print; True if everything passed, None if undecided."""
    from checkers import MalformedEvent, RegistryError
    from raftlab.experiment import check_trace
    from traces.reader import TraceError

    if html is None:
        html = trace.with_name(trace.name.removesuffix(".jsonl") + ".linearizability.html")
    try:
        with ui.progress_bar("checking", None, " events") as update:
            outcome = check_trace(trace, names, html, lin_timeout, update)
    except (TraceError, RegistryError) as error:
        raise ui.fail(str(error)) from None
    except MalformedEvent as error:
        raise ui.fail(f"{trace}: {error}") from None
    report = outcome.report
    if as_json:
        doc = {
            "trace": str(trace),
            "events": report.events,
            "seconds": round(report.seconds, 3),
            "checkers": report.checkers,
            "violations": [v.to_json() for v in report.violations],
            "linearizability": outcome.lin_verdict or None,
            "ok": outcome.ok,
        }
        ui.out.print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(), markup=False)
    else:
        rate = report.events / report.seconds if report.seconds else 0.0
        ui.out.print(
            f"{report.events} events, {len(report.checkers)} checkers, "
            f"{report.seconds:.2f} s ({rate:,.0f} events/s)"
        )
        for name, found in report.by_checker().items():
            mark = "[green]ok[/]" if not found else f"[red]{len(found)} violation(s)[/]"
            ui.out.print(f"  {name:<28} {mark}")
        for violation in report.violations:
            ui.out.print()
            ui.out.print(violation.describe(), markup=False)
        if report.suppressed:
            ui.out.print(f"({report.suppressed} more violations of the same kinds not shown)")
        if outcome.lin_verdict:
            from rich.markup import escape

            color = "green" if outcome.lin_verdict == "linearizable" else "red"
            ui.out.print(
                f"client history ({len(outcome.history)} events): [{color}]{outcome.lin_verdict}[/]"
                + (f", report {escape(str(outcome.lin_html))}" if outcome.lin_html else "")
            )
            if outcome.lin_verdict == "not-linearizable":
                ui.out.print(outcome.lin_explanation, markup=False)
        verdict = "[bold green]PASS[/]" if outcome.ok else "[bold red]FAIL[/]"
        ui.out.print(f"verdict: {verdict}")
    if outcome.lin_verdict == "unknown" and report.ok:
        return None
    return outcome.ok
