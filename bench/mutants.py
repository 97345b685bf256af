"""Which planted Raft bugs do the simulator and the checkers find? As JSON.

Each mutant of ``bench/mutants/catalogue.toml`` is one classic Raft bug, an
exact text edit of the current core. For each, the packages are copied into
a temporary directory, the edit is applied there (never in the checkout),
and a worker process with ``PYTHONPATH`` pointing at the copy simulates runs
one after another and checks each with the project's own pipeline
(``raftlab.experiment.simulate`` and ``check_trace``: every registered
checker, then linearizability of the client history), until a run fails or
the mutant's time budget is spent. With ``--unit`` the copy's unit and
scenario tests (tests/consensus, tests/scenarios) run as well, so the table
shows what the tests catch next to what the simulation catches.

The runs cycle through every fault profile in ``sim.PROFILES``, 3 and 5
nodes, every read mode and random or no membership changes, all discovered
in the copy at run time, so fault profiles and options merged later are
used without editing this script (``--set FIELD=JSON`` passes any further
``SimConfig`` field). An unmutated ``baseline`` runs first as a control: a
failure there is a false alarm or a simulator defect, and the summary says
so.

Output: one JSON line per mutant on stdout, then a summary line; a table on
stderr. Per mutant: ``caught`` (by the simulation within the budget),
``caught_by`` (the checker with the earliest witness, or
``linearizability``), ``fired`` (every checker that fired on that run),
``config`` (seed, profile, nodes, read mode, membership, duration of the
catching run), ``seconds`` to detection, ``runs`` tried, ``crashes`` (runs
whose simulation or check raised: not a catch), ``undecided``
(linearizability timed out: not a catch), ``liveness_warnings`` (checkers
that warned, where the checkers report liveness apart), ``unit`` (with
``--unit``: the failing test ids) and ``error`` (a drifted mutant or a
worker that failed). Exit code 0 once measured, 2 on bad usage.

    python bench/mutants.py --workers 1 --budget 30          # every mutant
    python bench/mutants.py --only vote_twice_in_term --unit # one, with tests
    python bench/mutants.py --root ../other-tree --budget 60 # another tree
    python bench/mutants.py --list                           # the catalogue
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Python puts this script's folder first on sys.path, where "sim" would mean
# bench/sim.py; the worker needs the simulator package of the copy instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

ROOT = _HERE.parent
CATALOGUE = _HERE / "mutants" / "catalogue.toml"
#: What a simulated run needs; the unit tests need the tests and pytest's
#: configuration as well.
PACKAGES = ("consensus", "sim", "kv", "traces", "checkers", "raftlab")
UNIT_EXTRA = ("tests", "pyproject.toml")
UNIT_TESTS = ("tests/consensus", "tests/scenarios")
BASELINE = "baseline"


# ------------------------------------------------------------------ catalogue


@dataclass(slots=True, frozen=True)
class Edit:
    file: str
    find: str
    replace: str


@dataclass(slots=True, frozen=True)
class Mutant:
    name: str
    kind: str
    why: str
    edits: tuple[Edit, ...]


class DriftError(Exception):
    """A mutant's search text is not found exactly once: the sources moved."""


def load_catalogue(path: Path = CATALOGUE) -> list[Mutant]:
    doc = tomllib.loads(path.read_text())
    mutants = [
        Mutant(
            m["name"],
            m["class"],
            m["why"],
            tuple(Edit(e["file"], e["find"], e["replace"]) for e in m["edit"]),
        )
        for m in doc["mutant"]
    ]
    names = [m.name for m in mutants]
    if len(set(names)) != len(names) or BASELINE in names:
        raise ValueError(f"{path}: mutant names must be unique and not {BASELINE!r}")
    return mutants


