"""The experiment runner: simulate, check, replay, report.

Every command of the CLI is a thin shell over these functions, so that a
run started with ``raftlab run`` and the same steps done by hand with
``raftlab sim``/``check``/``replay`` give identical results.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from checkers import CheckReport, collect_client_events, default_registry, run_checkers
from consensus.replayer import CoreReplayer
from sim import (
    MembershipActor,
    NoActor,
    RandomActor,
    SimConfig,
    SimStats,
    Simulation,
    load_script,
)
from traces.reader import open_trace
from traces.recorder import FileRecorder, make_header
from traces.replay import ReplayReport, replay_trace

Progress = Callable[[float], None]


def make_actor(
    spec: str, seed: int, nodes: int, duration_s: float | None = None
) -> MembershipActor:
    """``random`` (the default), ``none``, or the path of a JSON script (checked
    against the initial ``nodes`` and the run's ``duration_s``)."""
    if spec == "none":
        return NoActor()
    if spec == "random":
        return RandomActor(random.Random(seed * 31 + 17), first_new_id=nodes + 1)
    return load_script(spec, nodes=nodes, duration_s=duration_s)


def simulate(
    config: SimConfig, membership: str, out: Path, progress: Progress | None = None
) -> SimStats:
    """Run one simulation and write its trace to ``out``."""
    actor = make_actor(membership, config.seed, config.nodes, config.duration_s)
    header = make_header("raftlab-sim", **config.header_fields(), membership=membership)
    recorder = FileRecorder(out, header)
    try:
        stats = Simulation(config, recorder, actor).run(progress)
    except BaseException:
        recorder.abort()
        raise
    recorder.close()
    return stats


@dataclass(slots=True)
class CheckOutcome:
    header: dict[str, Any]
    report: CheckReport
    history: list[dict[str, Any]] = field(default_factory=list)
    lin_verdict: str = ""
    lin_explanation: str = ""
    lin_html: Path | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok and self.lin_verdict in ("", "linearizable")


def check_trace(
    path: Path,
    names: list[str] | None = None,
    html: Path | None = None,
    lin_timeout: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> CheckOutcome:
    """Every registered checker over the trace, then linearizability of the
    client history it contains (if any)."""
    header, events = open_trace(path)
    checkers = default_registry().create(header, names)
    history: list[dict[str, Any]] = []
    report = run_checkers(collect_client_events(events, history), checkers, progress)
    outcome = CheckOutcome(header, report, history)
    if history and names is None:
        _check_history(outcome, html, lin_timeout)
    return outcome


def _check_history(outcome: CheckOutcome, html: Path | None, timeout: float) -> None:
    from checkers.linearizability import check, history_from_records, write_html

    result = check(history_from_records(outcome.history), model="kv", timeout=timeout)
    outcome.lin_verdict = str(result.verdict)
    outcome.lin_explanation = result.explain()
    if html is not None:
        write_html(result, html)
        outcome.lin_html = html


def write_history(records: list[dict[str, Any]], path: Path) -> None:
    """The client history as JSON Lines (docs/history-format.md)."""
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def replay_file(path: Path, progress: Callable[[int], None] | None = None) -> ReplayReport:
    header, events = open_trace(path)
    return replay_trace(events, CoreReplayer(header), progress)


def summary_lines(stats: SimStats) -> list[tuple[str, str]]:
    """The run summary as (label, value) rows."""
    leaders = ", ".join(
        f"{term}:{'/'.join(f'n{n}' for n in nodes)}"
        for term, nodes in sorted(stats.leaders.items())
    )
    faults = ", ".join(f"{k} {v}" for k, v in sorted(stats.faults.items())) or "none"
    ops = ", ".join(f"{k} {v}" for k, v in sorted(stats.ops.items())) or "none"
    changes = "; ".join(stats.membership) or "none"
    return [
        ("simulated", f"{stats.sim_seconds:.1f} s, {stats.steps} node steps"),
        ("leaders per term", leaders or "none"),
        ("commit index", str(stats.commit)),
        ("faults injected", faults),
        ("membership changes", changes),
        ("final membership", stats.final_membership),
        ("client operations", ops),
    ]


def write_report(
    path: Path,
    trace: Path,
    stats: SimStats | None,
    outcome: CheckOutcome,
    replay: ReplayReport | None,
) -> None:
    """A Markdown report a person can read top to bottom."""
    lines = ["# raftlab run report", "", f"Trace: `{trace}`", ""]
    verdict = "PASS" if outcome.ok and (replay is None or replay.ok) else "FAIL"
    lines += [f"**Verdict: {verdict}**", ""]
    if stats is not None:
        lines += ["## Run", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {value} |" for label, value in summary_lines(stats)]
        lines.append("")
    report = outcome.report
    lines += [
        "## Invariants",
        "",
        f"{report.events} events checked by {len(report.checkers)} checkers "
        f"in {report.seconds:.2f} s.",
        "",
    ]
    for name, found in report.by_checker().items():
        lines.append(f"- `{name}`: " + ("ok" if not found else f"{len(found)} violation(s)"))
    for violation in report.violations:
        lines += ["", "```", violation.describe(), "```"]
    if outcome.lin_verdict:
        lines += ["", "## Linearizability", "", f"Client history: {outcome.lin_verdict}."]
        if outcome.lin_html is not None:
            lines.append(f"HTML report: `{outcome.lin_html}`")
        if outcome.lin_verdict != "linearizable":
            lines += ["", "```", outcome.lin_explanation, "```"]
    if replay is not None:
        lines += ["", "## Deterministic replay", ""]
        if replay.ok:
            lines.append(f"{replay.steps} node steps replayed; every effect and digest matched.")
        else:
            assert replay.divergence is not None
            lines += ["```", replay.divergence.describe(), "```"]
    path.write_text("\n".join(lines) + "\n")
