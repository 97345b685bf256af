"""``raftlab hunt``: search seeded schedules for a counterexample and shrink it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from sim.hunt import HuntResult, Judgement, Shrunk

HUNT_HELP = """Search seeded schedules for a counterexample, then shrink it to a minimal one.

Each schedule is drawn from --seed and its number: its own cluster size (3-5),
network faults, workload and membership changes (swarm testing), with fault
shapes aimed at where consensus bugs live (docs/hunting.md). Every run is
checked by every trace checker and by the linearizability checker on its
client history. The first schedule that fails is shrunk as long as it fails
the same property: the run ends just past the violation, its client
operations become an explicit list to delete from, and fewer faults,
membership changes and nodes, a quieter network, shorter faults and less
idle time are tried (docs/hunting.md). --out receives the minimal trace
(counterexample.jsonl), its schedule (schedule.json: `raftlab sim --schedule`
replays it to the same trace), the schedule as found (found-schedule.json)
and the report (report.txt, report.html: a timeline with a lane per node).

Without --mode the core is the safe one, and finding nothing is reported as
the schedules tried and the simulated seconds explored. With --mode the core
runs with that unsafe mode (a deliberate bug) on; `raftlab sim --list-unsafe`
names the modes.

--workers N runs schedules in N processes; the same --seed finds the same
first counterexample whatever N is (given the budget to reach it).

Exit codes: 0 nothing found within the budget, 1 a counterexample was found,
2 bad usage.