def mutated_sources(mutant: Mutant, root: Path) -> dict[str, str]:
    """The edited text of every file the mutant touches, read from ``root``.

    Edits apply in order, each to the text the earlier ones left, and each
    search text must occur exactly once there."""
    texts: dict[str, str] = {}
    for edit in mutant.edits:
        text = texts.get(edit.file)
        if text is None:
            source = root / edit.file
            if not source.is_file():
                raise DriftError(f"{mutant.name}: {edit.file} does not exist")
            text = source.read_text()
        found = text.count(edit.find)
        if found != 1:
            first = edit.find.strip().splitlines()[0] if edit.find.strip() else "(empty)"
            raise DriftError(
                f"{mutant.name}: search text found {found} times in {edit.file} "
                f"(expected once): {first!r}"
            )
        texts[edit.file] = text.replace(edit.find, edit.replace)
    return texts


def plant(mutant: Mutant | None, root: Path, dest: Path, unit: bool) -> None:
    """Copy the project into ``dest`` and apply the mutant there."""
    texts = mutated_sources(mutant, root) if mutant else {}
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in PACKAGES + (UNIT_EXTRA if unit else ()):
        source = root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    for file, text in texts.items():
        (dest / file).write_text(text)


# ---------------------------------------------------------- worker (in copy)


def discover() -> dict[str, Any]:
    """What the copy's simulator offers: profiles, read modes, config fields."""
    import consensus
    from consensus.config import RaftConfig, ReadMode
    from sim import PROFILES, SimConfig

    sim_fields = [f.name for f in dataclasses.fields(SimConfig)]
    raft_fields = [f.name for f in dataclasses.fields(RaftConfig)]
    has_modes = "read_mode" in sim_fields or "read_mode" in raft_fields
    return {
        "consensus_from": str(Path(consensus.__file__).resolve().parent),
        "profiles": list(PROFILES),
        "read_modes": [m.value for m in ReadMode] if has_modes else [],
        "sim_config_fields": sim_fields,
    }


