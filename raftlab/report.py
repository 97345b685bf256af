"""The Markdown report of ``raftlab run``: what a person reads first.

It opens with the command that reproduces the run and the facts that
identify it (version, seed, nodes, faults, duration), then the verdict and
what it rests on. Violations of one checker are grouped: the first is shown
in full with the nodes' state after the step that witnessed it (folded from
the trace, not taken from the checker), the rest by their events.
File names are relative to the run directory, so the report stays true
when the directory is moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import raftlab
from raftlab.outputs import write_atomic
from raftlab.summary import RunInfo, summary_lines
from traces.projection import Projection
from traces.reader import open_trace
from traces.schema import STATE_FIELDS, actor_node

if TYPE_CHECKING:
    from checkers import Violation
    from raftlab.experiment import CheckOutcome
    from sim import SimConfig, SimStats
    from traces.replay import ReplayReport

#: Witness seqs listed per group of repeated violations.
_SHOWN = 12


@dataclass(slots=True, frozen=True)
class ReportInputs:
    trace: Path
    config: SimConfig
    membership: str
    stats: SimStats
    info: RunInfo
    outcome: CheckOutcome
    replay: ReplayReport
    files: dict[str, Path]
    """What the run wrote, by role (``trace``, ``history``...), where it ends up."""
    base: Path
    """The run's directory once published: names are shown relative to it."""


