"""``raftlab sim``: simulate a cluster with faults and write its trace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from raftlab import ui

if TYPE_CHECKING:
    from sim import SimConfig, SimStats

SIM_HELP = """Simulate a Raft cluster under faults, deterministically, and write its trace.

The run is a function of its arguments: the same seed gives the same trace,
byte for byte, on any machine. The summary lists the leaders of every term,
the commit index reached, the faults injected, the membership changes, the
client operations and the invariant violations found.

Fault profiles: none, default, lossy, partitions, crashes, slow-disk, stalls,
pauses, skew, chaos, swarm (`raftlab sim --list-faults` describes them).

Reads are ReadIndex reads by default; --read-mode lease serves them from the
leader's lease (the lease margin is sized for the profile's clock drift).

Exit codes: 0 the run passed every check (or --no-check), 1 a violation or a
non-linearizable history, 2 bad arguments or an undecided linearizability check.

Examples:

  raftlab sim --seed 7 --out run.jsonl

  raftlab sim --nodes 3 --faults chaos --duration 60 --membership none --out chaos.jsonl
"""


def sim(
    nodes: int = typer.Option(5, "--nodes", "-n", help="Initial number of voters (1-64)."),
    seed: int = typer.Option(1, "--seed", "-s", help="Seed of every random choice in the run."),
    duration: float = typer.Option(30.0, "--duration", "-d", help="Simulated seconds."),
    faults: str = typer.Option("default", "--faults", "-f", help="Fault profile name."),
    membership: str = typer.Option(
        "random",
        "--membership",
        "-m",
        help="Who changes the membership: 'random', 'none', or a JSON script file "
        "(see docs/simulation.md).",
    ),
    out: Path = typer.Option(Path("trace.jsonl"), "--out", "-o", help="Where to write the trace."),
    clients: int = typer.Option(5, help="Concurrent clients."),
    rate: float = typer.Option(100.0, help="Client operations per simulated second."),
    keys: int = typer.Option(8, help="Distinct keys the clients use."),
    read_mode: str = typer.Option(
        "index", "--read-mode", help="How leaders serve reads: 'index' (ReadIndex) or 'lease'."
    ),
    check: bool = typer.Option(True, "--check/--no-check", help="Check the trace afterwards."),
    list_faults: bool = typer.Option(False, "--list-faults", help="Describe the fault profiles."),
) -> None:
    from sim import PROFILES, SimConfig, WorkloadConfig, get_profile, raft_config_for

    if list_faults:
        ui.out.print(ui.table([(p.name, p.description) for p in PROFILES.values()]))
        return
    try:
        profile = get_profile(faults)
        config = SimConfig(
            nodes=nodes,
            seed=seed,
            duration_s=duration,
            profile=profile,
            raft=raft_config_for(profile, read_mode),
            workload=WorkloadConfig(clients=clients, rate=rate, keys=keys),
        )
        config.validate()
    except ValueError as error:
        raise ui.fail(str(error)) from None
    if out.is_dir():
        raise ui.fail(f"--out: {out} is a directory; give the trace file's path")
    check_membership(membership)
    simulate_and_summarize(config, membership, out)
    ui.out.print(f"trace: {out}", markup=False)
    if check:
        from raftlab.cmd_check import report_check

        passed = report_check(out)
        if passed is None:
            raise typer.Exit(2)
        if not passed:
            raise typer.Exit(1)


def check_membership(spec: str) -> None:
    """Fail early on a --membership that is neither a keyword nor a file."""
    if spec not in ("random", "none") and not Path(spec).is_file():
        raise ui.fail(f"--membership: {spec!r} is not 'random', 'none' or a script file")


def simulate_and_summarize(config: SimConfig, membership: str, out: Path) -> SimStats:
    """Simulate with a progress bar, write the trace and print the summary
    (shared by ``sim`` and ``run``)."""
    from raftlab.experiment import simulate, summary_lines
    from sim import ScriptError

    try:
        with ui.progress_bar("simulating", config.duration_s, " s") as update:
            stats = simulate(config, membership, out, update)
    except ScriptError as error:
        raise ui.fail(str(error)) from None
    title = (
        f"seed {config.seed}, {config.nodes} nodes, faults {config.profile.name}, "
        f"{config.raft.read_mode.value} reads"
    )
    ui.out.print(ui.table(summary_lines(stats), title=title))
    return stats