def plan(
    found: dict[str, Any],
    nodes: list[int],
    memberships: list[str],
    first_seed: int,
    only: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run configurations, forever: every profile in each block of as many
    runs as there are profiles, the other choices in a seeded shuffle so that
    a short budget still samples all of them; a fresh seed for every run."""
    profiles = [p for p in found["profiles"] if not only or p in only]
    modes = found["read_modes"] or [None]
    variants = list(itertools.product(nodes, modes, memberships))
    rounds: list[list[tuple[int, str | None, str]]] = []
    for n, _ in enumerate(profiles):
        order = variants[:]
        random.Random(first_seed * 7919 + n).shuffle(order)
        rounds.append(order)
    seed = first_seed
    for round_ in itertools.count():
        for p, profile in enumerate(profiles):
            size, mode, membership = rounds[p][round_ % len(variants)]
            yield {
                "seed": seed,
                "profile": profile,
                "nodes": size,
                "read_mode": mode,
                "membership": membership,
            }
            seed += 1


def build_config(run: dict[str, Any], duration: float, overrides: dict[str, Any]) -> Any:
    """A ``SimConfig`` for one run, using whatever the copy's simulator has:
    its own ``raft_config_for`` (which fits the lease margin to the profile's
    clock drift) when it exists, else the read mode set on the default core
    configuration."""
    import sim
    from consensus.config import ReadMode

    fields = {f.name for f in dataclasses.fields(sim.SimConfig)}
    profile = sim.PROFILES[run["profile"]]
    kwargs: dict[str, Any] = {
        "nodes": run["nodes"],
        "seed": run["seed"],
        "duration_s": duration,
        "profile": profile,
    }
    mode = run["read_mode"]
    if mode is not None:
        if "read_mode" in fields:
            default = sim.SimConfig().read_mode
            kwargs["read_mode"] = ReadMode(mode) if isinstance(default, ReadMode) else mode
        elif hasattr(sim, "raft_config_for"):
            kwargs["raft"] = sim.raft_config_for(profile, mode)
        else:
            kwargs["raft"] = dataclasses.replace(sim.SimConfig().raft, read_mode=ReadMode(mode))
    kwargs.update(overrides)
    config = sim.SimConfig(**kwargs)
    config.validate()
    return config


def first_fired(outcome: Any) -> tuple[str, list[str], str]:
    """The checker with the earliest witness, every checker that fired, and
    the first one's message."""
    violations = list(outcome.report.violations)
    fired = sorted({v.checker for v in violations})
    lin = outcome.lin_verdict not in ("", "linearizable", "unknown")
    if lin:
        fired.append("linearizability")
    if violations:
        first = min(violations, key=lambda v: min(v.witnesses, default=1 << 62))
        return first.checker, fired, first.message
    if lin:
        return "linearizability", fired, outcome.lin_explanation
    return "unexplained", fired, "check failed without a violation"


def simulate_and_check(
    run: dict[str, Any], duration: float, overrides: dict[str, Any], work: Path, lin_timeout: float
) -> dict[str, Any]:
    """One run through the project's own pipeline; the verdict as a dict."""
    from raftlab.experiment import check_trace, simulate

    trace = work / f"run-{run['seed']}.jsonl"
    result: dict[str, Any] = {"run": {**run, "duration_s": duration}}
    try:
        config = build_config(run, duration, overrides)
        simulate(config, run["membership"], trace)
    except Exception as error:  # a crash of the mutated core or simulator
        result["crash"] = f"{type(error).__name__}: {str(error)[:300]}"
        return result
    try:
        outcome = check_trace(trace, lin_timeout=lin_timeout)
    except Exception as error:  # the checkers refused the trace
        result["crash"] = f"check: {type(error).__name__}: {str(error)[:300]}"
        return result
    finally:
        trace.unlink(missing_ok=True)
    warnings = getattr(outcome.report, "warnings", [])  # liveness findings, where checked
    if warnings:
        result["warnings"] = sorted({w.checker for w in warnings})
    if outcome.lin_verdict == "unknown" and outcome.report.ok:
        result["undecided"] = True
    elif not outcome.ok:
        first, fired, message = first_fired(outcome)
        result.update(caught_by=first, fired=fired, message=message[:500])
    return result


def worker(spec: dict[str, Any]) -> None:
    """Simulate until a run fails or the budget is spent; a JSON line per run."""
    start = time.monotonic()
    found = discover()
    print(json.dumps({"kind": "plan", **found}), flush=True)
    work = Path(spec["work"])
    work.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(spec["profiles"]) - set(found["profiles"]))
    if unknown:
        raise SystemExit(f"--profiles: no profile named {', '.join(unknown)}")
    unknown = sorted(set(spec["set"]) - set(found["sim_config_fields"]))
    if unknown:
        raise SystemExit(f"--set: SimConfig has no field {', '.join(unknown)}")
    runs = plan(found, spec["nodes"], spec["memberships"], spec["seed"], spec["profiles"])
    for n, run in enumerate(runs):
        remaining = spec["budget"] - (time.monotonic() - start)
        if remaining <= 0 or (spec["max_runs"] and n >= spec["max_runs"]):
            break
        lin_timeout = max(1.0, min(60.0, remaining))
        result = simulate_and_check(run, spec["duration"], spec["set"], work, lin_timeout)
        result["seconds"] = round(time.monotonic() - start, 2)
        print(json.dumps({"kind": "run", **result}), flush=True)
        if "caught_by" in result:
            break


# ------------------------------------------------------------- parent side


