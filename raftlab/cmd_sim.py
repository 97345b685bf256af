"""``raftlab sim``: simulate a cluster with faults and write its trace."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from raftlab.summary import RunInfo
    from sim import SimConfig, SimStats
    from sim.schedule import Schedule

SIM_HELP = """Simulate a Raft cluster under faults, deterministically, and write its trace.

The run is a function of its arguments: the same seed gives the same trace,
byte for byte, on any machine. The summary lists the leaders of every term
(as ranges), the commit index reached, the faults injected, the membership
changes by kind, the client operations, the wall time, the trace's size and
the command that reproduces the run; then the invariant violations found.

The trace is written under a temporary name and renamed when complete; a
name ending in .gz is written gzip-compressed; `--out -` streams it to
standard output (the summary then goes to stderr, and the trace is not
checked: pipe it to `raftlab check -`).

Fault profiles: none, default, lossy, partitions, crashes, slow-disk, stalls,
pauses, skew, chaos, swarm (`raftlab sim --list-faults` describes them).

Reads are ReadIndex reads by default; --read-mode lease serves them from the
leader's lease (the lease margin is sized for the profile's clock drift).

Unsafe modes (--unsafe MODE, repeatable) plant a known consensus bug in
every node's core, to watch a checker catch it; `raftlab sim --list-unsafe`
names them and docs/unsafe-modes.md says which checker catches each.

--schedule FILE runs a schedule file instead (docs/hunting.md: the format
`raftlab hunt` writes); it fixes everything the run options above would
(unsafe modes included), so they are ignored, and replays to the same
trace, byte for byte.

Liveness warnings are printed apart from violations and fail the run only
with --strict-liveness.

Exit codes: 0 the run passed every check (or --no-check), 1 a violation or a
non-linearizable history (or with --strict-liveness a liveness warning), 2
bad arguments or an undecided linearizability check.

Examples:

  raftlab sim --seed 7 --out run.jsonl

  raftlab sim --nodes 3 --faults chaos --duration 60 --membership none --out chaos.jsonl.gz

  raftlab sim --nodes 3 --duration 5 --faults crashes --membership none --unsafe volatile-vote
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
    out: Path = typer.Option(
        Path("trace.jsonl"),
        "--out",
        "-o",
        help="Where to write the trace (.gz: compressed; -: standard output).",
    ),
    clients: int = typer.Option(5, help="Concurrent clients."),
    rate: float = typer.Option(100.0, help="Client operations per simulated second."),
    keys: int = typer.Option(8, help="Distinct keys the clients use."),
    read_mode: str = typer.Option(
        "index", "--read-mode", help="How leaders serve reads: 'index' (ReadIndex) or 'lease'."
    ),
    unsafe: list[str] = typer.Option(
        [],
        "--unsafe",
        help="Switch on an unsafe mode (a planted bug; repeatable; see --list-unsafe).",
    ),
    check: bool = typer.Option(True, "--check/--no-check", help="Check the trace afterwards."),
    list_faults: bool = typer.Option(False, "--list-faults", help="Describe the fault profiles."),
    list_unsafe: bool = typer.Option(
        False, "--list-unsafe", help="Describe the unsafe modes and the checker catching each."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (and check) as JSON."),
    strict_liveness: bool = typer.Option(
        False, "--strict-liveness", help="A liveness warning fails the check too (exit 1)."
    ),
    schedule_file: Path | None = typer.Option(
        None,
        "--schedule",
        help="Run this schedule file (docs/hunting.md) instead of the run options.",
    ),
) -> None:
    from raftlab.options import check_sim_values, sim_warnings
    from raftlab.outputs import OutputError, check_output_file
    from sim import SimConfig, WorkloadConfig

    if list_faults:
        list_profiles(as_json)
        return
    if list_unsafe:
        list_unsafe_modes(as_json)
        return
    streaming = str(out) == "-"
    schedule = None
    try:
        if schedule_file is not None:
            from sim.schedule import load_schedule

            schedule = load_schedule(schedule_file)
            config = schedule.sim_config()
            membership = "none"
        else:
            check_sim_values(seed, duration, clients, rate, keys)
            config = SimConfig.for_faults(
                faults,
                read_mode=read_mode,
                unsafe=tuple(unsafe),
                nodes=nodes,
                seed=seed,
                duration_s=duration,
                workload=WorkloadConfig(clients=clients, rate=rate, keys=keys),
            )
        config.validate()
        check_output_file(out, "--out", stream=True)
        if streaming and as_json:
            raise ValueError("--json and --out - both want standard output; pick one")
    except (ValueError, OutputError) as error:
        raise ui.fail(str(error)) from None
    check_membership(membership)
    for warning in sim_warnings(config):
        ui.warn(warning)
    if streaming and check:
        ui.note("the trace goes to standard output, so it is not checked here")
        check = False
    from raftlab.experiment import Interrupted

    try:
        stats, info = simulate_and_summarize(
            config,
            membership,
            out,
            "sim",
            show=not as_json,
            to_stderr=streaming,
            schedule=schedule,
            reproduce=f"raftlab sim --schedule {schedule_file} --out {out}" if schedule else None,
        )
    except Interrupted as stop:
        raise ui.fail(f"interrupted; what was simulated is in {stop.partial}") from None
    outcome = None
    if check:
        from raftlab.cmd_check import print_check, run_check

        outcome = run_check(out, strict_liveness=strict_liveness)
        if not as_json:
            print_check(outcome)
    if as_json:
        ui.print_json(sim_doc(stats, info, out, outcome))
    elif not streaming:
        ui.out.print(f"trace: {out}", markup=False)
    raise typer.Exit(outcome.exit_code if outcome is not None else 0)


