"""``raftlab check``: run every registered checker over a trace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from raftlab.experiment import CheckOutcome

CHECK_HELP = """Check a trace against every invariant, and its client history for linearizability.

Invariants: the five safety properties of the Raft paper (Election Safety,
Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety),
monotonic commit and apply, and the membership invariants (at most one change
pending, joint decisions need both majorities, learners never vote or count,
no campaign with unapplied changes). `--list` names them all, plug-ins too.
The spec checker runs beside them: spec/RaftReconfig.tla's invariants on
every projected state (docs/spec-checking.md); `--no-spec` leaves it out.

A violation names the invariant, the events that witness it (their seq
numbers in the trace) and the nodes' state, in plain words. The trace's
closing record is verified too: a cut file is reported as `TRUNCATED at seq
N`, a file changed after it was written as `TAMPERED`, never as PASS. TRACE
may be gzip-compressed, or `-` for standard input. Nothing is written unless
asked: `--html` writes the linearizability report.

Liveness checkers (a leader, commits and leader transfers within a few
election timeouts of a fault-free window; no terms rising without elections)
report warnings, printed apart from violations: a warning alone leaves the
verdict PASS unless --strict-liveness is given.

Exit codes: 0 every check passed, 1 a violation (or a non-linearizable
history, or with --strict-liveness a liveness warning), 2 bad input
(unreadable, truncated, tampered or empty trace) or an undecided
linearizability check.

Examples:

  raftlab check run.jsonl

  raftlab check run.jsonl --checker election-safety --checker log-matching --json

  raftlab sim --out - --no-check | raftlab check -
"""


def check(
    trace: Path = typer.Argument(
        None, help="A trace written by `raftlab sim` or a node (.jsonl, .jsonl.gz, or - for stdin)."
    ),
    checker: list[str] = typer.Option(
        None, "--checker", "-c", help="Run only this checker (repeatable)."
    ),
    list_checkers: bool = typer.Option(False, "--list", help="List the registered checkers."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    html: Path = typer.Option(
        None, "--html", help="Also write the linearizability report (HTML) to this file."
    ),
    lin_timeout: float = typer.Option(60.0, help="Seconds allowed for the linearizability check."),
    strict_liveness: bool = typer.Option(
        False, "--strict-liveness", help="A liveness warning fails the check too (exit 1)."
    ),
    spec: bool = typer.Option(
        True,
        "--spec/--no-spec",
        help="Also check spec/RaftReconfig.tla's invariants (docs/spec-checking.md).",
    ),
) -> None:
    if list_checkers:
        list_all(as_json)
        return
    if trace is None:
        raise ui.fail("which trace? `raftlab check TRACE` (or `--list` for the checkers)")
    from raftlab.options import check_positive
    from raftlab.outputs import OutputError, check_output_file

    try:
        check_positive("--lin-timeout", lin_timeout, "seconds")
        if html is not None:
            check_output_file(html, "--html")
    except (ValueError, OutputError) as error:
        raise ui.fail(str(error)) from None
    if html is not None and checker:
        ui.note("--html is not written: linearizability is checked only when every checker runs")
    outcome = run_check(trace, checker or None, html, lin_timeout, strict_liveness, spec)
    if as_json:
        ui.print_json(check_doc(trace, outcome))
    else:
        print_check(outcome)
    raise typer.Exit(outcome.exit_code)


def list_all(as_json: bool) -> None:
    from checkers import default_registry

    infos = default_registry().infos()
    if as_json:
        ui.print_json(
            [{"name": i.name, "invariant": i.invariant, "summary": i.summary} for i in infos]
        )
    else:
        ui.out.print(ui.table([(i.name, f"{i.invariant}: {i.summary}") for i in infos]))


def run_check(
    trace: Path,
    names: list[str] | None = None,
    html: Path | None = None,
    lin_timeout: float = 60.0,
    strict_liveness: bool = False,
    spec: bool = False,
) -> CheckOutcome:
    """Check a trace with a progress bar; bad input is one error line, exit 2."""
    from checkers import MalformedEvent, RegistryError
    from raftlab.experiment import check_trace
    from traces.reader import TraceError

    try:
        with (
            ui.no_verdict_on_interrupt("checking"),
            ui.io_errors(),
            ui.progress_bar("checking", None, " events") as update,
        ):
            return check_trace(trace, names, html, lin_timeout, update, strict_liveness, spec)
    except (TraceError, RegistryError) as error:
        raise ui.fail(str(error)) from None
    except MalformedEvent as error:
        raise ui.fail(f"{trace}: {error}") from None


def check_doc(trace: Path, outcome: CheckOutcome) -> dict[str, Any]:
    """The result as JSON: the same facts as ``print_check``."""
    report = outcome.report
    files = {"linearizability_html": str(outcome.lin_html)} if outcome.lin_html else {}
    return {
        "trace": str(trace),
        "events": report.events,
        "seconds": round(report.seconds, 3),
        "checkers": report.checkers,
        "violations": [v.to_json() for v in report.violations],
        "suppressed": report.suppressed,
        "warnings": [w.to_json() for w in report.warnings],
        "strict_liveness": outcome.strict_liveness,
        "linearizability": outcome.lin_verdict or None,
        "client_events": len(outcome.history),
        "integrity": outcome.integrity.to_json() if outcome.integrity else None,
        "notes": outcome.notes(),
        "verdict": outcome.verdict,
        "ok": outcome.ok,
        "files": files,
    }


def print_check(outcome: CheckOutcome) -> None:
    from rich.markup import escape

    report = outcome.report
    rate = report.events / report.seconds if report.seconds else 0.0
    ui.out.print(
        f"{report.events} events, {len(report.checkers)} checkers, "
        f"{report.seconds:.2f} s ({rate:,.0f} events/s)"
    )
    warned = report.warnings_by_checker()
    for name, found in report.by_checker().items():
        mark = "[green]ok[/]" if not found else f"[red]{len(found)} violation(s)[/]"
        if warned.get(name):
            mark = f"[yellow]{len(warned[name])} liveness warning(s)[/]"
        ui.out.print(f"  {name:<28} {mark}")
    for violation in report.violations:
        ui.out.print()
        ui.out.print(violation.describe(), markup=False)
    if report.suppressed:
        ui.out.print(f"({report.suppressed} more findings of the same kinds not shown)")
    if report.warnings:
        ui.out.print()
        ui.out.print(f"liveness warnings: {len(report.warnings)} ({outcome.warning_rule()})")
        for warning in report.warnings:
            ui.out.print(warning.describe(), markup=False)
    if outcome.lin_verdict:
        color = "green" if outcome.lin_verdict == "linearizable" else "red"
        ui.out.print(
            f"client history ({len(outcome.history)} events): [{color}]{outcome.lin_verdict}[/]"
            + (f", report {escape(str(outcome.lin_html))}" if outcome.lin_html else "")
        )
        if outcome.lin_verdict == "not-linearizable":
            ui.out.print(outcome.lin_explanation, markup=False)
    integrity = outcome.integrity
    if integrity is not None and integrity.ok:
        ui.out.print(f"trace {integrity.message}", markup=False)
    for note in outcome.notes():
        ui.out.print(note, markup=False)
    verdict = outcome.verdict
    color = {"PASS": "green", "FAIL": "red"}.get(verdict, "yellow")
    ui.out.print(f"verdict: [bold {color}]{verdict}[/]")