class Children:
    """The worker processes alive now, so an interrupt can stop them by PID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen[str]] = set()

    def start(self, args: list[str], copy: Path, stderr: Any) -> subprocess.Popen[str]:
        """Start ``args`` in the copy, importing the project from the copy."""
        env = dict(os.environ, PYTHONPATH=str(copy), PYTHONHASHSEED="0")
        proc = subprocess.Popen(
            args, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        with self.lock:
            self.procs.add(proc)
        return proc

    def done(self, proc: subprocess.Popen[str]) -> None:
        with self.lock:
            self.procs.discard(proc)

    def stop_all(self) -> None:
        with self.lock:
            for proc in self.procs:
                proc.kill()


def run_simulation(
    copy: Path, opts: argparse.Namespace, children: Children, record: dict[str, Any]
) -> None:
    """Drive one worker in the copy; fill ``record`` with what it found."""
    spec = {
        "budget": opts.budget,
        "duration": opts.duration,
        "nodes": opts.nodes,
        "memberships": opts.membership,
        "seed": opts.seed,
        "set": opts.set,
        "profiles": opts.profiles,
        "max_runs": opts.max_runs,
        "work": str(copy / "_runs"),
    }
    args = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    errors = copy / "worker.err"
    with errors.open("w") as sink:
        proc = children.start(args, copy, sink)
    timer = threading.Timer(opts.budget + 0.5, proc.kill)  # a run still going at the end
    timer.start()
    runs = crashes = undecided = 0
    warned: set[str] = set()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if not line.endswith("\n"):
                break  # cut short by the budget's kill
            event = json.loads(line)
            if event["kind"] == "plan":
                record["plan"] = event
                if not event["consensus_from"].startswith(str(copy)):
                    proc.kill()
                    record["error"] = f"worker imported the core from {event['consensus_from']}"
                continue
            runs += 1
            if event.get("crash"):
                crashes += 1
                record.setdefault("first_crash", {"run": event["run"], "crash": event["crash"]})
            undecided += bool(event.get("undecided"))
            warned.update(event.get("warnings", ()))
            if "caught_by" in event:
                record.update(
                    caught=True,
                    caught_by=event["caught_by"],
                    fired=event["fired"],
                    message=event["message"],
                    config=event["run"],
                    seconds=event["seconds"],
                )
        proc.wait()
    finally:
        timer.cancel()
        children.done(proc)
    tail = errors.read_text().strip().splitlines()[-3:]
    if proc.returncode not in (0, -9) and not record.get("error"):
        record["error"] = f"worker exited {proc.returncode}: " + " | ".join(tail)
    record.update(runs=runs, crashes=crashes, undecided=undecided)
    if warned:
        record["liveness_warnings"] = sorted(warned)


FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)")
#: A pytest plug-in for the copy: property tests report the first failing
#: example without shrinking it (shrinking a mutant's failures can take many
#: minutes and does not change which tests fail) and keep no database.
NO_SHRINK_PLUGIN = """
from hypothesis import Phase, settings


def pytest_configure(config):
    # After tests/conftest.py loaded the project's profile: keep it, minus shrinking.
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    settings.register_profile("mutants", parent=settings.default, phases=phases, database=None)
    settings.load_profile("mutants")
"""


def run_unit(
    copy: Path, opts: argparse.Namespace, children: Children, record: dict[str, Any]
) -> None:
    """The copy's unit and scenario tests; which of them fail."""
    (copy / "_mutants_no_shrink.py").write_text(NO_SHRINK_PLUGIN)
    args = [sys.executable, "-m", "pytest", *UNIT_TESTS, "-q", "-p", "no:cacheprovider", "-rfE"]
    args += ["-p", "_mutants_no_shrink"]
    proc = children.start(args, copy, subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=opts.unit_timeout)
        failed = sorted(set(_failed_lines(out)))
        record["unit"] = {"rc": proc.returncode, "failed": failed, "caught": bool(failed)}
        if proc.returncode not in (0, 1):
            record["unit"]["caught"] = False
            record["unit"]["error"] = out.strip().splitlines()[-1:] or ["no output"]
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        record["unit"] = {"rc": None, "failed": [], "caught": False, "error": "timed out"}
    finally:
        children.done(proc)


