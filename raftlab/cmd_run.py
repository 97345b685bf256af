"""``raftlab run``: the whole experiment in one command (what ``make run`` does)."""

from __future__ import annotations

from pathlib import Path

import typer

from raftlab import ui

RUN_HELP = """Simulate a faulty cluster with membership changes, check it, replay it, report.

Everything goes to one directory (default runs/seed<SEED>-<FAULTS>/):
trace.jsonl, history.jsonl (the clients' operations), linearizability.html
and report.md. The last line printed is the report's path.

Exit codes: 0 every check passed, 1 something failed (see the report),
2 bad arguments.

Example:

  raftlab run --seed 3 --faults chaos --duration 60
"""


def run(
    nodes: int = typer.Option(5, "--nodes", "-n", help="Initial number of voters."),
    seed: int = typer.Option(1, "--seed", "-s", help="Seed of every random choice."),
    duration: float = typer.Option(30.0, "--duration", "-d", help="Simulated seconds."),
    faults: str = typer.Option("default", "--faults", "-f", help="Fault profile name."),
    membership: str = typer.Option(
        "random", "--membership", "-m", help="random, none or a script."
    ),
    out_dir: Path = typer.Option(None, "--out-dir", help="Where to put the run's files."),
    read_mode: str = typer.Option(
        "index", "--read-mode", help="How leaders serve reads: 'index' (ReadIndex) or 'lease'."
    ),
) -> None:
    from raftlab.cmd_sim import check_membership, simulate_and_summarize
    from raftlab.experiment import check_trace, replay_file, write_history, write_report
    from sim import SimConfig, get_profile, raft_config_for

    try:
        profile = get_profile(faults)
        raft = raft_config_for(profile, read_mode)
        config = SimConfig(nodes=nodes, seed=seed, duration_s=duration, profile=profile, raft=raft)
        config.validate()
    except ValueError as error:
        raise ui.fail(str(error)) from None
    check_membership(membership)
    directory = out_dir or Path("runs") / f"seed{seed}-{faults}"
    if directory.exists() and not directory.is_dir():
        raise ui.fail(f"--out-dir: {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    trace = directory / "trace.jsonl"
    stats = simulate_and_summarize(config, membership, trace)
    with ui.progress_bar("checking", None, " events") as update:
        outcome = check_trace(trace, html=directory / "linearizability.html", progress=update)
    write_history(outcome.history, directory / "history.jsonl")
    with ui.progress_bar("replaying", None, " events") as update:
        replayed = replay_file(trace, update)
    report = directory / "report.md"
    write_report(report, trace, stats, outcome, replayed)
    checks = outcome.report
    ui.out.print(
        f"invariants: {len(checks.checkers)} checkers over {checks.events} events, "
        f"{len(checks.violations)} violation(s)"
    )
    ui.out.print(f"linearizability: {outcome.lin_verdict or 'no client history'}")
    ui.out.print(f"replay: {'deterministic' if replayed.ok else 'DIVERGED'}")
    passed = outcome.ok and replayed.ok
    ui.out.print("verdict: " + ("[bold green]PASS[/]" if passed else "[bold red]FAIL[/]"))
    ui.out.print(f"trace: {trace}", markup=False)
    ui.out.print(f"report: {report}", markup=False)
    if not passed:
        raise typer.Exit(1)