Examples:

  raftlab hunt --budget 60s

  raftlab hunt --mode no-joint --budget 2m --workers 2 --out hunt-out
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_budget(text: str, option: str) -> float:
    """``60``, ``60s``, ``2m`` or ``1h`` as seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{option}: expected a positive duration like 60s or 2m, got {text!r}")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]


def check_modes(modes: list[str]) -> tuple[str, ...]:
    if not modes:
        return ()
    from consensus.unsafe import MODES

    known = list(MODES)
    for mode in modes:
        if mode not in known:
            raise ValueError(f"--mode: unknown mode {mode!r} (known: {', '.join(known)})")
    return tuple(sorted(set(modes)))


def hunt(
    mode: list[str] = typer.Option(
        [], "--mode", help="Unsafe mode of the core to hunt in (repeatable); none: safe mode."
    ),
    budget: str = typer.Option("60s", "--budget", "-b", help="Time to search, e.g. 60s, 2m."),
    seed: int = typer.Option(1, "--seed", "-s", help="Seed of the hunt's schedules."),
    workers: int = typer.Option(1, "--workers", "-w", help="Processes that run schedules."),
    out: Path = typer.Option(
        Path("hunt-out"), "--out", "-o", help="Directory for the counterexample's files."
    ),
    shrink_budget: str = typer.Option(
        "60s", "--shrink-budget", help="Time to spend shrinking a counterexample."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from raftlab.outputs import OutputError, check_output_dir
    from sim.hunt import HuntConfig

    try:
        seconds = parse_budget(budget, "--budget")
        shrink_seconds = parse_budget(shrink_budget, "--shrink-budget")
        if not 1 <= workers <= 64:
            raise ValueError(f"--workers must be between 1 and 64, got {workers}")
        if seed < 0:
            raise ValueError(f"--seed must be >= 0, got {seed}")
        unsafe = check_modes(mode)
        check_output_dir(out, "--out")
    except (ValueError, OutputError) as error:
        raise ui.fail(str(error)) from None
    config = HuntConfig(seed=seed, budget_s=seconds, workers=workers, unsafe=unsafe)
    try:
        with _progress(seconds) as show:
            result = _search(config, show)
            shrunk = _shrink(result, shrink_seconds, show) if result.found is not None else None
    except KeyboardInterrupt:
        raise ui.fail("interrupted: nothing was written") from None
    files = _write(result, shrunk, out) if shrunk is not None else {}
    doc = hunt_doc(result, shrunk, files)
    if as_json:
        ui.print_json(doc)
    else:
        _print(doc)
    raise typer.Exit(1 if shrunk is not None else 0)


Show = Callable[[str, float, float], None]
"""Update the progress line: what is happening, seconds spent, of how many."""


def _search(config: Any, show: Show) -> HuntResult:
    from sim.hunt import hunt as run_hunt

    started = time.monotonic()

    def progress(result: HuntResult) -> None:
        text = f"{result.schedules} schedules, {result.sim_seconds:,.0f} simulated s"
        show(text, time.monotonic() - started, config.budget_s)

    with ui.io_errors():
        return run_hunt(config, progress)


def _shrink(result: HuntResult, budget_s: float, show: Show) -> Shrunk:
    from sim.hunt import judge, shrink
    from sim.schedule import Schedule

    assert result.found is not None
    lin_timeout = result.config.lin_timeout
    started = time.monotonic()
    show(f"shrinking {result.prop!r}: size {result.found.schedule.weight()}", 0.0, budget_s)

    def progress(best: Schedule) -> None:
        text = f"shrinking {result.prop!r}: best size {best.weight()}"
        show(text, time.monotonic() - started, budget_s)

    return shrink(
        result.found,
        result.prop,
        lambda s: judge(s, lin_timeout),
        budget_s=budget_s,
        progress=progress,
    )


@contextmanager
def _progress(total_s: float) -> Iterator[Show]:
    """A progress bar on stderr (only on a terminal) over the budget, with
    the schedules tried, the simulated seconds and the best size so far."""
    if not ui.err.is_terminal:
        yield lambda text, done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("[bold]hunt"), BarColumn(), TextColumn("{task.description}")]
    with Progress(*columns, TimeElapsedColumn(), console=ui.err, transient=True) as bar:
        task = bar.add_task("starting", total=total_s)

        def show(text: str, done: float, total: float) -> None:
            bar.update(task, description=text, completed=min(done, total), total=total)

        yield show


def _write(result: HuntResult, shrunk: Shrunk, out: Path) -> dict[str, str]:
    from raftlab.outputs import write_atomic
    from sim.hunt import html_report, text_report
    from traces.recorder import trace_bytes

    assert result.found is not None
    final: Judgement = shrunk.judgement
    text = text_report(
        final,
        result.prop,
        result.found.schedule,
        result.index,
        result.config.seed,
        shrunk.runs,
    )
    files = {
        "trace": out / "counterexample.jsonl",
        "schedule": out / "schedule.json",
        "found_schedule": out / "found-schedule.json",
        "report": out / "report.txt",
        "html": out / "report.html",
    }
    with ui.io_errors():
        write_atomic(files["trace"], trace_bytes(final.header, final.events))
        write_atomic(files["schedule"], final.schedule.dumps())
        write_atomic(files["found_schedule"], result.found.schedule.dumps())
        write_atomic(files["report"], text.encode())
        write_atomic(files["html"], html_report(final, result.prop, text).encode())
    return {name: str(path) for name, path in files.items()}


def hunt_doc(result: HuntResult, shrunk: Shrunk | None, files: dict[str, str]) -> dict[str, Any]:
    config = result.config
    doc: dict[str, Any] = {
        "command": "hunt",
        "modes": list(config.unsafe),
        "seed": config.seed,
        "workers": config.workers,
        "budget_s": config.budget_s,
        "schedules": result.schedules,
        "sim_seconds": round(result.sim_seconds, 3),
        "wall_s": round(result.wall_s, 3),
        "undecided": result.undecided,
        "found": shrunk is not None,
    }
    if shrunk is not None and result.found is not None:
        before, after = result.found.schedule, shrunk.schedule
        doc.update(
            property=result.prop,
            index=result.index,
            shape=before.shape,
            shrink={
                "runs": shrunk.runs,
                "steps": shrunk.accepted,
                "complete": shrunk.complete,
                "weight": [before.weight(), after.weight()],
                "size": {"before": list(before.size()), "after": list(after.size())},
            },
            files=files,
        )
    return doc


def _print(doc: dict[str, Any]) -> None:
    explored = (
        f"{doc['schedules']} schedules, {doc['sim_seconds']:,.1f} simulated seconds "
        f"in {doc['wall_s']:.1f} s"
    )
    mode = ", ".join(doc["modes"]) or "safe"
    if not doc["found"]:
        ui.out.print(f"no counterexample in {mode} mode: {explored}", markup=False)
        if doc["undecided"]:
            ui.out.print(
                f"({doc['undecided']} histories were undecided by the linearizability check)",
                markup=False,
            )
        return
    shrink = doc["shrink"]
    ui.out.print(
        f"COUNTEREXAMPLE in {mode} mode: {doc['property']}\n"
        f"found as schedule {doc['index']} (shape {doc['shape']}) after {explored}\n"
        f"shrunk in {shrink['runs']} runs from size {shrink['weight'][0]} to "
        f"{shrink['weight'][1]}" + ("" if shrink["complete"] else " (shrink budget spent)"),
        markup=False,
    )
    for name, path in doc["files"].items():
        ui.out.print(f"{name}: {path}", markup=False)