def _failed_lines(out: str) -> list[str]:
    return [m.group(1) for line in out.splitlines() if (m := FAILED.match(line))]


def measure(mutant: Mutant | None, opts: argparse.Namespace, children: Children) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "mutant",
        "name": mutant.name if mutant else BASELINE,
        "class": mutant.kind if mutant else "control",
        "why": mutant.why if mutant else "the unmutated core: any failure is a false alarm",
        "caught": False,
        "budget_s": opts.budget,
    }
    with tempfile.TemporaryDirectory(prefix="raftlab-mutant-") as tmp:
        copy = Path(tmp).resolve()
        try:
            plant(mutant, opts.root, copy, unit=opts.unit)
        except DriftError as error:
            record["error"] = f"drifted: {error}"
            return record
        if opts.sim:
            run_simulation(copy, opts, children, record)
        if opts.unit:
            run_unit(copy, opts, children, record)
    return record


# ------------------------------------------------------------------ report


def cell_sim(r: dict[str, Any]) -> str:
    if r.get("error"):
        return "ERROR"
    if "runs" not in r:
        return "-"
    if r["name"] == BASELINE and not r["caught"]:
        crashed = f", {r['crashes']} CRASHED" if r["crashes"] else ""
        return f"no false alarm ({r['runs']} runs{crashed})"
    if r["caught"]:
        c = r["config"]
        mode = f", {c['read_mode']} reads" if c.get("read_mode") else ""
        where = (
            f"seed {c['seed']}, faults {c['profile']}, {c['nodes']} nodes{mode}, "
            f"membership {c['membership']}"
        )
        return f"{r['caught_by']} after {r['seconds']:.0f} s, run {r['runs']} ({where})"
    crashed = f", {r['crashes']} crashed" if r["crashes"] else ""
    return f"missed ({r['runs']} runs{crashed})"


def cell_unit(r: dict[str, Any]) -> str:
    unit = r.get("unit")
    if unit is None:
        return "-"
    if unit.get("error"):
        return f"error: {unit['error']}"
    return f"{len(unit['failed'])} fail" if unit["failed"] else "all pass"


def print_table(records: list[dict[str, Any]]) -> None:
    rows = [("mutant", "class", "unit tests", "simulation + checkers")]
    rows += [(r["name"], r["class"], cell_unit(r), cell_sim(r)) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]), file=sys.stderr)
    for r in records:
        if r.get("error"):
            print(f"{r['name']}: {r['error']}", file=sys.stderr)
        elif r.get("first_crash"):
            crash = r["first_crash"]
            print(f"{r['name']}: first crash {crash['crash']} in {crash['run']}", file=sys.stderr)


def summary(
    records: list[dict[str, Any]], plan_info: dict[str, Any], opts: argparse.Namespace
) -> dict[str, Any]:
    mutants = [r for r in records if r["name"] != BASELINE]
    control = next((r for r in records if r["name"] == BASELINE), None)
    by_checker: dict[str, list[str]] = {}
    for r in mutants:
        if r["caught"]:
            by_checker.setdefault(r["caught_by"], []).append(r["name"])
    doc: dict[str, Any] = {
        "kind": "summary",
        "mutants": len(mutants),
        "errors": sorted(r["name"] for r in records if r.get("error")),
    }
    if opts.sim:
        doc.update(
            caught_by_simulation=sum(r["caught"] for r in mutants),
            first_checker=by_checker,
            budget_s=opts.budget,
            duration_s=opts.duration,
            profiles=plan_info.get("profiles", []),
            read_modes=plan_info.get("read_modes", []),
            sim_config_fields=plan_info.get("sim_config_fields", []),
        )
    if opts.unit:
        doc["caught_by_unit_tests"] = sum(bool(r.get("unit", {}).get("caught")) for r in mutants)
    if control is not None:
        unit = control.get("unit", {})
        failed = control["caught"] or control.get("crashes") or unit.get("failed")
        doc["control_false_alarm"] = bool(failed)
    return doc