def states_after(trace: Path, seqs: Iterable[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """For each seq, every node's spec-visible state once that event's step
    is over: the fold of the trace's state deltas up to the event."""
    wanted = sorted(set(seqs))
    found: dict[int, dict[str, dict[str, Any]]] = {}
    if not wanted:
        return found
    _, events = open_trace(trace)
    projection = Projection()
    pending = list(wanted)
    try:
        for event in events:
            projection.apply(event)  # an input event carries its whole step's state
            if event["act"] == "crash" and isinstance(event.get("node"), int):
                projection.nodes.setdefault(f"n{event['node']}", {})["role"] = "down"
            while pending and event["seq"] >= pending[0]:
                found[pending.pop(0)] = {n: dict(s) for n, s in projection.nodes.items()}
            if not pending:
                break
    finally:
        events.close()
    return found


def _state_line(actor: str, state: dict[str, Any]) -> str:
    parts = []
    for name in STATE_FIELDS:
        if name in state:
            value = state[name]
            if name == "conf" and isinstance(value, dict):
                value = " ".join(f"{k}={v}" for k, v in value.items() if v)
            parts.append(f"{name}={value}")
    return f"{actor}: " + ", ".join(parts)


def _groups(violations: list[Violation]) -> dict[str, list[Violation]]:
    groups: dict[str, list[Violation]] = {}
    for violation in violations:
        groups.setdefault(violation.checker, []).append(violation)
    return groups


def _distinct(violations: list[Violation]) -> list[tuple[tuple[int, ...], int]]:
    """Witness sets in order of first appearance, each with how often it recurs."""
    counts: dict[tuple[int, ...], int] = {}
    for violation in violations:
        counts[violation.witnesses] = counts.get(violation.witnesses, 0) + 1
    return list(counts.items())


def _actors_of(trace_events: dict[int, str], violation: Violation) -> list[str]:
    actors = {trace_events[s] for s in violation.witnesses if s in trace_events}
    return sorted((a for a in actors if actor_node(a) is not None), key=lambda a: int(a[1:]))


def _witness_actors(trace: Path, seqs: set[int]) -> dict[int, str]:
    """The actor of each witness event."""
    found: dict[int, str] = {}
    if not seqs:
        return found
    last = max(seqs)
    _, events = open_trace(trace)
    try:
        for event in events:
            if event["seq"] in seqs:
                found[event["seq"]] = event["n"]
            if event["seq"] >= last:
                break
    finally:
        events.close()
    return found


def invariants_section(outcome: CheckOutcome, trace: Path) -> list[str]:
    """The report's invariant section (simulated and real runs alike)."""
    report = outcome.report
    lines = [
        "## Invariants",
        "",
        f"{report.events} events checked by {len(report.checkers)} checkers "
        f"in {report.seconds:.2f} s.",
        "",
    ]
    warned = report.warnings_by_checker()
    for name, found in report.by_checker().items():
        mark = "ok" if not found else f"{len(found)} violation(s)"
        if warned.get(name):
            mark = f"{len(warned[name])} liveness warning(s)"
        lines.append(f"- `{name}`: {mark}")
    groups = _groups(report.violations)
    firsts = [group[0] for group in groups.values()]
    last_witness = {id(v): max(v.witnesses, default=0) for v in firsts}
    states = states_after(trace, last_witness.values()) if firsts else {}
    actors = _witness_actors(trace, {s for v in firsts for s in v.witnesses})
    for checker, group in groups.items():
        first = group[0]
        lines += ["", f"### `{checker}`: {len(group)} violation(s)", "", "```", first.describe()]
        seq = last_witness[id(first)]
        who = _actors_of(actors, first) or sorted(states.get(seq, {}), key=lambda a: int(a[1:]))
        if seq in states and who:
            lines += ["", f"state after the step of event {seq}:"]
            lines += [f"  {_state_line(a, states[seq][a])}" for a in who if a in states[seq]]
        lines.append("```")
        rest = _distinct(group[1:])
        if rest:
            shown = "; ".join(
                "events " + ", ".join(map(str, seqs)) + (f" ({n} times)" if n > 1 else "")
                for seqs, n in rest[:_SHOWN]
            )
            more = f" and {len(rest) - _SHOWN} more" if len(rest) > _SHOWN else ""
            lines += ["", f"{len(group) - 1} more like it: {shown}{more}."]
    if report.suppressed:
        lines += ["", f"({report.suppressed} more findings of the same kinds not recorded.)"]
    return lines + _warnings(outcome)


def _warnings(outcome: CheckOutcome) -> list[str]:
    """Liveness warnings, apart from the safety violations above: they make
    a run suspicious, not wrong (unless --strict-liveness was asked for)."""
    found = outcome.report.warnings
    if not found:
        return []
    lines = ["", "## Liveness warnings", "", f"{len(found)} warning(s): {outcome.warning_rule()}."]
    lines += ["", "```"]
    for warning in found:
        lines.append(warning.describe())
    return [*lines, "```"]


def linearizability_section(outcome: CheckOutcome, page: Path | None, base: Path) -> list[str]:
    if not outcome.lin_verdict:
        return []
    lines = ["", "## Linearizability", "", f"Client history: {outcome.lin_verdict}."]
    if page is not None:
        lines.append(f"HTML report: `{relative(page, base)}`")
    if outcome.lin_verdict != "linearizable":
        lines += ["", "```", outcome.lin_explanation, "```"]
    return lines


def relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def run_verdict(outcome: CheckOutcome, replays: Iterable[ReplayReport]) -> str:
    """A run's verdict from its checks and its replays (one for a simulated
    run, one per node trace for a real one): PASS, FAIL (a violation, or a
    trace that does not replay) or UNDECIDED."""
    replays = list(replays)
    if outcome.ok and all(r.ok for r in replays):
        return "PASS"
    if outcome.violated or any(r.verdict == "NOT DETERMINISTIC" for r in replays):
        return "FAIL"
    return "UNDECIDED"


def render_report(inputs: ReportInputs) -> str:
    """The report's text; file names relative to the run's directory."""
    config, outcome, replay, base = inputs.config, inputs.outcome, inputs.replay, inputs.base
    verdict = run_verdict(outcome, [replay])
    lines = [
        "# raftlab run report",
        "",
        "Reproduce with:",
        "",
        "```sh",
        inputs.info.command,
        "```",
        "",
        f"raftlab {raftlab.__version__} · seed {config.seed} · {config.nodes} nodes · "
        f"faults `{config.profile.name}` · {config.duration_s:g} simulated seconds · "
        f"membership `{inputs.membership}`",
        "",
        f"**Verdict: {verdict}** (invariants: {outcome.verdict}, replay: {replay.verdict})",
        "",
    ]
    for note in outcome.notes():
        lines += [f"> {note}", ""]
    lines += ["## Files", ""]
    lines += [f"- {role}: `{relative(path, base)}`" for role, path in inputs.files.items()]
    lines += ["", "## Run", "", "| | |", "|---|---|"]
    rows = [(k, v) for k, v in summary_lines(inputs.stats, inputs.info) if k != "reproduce"]
    shown = inputs.info.trace
    lines += [f"| {label} | {_cell(label, value, base, shown)} |" for label, value in rows]
    lines.append("")
    lines += invariants_section(outcome, inputs.trace)
    lines += linearizability_section(outcome, inputs.files.get("linearizability"), base)
    lines += ["", "## Deterministic replay", ""]
    if replay.ok:
        lines.append(f"{replay.steps} node steps replayed; every effect and digest matched.")
    else:
        lines += [f"Verdict: {replay.verdict}.", "", "```", *replay.explain(), "```"]
    return "\n".join(lines) + "\n"


def _cell(label: str, value: str, base: Path, trace: Path) -> str:
    if label == "trace":
        value = value.replace(str(trace), relative(trace, base), 1)
    return value.replace("|", "\\|")


def write_report(path: Path, inputs: ReportInputs) -> Path:
    return write_atomic(path, render_report(inputs).encode())
