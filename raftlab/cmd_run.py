"""``raftlab run``: the whole experiment in one command (what ``make run`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from raftlab.rundir import RunDir
    from sim import SimConfig

#: The files of a run directory, by role.
FILES = {
    "trace": "trace.jsonl",
    "history": "history.jsonl",
    "linearizability": "linearizability.html",
    "report": "report.md",
}

RUN_HELP = """Run the main job: a real cluster under faults (or a simulated one), checked.

By default it starts a local cluster of node processes on 127.0.0.1 (3
nodes, fsync on), drives a client workload for --duration seconds through a
leader SIGKILL, its restart, a partition isolating the new leader, the heal
and a clean restart of a follower; then merges the nodes' traces, the fault
trace and the client history by causality, runs every invariant checker on
the merged trace, the linearizability checker on the client operations, and
replays each node's own trace on a fresh core.

With --sim it simulates instead: a faulty cluster with membership changes
(--faults, --membership, --read-mode, --unsafe), deterministic for a seed; --duration
is then simulated seconds.

Each run gets a directory of its own, runs/<UTC time>-seed<SEED>-<KIND>-n<NODES>/,
and runs/latest links to the newest. It holds trace.jsonl, history.jsonl
(the clients' operations), linearizability.html and report.md, which opens
with the command that reproduces the run (a real run also keeps cluster/:
each node's WAL, log and per-node traces). The run is built in a hidden
directory and moved into place when complete, so an interrupted run never
mixes with an earlier one. --out-dir DIR puts it in DIR instead (new, empty,
or holding an earlier run, which is replaced as a whole). The last lines
printed are the verdict, the trace's path and the report's path.

Liveness warnings (no leader, commit or completed transfer within its bound
in a fault-free window, terms rising without elections) are printed and
reported apart from violations; they fail the run only with
--strict-liveness.

Exit codes: 0 every check passed, 1 a violation (see the report) or, with
--strict-liveness, a liveness warning, 2 bad arguments, an undecided check,
or a failure to write.

Examples:

  raftlab run                                   real processes, 3 nodes, 20 s
  raftlab run --sim --seed 3 --faults chaos --duration 60
"""


def run(
    sim: bool = typer.Option(False, "--sim", help="Simulate instead of running real processes."),
    nodes: int = typer.Option(
        None, "--nodes", "-n", help="Initial number of voters (default 3 real, 5 simulated)."
    ),
    seed: int = typer.Option(1, "--seed", "-s", help="Seed of every random choice."),
    duration: float = typer.Option(
        None, "--duration", "-d", help="Seconds of load (default 20), or simulated (default 30)."
    ),
    clients: int = typer.Option(8, "--clients", help="Concurrent clients (real runs)."),
    trace_level: str = typer.Option(
        "full", "--trace-level", help="What real nodes trace: full (replayable) or state."
    ),
    faults: str = typer.Option(
        None, "--faults", "-f", help="Fault profile name (--sim; default 'default')."
    ),
    membership: str = typer.Option(
        None, "--membership", "-m", help="random, none or a script (--sim; default random)."
    ),
    out_dir: Path = typer.Option(
        None, "--out-dir", help="Where to put the run's files (default: a new runs/ directory)."
    ),
    read_mode: str = typer.Option(
        None,
        "--read-mode",
        help="How leaders serve reads (--sim): 'index' (ReadIndex, the default) or 'lease'.",
    ),
    unsafe: list[str] = typer.Option(
        [],
        "--unsafe",
        help="Switch on an unsafe mode (--sim; a planted bug; repeatable; "
        "`raftlab sim --list-unsafe` names them).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
    strict_liveness: bool = typer.Option(
        False, "--strict-liveness", help="A liveness warning fails the run too (exit 1)."
    ),
) -> None:
    if not sim:
        from raftlab.realrun import RealRunConfig

        given = [
            n
            for n, v in (
                ("--faults", faults),
                ("--membership", membership),
                ("--read-mode", read_mode),
                ("--unsafe", unsafe or None),
            )
            if v is not None
        ]
        if given:
            raise ui.fail(
                f"{', '.join(given)} {'describes' if len(given) == 1 else 'describe'} a "
                "simulated run: add --sim (a real run's "
                "faults are its fixed plan: leader SIGKILL, restart, partition, heal, restart)"
            )
        real = RealRunConfig(
            nodes=3 if nodes is None else nodes,
            seed=seed,
            duration_s=20.0 if duration is None else duration,
            clients=clients,
            trace_level=trace_level,
        )
        _run_real(real, out_dir, as_json, strict_liveness)
    nodes = 5 if nodes is None else nodes
    duration = 30.0 if duration is None else duration
    faults = faults or "default"
    membership = membership or "random"
    read_mode = read_mode or "index"
    from raftlab import rundir
    from raftlab.cmd_sim import check_membership
    from raftlab.options import check_sim_values, sim_warnings
    from raftlab.outputs import OutputError
    from sim import SimConfig, WorkloadConfig

    defaults = WorkloadConfig()
    try:
        check_sim_values(seed, duration, defaults.clients, defaults.rate, defaults.keys)
        config = SimConfig.for_faults(
            faults,
            read_mode=read_mode,
            unsafe=tuple(unsafe),
            nodes=nodes,
            seed=seed,
            duration_s=duration,
        )
        config.validate()
        plan = rundir.plan(out_dir, rundir.run_name(seed, faults, nodes))
    except (ValueError, OutputError) as error:
        raise ui.fail(str(error)) from None
    check_membership(membership)
    for warning in sim_warnings(config):
        ui.warn(warning)
    try:
        with ui.io_errors():
            rundir.create(plan)
            doc = _run_in(plan, config, membership, out_dir, as_json, strict_liveness)
    except KeyboardInterrupt:
        where = f"; {plan.base / rundir.LATEST} still names the previous run" if plan.base else ""
        raise ui.fail(f"interrupted: the unfinished run is in {plan.staging}{where}") from None
    if as_json:
        ui.print_json(doc)
    raise typer.Exit(doc["exit_code"])


def _print_outcome(outcome: Any, replay_line: str, verdict: str, files: dict[str, Path]) -> None:
    """The last lines of a run (simulated or real): the checks, the verdict
    and where the trace and the report are."""
    checks = outcome.report
    ui.out.print(
        f"invariants: {len(checks.checkers)} checkers over {checks.events} events, "
        f"{len(checks.violations)} violation(s), {len(checks.warnings)} liveness warning(s)"
    )
    if checks.warnings:
        ui.out.print(f"  ({outcome.warning_rule()}; see the report)")
        for warning in checks.warnings:
            ui.out.print(f"  {warning.describe().splitlines()[0]}", markup=False)
    ui.out.print(f"linearizability: {outcome.lin_verdict or 'no client history'}")
    ui.out.print(replay_line)
    color = {"PASS": "green", "FAIL": "red"}.get(verdict, "yellow")
    ui.out.print(f"verdict: [bold {color}]{verdict}[/]")
    ui.out.print(f"trace: {files['trace']}", markup=False)
    ui.out.print(f"report: {files['report']}", markup=False)


def _run_in(
    plan: RunDir,
    config: SimConfig,
    membership: str,
    out_dir: Path | None,
    as_json: bool,
    strict_liveness: bool = False,
) -> dict[str, Any]:
    """Simulate, check, replay and report into the staging directory, then
    publish it; the JSON document of the outcome."""
    from consensus.replayer import ReplayError
    from raftlab import rundir
    from raftlab.cmd_check import check_doc
    from raftlab.cmd_sim import simulate_and_summarize
    from raftlab.experiment import check_trace, replay_file, write_history
    from raftlab.report import ReportInputs, run_verdict, write_report
    from raftlab.summary import reproduce_command, summary_fields
    from traces.reader import TraceError

    staging, final, names = plan.staging, plan.final, FILES
    command = reproduce_command("run", config, membership, out_dir)
    trace = staging / names["trace"]
    stats, info = simulate_and_summarize(
        config,
        membership,
        trace,
        "run",
        show=not as_json,
        shown_trace=final / names["trace"],
        reproduce=command,
    )
    try:
        with ui.progress_bar("checking", None, " events") as update:
            outcome = check_trace(
                trace,
                html=staging / names["linearizability"],
                progress=update,
                strict_liveness=strict_liveness,
            )
        write_history(outcome.history, staging / names["history"])
        with ui.progress_bar("replaying", None, " events") as update:
            replayed = replay_file(trace, update)
    except (TraceError, ReplayError) as error:
        raise ui.fail(f"the run's own trace cannot be read back: {error}") from None
    written = {role: final / name for role, name in names.items() if (staging / name).exists()} | {
        "report": final / names["report"]
    }
    write_report(
        staging / names["report"],
        ReportInputs(trace, config, membership, stats, info, outcome, replayed, written, final),
    )
    final = rundir.publish(plan)
    files = {role: final / path.name for role, path in written.items()}
    if outcome.lin_html is not None:
        outcome.lin_html = files["linearizability"]
    verdict = run_verdict(outcome, [replayed])
    if not as_json:
        _print_outcome(outcome, f"replay: {replayed.verdict.lower()}", verdict, files)
    from raftlab.cmd_replay import replay_doc

    return {
        "command": "run",
        "directory": str(final),
        "latest": str(plan.base / rundir.LATEST) if plan.base else None,
        "summary": summary_fields(stats, info) | {"trace": str(files["trace"])},
        "check": check_doc(files["trace"], outcome),
        "replay": replay_doc(files["trace"], replayed),
        "verdict": verdict,
        "ok": verdict == "PASS",
        "exit_code": {"PASS": 0, "FAIL": 1}.get(verdict, 2),
        "files": {role: str(path) for role, path in files.items()},
    }


# -- on real processes ---------------------------------------------------------------


def _run_real(config: Any, out_dir: Path | None, as_json: bool, strict_liveness: bool) -> None:
    """The real-process job (raftlab/realrun.py); exits with its code."""
    from raftlab import rundir
    from raftlab.outputs import OutputError

    try:
        config.validate()
        plan = rundir.plan(out_dir, rundir.run_name(config.seed, "real", config.nodes))
    except (ValueError, OutputError) as error:
        raise ui.fail(str(error)) from None
    try:
        with ui.io_errors():
            rundir.create(plan)
            doc = _real_in(plan, config, out_dir, as_json, strict_liveness)
    except KeyboardInterrupt:
        raise ui.fail(f"interrupted: the unfinished run is in {plan.staging}") from None
    if as_json:
        ui.print_json(doc)
    raise typer.Exit(doc["exit_code"])


def _real_command(config: Any, out_dir: Path | None) -> str:
    parts = [
        "raftlab run",
        f"--nodes {config.nodes}",
        f"--seed {config.seed}",
        f"--duration {config.duration_s:g}",
        f"--clients {config.clients}",
        f"--trace-level {config.trace_level}",
    ]
    if out_dir is not None:
        parts.append(f"--out-dir {out_dir}")
    return " ".join(parts)


def _real_in(
    plan: RunDir, config: Any, out_dir: Path | None, as_json: bool, strict_liveness: bool
) -> dict[str, Any]:
    from consensus.replayer import ReplayError
    from kv.localcluster import ClusterError
    from raftlab import rundir
    from raftlab.experiment import check_trace, replay_file
    from raftlab.realreport import RealReportInputs, write_real_report
    from raftlab.realrun import merge_run, node_traces, run_real
    from raftlab.report import run_verdict
    from traces.reader import TraceError

    staging = plan.staging
    say = (lambda text: None) if as_json else (lambda text: ui.out.print(text, markup=False))
    try:
        run = run_real(config, staging, say)
    except ClusterError as error:
        raise ui.fail(f"the cluster failed: {error}") from None
    trace = staging / FILES["trace"]
    try:
        events = merge_run(run, trace)
        with ui.progress_bar("checking", None, " events") as update:
            outcome = check_trace(
                trace,
                html=staging / FILES["linearizability"],
                progress=update,
                strict_liveness=strict_liveness,
            )
        replays = []
        if config.trace_level == "full":
            for path in node_traces(run):
                replays.append((path, replay_file(path)))
    except (TraceError, ReplayError) as error:
        raise ui.fail(f"the run's traces cannot be read back: {error}") from None
    final = plan.final
    names = {**FILES, "cluster": "cluster"}
    written = {role: final / name for role, name in names.items() if (staging / name).exists()}
    written["report"] = final / FILES["report"]
    command = _real_command(config, out_dir)
    write_real_report(
        staging / FILES["report"],
        RealReportInputs(
            command,
            config,
            run,
            trace,
            events,
            outcome,
            [(final / p.relative_to(staging), r) for p, r in replays],
            written,
            final,
        ),
    )
    final = rundir.publish(plan)
    files = {role: final / path.name for role, path in written.items()}
    verdict = run_verdict(outcome, (r for _, r in replays))
    checks = outcome.report
    if not as_json:
        shown = ", ".join(sorted({r.verdict.lower() for _, r in replays})) or "not replayed"
        _print_outcome(outcome, f"replay: {shown} ({len(replays)} node traces)", verdict, files)
    return {
        "command": "run",
        "kind": "real",
        "directory": str(final),
        "load": run.load.to_json(),
        "faults": [{"at_s": f.at_s, "what": f.what} for f in run.faults],
        "invariants": {
            "checkers": len(checks.checkers),
            "events": checks.events,
            "violations": len(checks.violations),
            "liveness_warnings": len(checks.warnings),
        },
        "linearizability": outcome.lin_verdict,
        "replay": {str(final / p.relative_to(staging)): r.verdict for p, r in replays},
        "verdict": verdict,
        "ok": verdict == "PASS",
        "exit_code": {"PASS": 0, "FAIL": 1}.get(verdict, 2),
        "files": {role: str(path) for role, path in files.items()},
    }