# -------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--budget", type=float, default=120.0, help="seconds of runs per mutant")
    ap.add_argument("--workers", type=int, default=2, help="mutants measured at once")
    ap.add_argument("--only", action="append", default=[], help="this mutant only (repeatable)")
    ap.add_argument("--duration", type=float, default=10.0, help="simulated seconds per run")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first run")
    ap.add_argument("--max-runs", type=int, default=0, help="stop after this many runs (0: none)")
    ap.add_argument("--profiles", nargs="+", default=[], help="only these fault profiles")
    ap.add_argument("--nodes", type=int, nargs="+", default=[3, 5], help="cluster sizes to try")
    ap.add_argument(
        "--membership", nargs="+", default=["random", "none"], help="membership actors to try"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help="any further SimConfig field for every run",
    )
    ap.add_argument("--unit", action="store_true", help="also run tests/consensus, tests/scenarios")
    ap.add_argument("--no-sim", dest="sim", action="store_false", help="skip the simulation")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false", help="no control run")
    ap.add_argument("--unit-timeout", type=float, default=600.0, help="seconds for the tests")
    ap.add_argument(
        "--root", type=Path, default=ROOT, help="project tree to copy (default: this checkout)"
    )
    ap.add_argument("--list", action="store_true", help="list the catalogue and exit")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if min(opts.budget, opts.duration, opts.unit_timeout) <= 0 or opts.workers < 1:
        ap.error("--budget, --duration and --unit-timeout must be positive, --workers at least 1")
    if opts.max_runs < 0:
        ap.error("--max-runs must be 0 (no limit) or more")
    opts.root = opts.root.resolve()
    if not all((opts.root / name).is_dir() for name in PACKAGES):
        ap.error(f"--root {opts.root}: not a raftlab tree (needs {', '.join(PACKAGES)})")
    if not opts.sim and not opts.unit:
        ap.error("--no-sim without --unit measures nothing")
    overrides: dict[str, Any] = {}
    for item in opts.set:
        field, sep, value = item.partition("=")
        try:
            overrides[field] = json.loads(value) if sep else None
        except json.JSONDecodeError:
            ap.error(f"--set {item}: the value must be JSON")
        if not sep:
            ap.error(f"--set {item}: expected FIELD=JSON")
    opts.set = overrides
    return opts


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    if opts.worker:
        worker(json.loads(opts.worker))
        return 0
    try:
        catalogue = load_catalogue()
    except (OSError, ValueError, KeyError) as error:
        print(f"{CATALOGUE}: {error}", file=sys.stderr)
        return 2
    if opts.list:
        for m in catalogue:
            print(json.dumps({"name": m.name, "class": m.kind, "why": m.why}))
        return 0
    unknown = sorted(set(opts.only) - {m.name for m in catalogue} - {BASELINE})
    if unknown:
        print(f"--only: no mutant named {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    chosen: list[Mutant | None] = [m for m in catalogue if not opts.only or m.name in opts.only]
    if opts.baseline and (not opts.only or BASELINE in opts.only):
        chosen.insert(0, None)
    children = Children()
    signal.signal(signal.SIGTERM, _interrupt)  # stop the workers on kill as on Ctrl-C
    records: list[dict[str, Any]] = []
    plan_info: dict[str, Any] = {}
    pool = ThreadPoolExecutor(max_workers=opts.workers)
    try:
        for record in pool.map(lambda m: measure(m, opts, children), chosen):
            found = record.pop("plan", None)
            plan_info = plan_info or found or {}
            print(json.dumps(record), flush=True)
            records.append(record)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        children.stop_all()
        print("interrupted: workers stopped, partial results above", file=sys.stderr)
        return 130
    pool.shutdown()
    print_table(records)
    print(json.dumps(summary(records, plan_info, opts)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
