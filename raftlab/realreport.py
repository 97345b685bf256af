"""The Markdown report of ``raftlab run`` on real processes.

Same shape as the simulated run's report (raftlab/report.py, whose
invariant and linearizability sections it shares): the command, the
verdict and what it rests on, then the faults as they were carried out,
the client load, the checkers on the merged trace, the client history and
the replay of every node's own trace. File names are relative to the run
directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import raftlab
from raftlab.outputs import write_atomic
from raftlab.report import invariants_section, linearizability_section, relative, run_verdict

if TYPE_CHECKING:
    from raftlab.experiment import CheckOutcome
    from raftlab.realrun import RealRunConfig, RealRunOutcome
    from traces.replay import ReplayReport


@dataclass(slots=True, frozen=True)
class RealReportInputs:
    command: str
    config: RealRunConfig
    run: RealRunOutcome
    trace: Path
    events: int
    outcome: CheckOutcome
    replays: list[tuple[Path, ReplayReport]]
    files: dict[str, Path]
    base: Path


def render(inputs: RealReportInputs) -> str:
    config, run, outcome, base = inputs.config, inputs.run, inputs.outcome, inputs.base
    load = run.load
    verdict = run_verdict(outcome, (r for _, r in inputs.replays))
    lines = [
        "# raftlab run report (real processes)",
        "",
        "Reproduce with:",
        "",
        "```sh",
        inputs.command,
        "```",
        "",
        f"raftlab {raftlab.__version__} · {config.nodes} node processes on 127.0.0.1 · "
        f"seed {config.seed} · {config.duration_s:g} s of load from {config.clients} clients · "
        f"trace level `{config.trace_level}` · fsync {'on' if config.fsync else 'off'}",
        "",
        f"**Verdict: {verdict}** (invariants: {outcome.verdict}, linearizability: "
        f"{outcome.lin_verdict or 'no client history'}, replay of "
        f"{len(inputs.replays)} node trace(s))",
        "",
        "## Files",
        "",
        *(f"- {role}: `{relative(path, base)}`" for role, path in inputs.files.items()),
        "",
        "## Faults, as carried out",
        "",
        "| at | what |",
        "|---|---|",
        *(f"| {f.at_s:.2f} s | {f.what.replace('|', '/')} |" for f in run.faults),
        "",
        "## Client load",
        "",
        f"{load.ops} operations in {load.seconds:.1f} s ({load.throughput:.0f}/s): "
        f"{load.ok} ok, {load.fail} failed, {load.info} with unknown outcome. Latency "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in load.latency_ms.items()),
        "",
        f"The per-node traces, the environment trace and the history were merged by "
        f"causality into `{inputs.trace.name}` ({inputs.events} events).",
        "",
    ]
    lines += invariants_section(outcome, inputs.trace)
    lines += linearizability_section(outcome, inputs.files.get("linearizability"), base)
    lines += ["", "## Replay of each node's trace", ""]
    if not inputs.replays:
        lines.append("Not replayed: the nodes traced at level `state` (replay needs `full`).")
    for path, report in inputs.replays:
        lines.append(f"- `{relative(path, base)}`: {report.verdict.lower()} ({report.steps} steps)")
        if not report.ok:
            lines += ["", "```", *report.explain(), "```"]
    return "\n".join(lines) + "\n"


def write_real_report(path: Path, inputs: RealReportInputs) -> Path:
    return write_atomic(path, render(inputs).encode())