def sim_doc(stats: SimStats, info: RunInfo, out: Path, outcome: Any) -> dict[str, Any]:
    from raftlab.cmd_check import check_doc
    from raftlab.summary import summary_fields

    files = {"trace": str(out)}
    check = None
    if outcome is not None:
        check = check_doc(out, outcome)
        files.update(check["files"])
    return {
        "command": "sim",
        "summary": summary_fields(stats, info),
        "check": check,
        "verdict": check["verdict"] if check else None,
        "ok": check["ok"] if check else True,
        "files": files,
    }


def list_profiles(as_json: bool) -> None:
    from sim import PROFILES

    if as_json:
        ui.print_json([p.to_json() for p in PROFILES.values()])
    else:
        ui.out.print(ui.table([(p.name, p.description) for p in PROFILES.values()]))


def list_unsafe_modes(as_json: bool) -> None:
    from consensus.unsafe import CATALOG

    if as_json:
        ui.print_json(
            [
                {"name": m.name, "bug": m.bug, "reference": m.reference, "caught_by": m.caught_by}
                for m in CATALOG
            ]
        )
    else:
        rows = [(m.name, f"{m.bug} Caught by: {m.caught_by}.") for m in CATALOG]
        ui.out.print(ui.table(rows))


def check_membership(spec: str) -> None:
    """Fail early on a --membership that is neither a keyword nor a file."""
    if spec not in ("random", "none") and not Path(spec).is_file():
        raise ui.fail(f"--membership: {spec!r} is not 'random', 'none' or a script file")


def simulate_and_summarize(
    config: SimConfig,
    membership: str,
    out: Path,
    command: str,
    show: bool = True,
    to_stderr: bool = False,
    shown_trace: Path | None = None,
    reproduce: str | None = None,
    schedule: Schedule | None = None,
) -> tuple[SimStats, RunInfo]:
    """Simulate with a progress bar, write the trace and print the summary
    (shared by ``sim`` and ``run``). ``shown_trace``: the trace's name to
    print, when it is written elsewhere first. ``schedule``: run that
    schedule (sim/schedule.py) rather than ``config`` and ``membership``."""
    from raftlab.experiment import simulate
    from raftlab.summary import RunInfo, reproduce_command, summary_lines, trace_size
    from sim import ScriptError

    started = time.perf_counter()
    try:
        with (
            ui.interruptible() as stop,
            ui.io_errors(),
            ui.progress_bar("simulating", config.duration_s, " s") as update,
        ):
            if schedule is not None:
                stats = _run_schedule(schedule, out, update, stop)
            else:
                stats = simulate(config, membership, out, update, stop)
    except ScriptError as error:
        raise ui.fail(str(error)) from None
    info = RunInfo(
        command=reproduce or reproduce_command(command, config, membership, out),
        trace=shown_trace or out,
        wall_s=time.perf_counter() - started,
        size=None if str(out) == "-" else trace_size(out),
    )
    if show:
        title = (
            f"seed {config.seed}, {config.nodes} nodes, faults {config.profile.name}, "
            f"{config.raft.read_mode.value} reads"
        )
        console = ui.err if to_stderr else ui.out
        console.print(ui.table(summary_lines(stats, info), title=title))
    return stats, info


def _run_schedule(schedule: Schedule, out: Path, update: Any, stop: Any) -> SimStats:
    from raftlab.experiment import Interrupted
    from sim.schedule import write_trace

    try:
        return write_trace(schedule, out, update, stop)
    except KeyboardInterrupt:
        raise Interrupted(out) from None
