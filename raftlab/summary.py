"""The run summary: what ``sim`` and ``run`` print, as data and as text.

One function builds the fields (``summary_fields``, JSON-ready) and one
renders them as rows (``summary_lines``), so ``--json`` and the text always
say the same things. Long runs stay readable: terms led by the same node in
a row become ranges, long lists are elided in the middle, and membership
changes are counted by kind.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import raftlab

if TYPE_CHECKING:
    from sim import SimConfig, SimStats

#: Groups shown at each end of an elided list.
_ENDS = 6


@dataclass(slots=True, frozen=True)
class RunInfo:
    """What the simulator does not know about its own run."""

    command: str
    """The command line that reproduces the run."""
    trace: Path
    """The trace's name, as shown."""
    wall_s: float
    size: int | None = None
    """The trace's size in bytes, when known."""


def reproduce_command(
    command: str, config: SimConfig, membership: str, out: Path | None = None
) -> str:
    """The ``raftlab`` command line that runs exactly this simulation again."""
    from sim import WorkloadConfig

    default = WorkloadConfig()
    options: dict[str, Any] = {
        "--seed": config.seed,
        "--nodes": config.nodes,
        "--faults": config.profile.name,
        "--duration": f"{config.duration_s:g}",
        "--membership": membership,
    }
    read_mode = config.raft.read_mode.value
    if read_mode != "index":
        options["--read-mode"] = read_mode
    workload = config.workload
    for option, value, usual in (
        ("--clients", workload.clients, default.clients),
        ("--rate", f"{workload.rate:g}", f"{default.rate:g}"),
        ("--keys", workload.keys, default.keys),
    ):
        if command == "sim" and value != usual:
            options[option] = value
    if out is not None:
        options["--out" if command == "sim" else "--out-dir"] = out
    words = ["raftlab", command]
    for option, value in options.items():
        words += [option, str(value)]
    for mode in config.raft.unsafe:
        words += ["--unsafe", mode]
    return shlex.join(words)


def term_ranges(leaders: dict[int, list[int]]) -> list[str]:
    """``["1:n1", "2-9:n3", "11:n2/n4"]``: consecutive terms with the same
    leader(s) folded into one range."""
    groups: list[tuple[int, int, tuple[int, ...]]] = []
    for term, nodes in sorted(leaders.items()):
        who = tuple(nodes)
        if groups and groups[-1][1] == term - 1 and groups[-1][2] == who:
            groups[-1] = (groups[-1][0], term, who)
        else:
            groups.append((term, term, who))
    return [
        f"{first if first == last else f'{first}-{last}'}:{'/'.join(f'n{n}' for n in who)}"
        for first, last, who in groups
    ]


def elide(items: Sequence[str], ends: int = _ENDS) -> str:
    """``items`` joined, with the middle replaced by a count when long."""
    if len(items) <= 2 * ends + 1:
        return ", ".join(items)
    hidden = len(items) - 2 * ends
    return ", ".join([*items[:ends], f"… {hidden} more …", *items[-ends:]])


def change_kinds(changes: Sequence[str]) -> Counter[str]:
    """Membership changes counted by kind: ``add_voter 6, remove 1`` counts
    one ``add_voter`` and one ``remove``."""
    kinds: Counter[str] = Counter()
    for change in changes:
        for item in change.split(", "):
            # "add_voter 8", "remove 6 (joint_explicit)", "leave joint"
            words = [w for w in item.split() if not w.isdigit() and not w.startswith("(")]
            kinds["_".join(words) or item] += 1
    return kinds


def trace_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def summary_fields(stats: SimStats, info: RunInfo | None = None) -> dict[str, Any]:
    """The summary as JSON-ready data (the same facts as ``summary_lines``)."""
    changes = change_kinds(stats.membership)
    fields: dict[str, Any] = {
        "version": raftlab.__version__,
        "simulated_s": round(stats.sim_seconds, 3),
        "node_steps": stats.steps,
        "terms_with_leader": len(stats.leaders),
        "last_term": max(stats.leaders, default=0),
        "leaders": {str(term): nodes for term, nodes in sorted(stats.leaders.items())},
        "commit": stats.commit,
        "faults": dict(sorted(stats.faults.items())),
        "membership_changes": list(stats.membership),
        "membership_change_kinds": dict(sorted(changes.items())),
        "final_membership": stats.final_membership,
        "client_operations": dict(sorted(stats.ops.items())),
    }
    if info is not None:
        fields["wall_s"] = round(info.wall_s, 3)
        fields["trace"] = str(info.trace)
        fields["trace_bytes"] = info.size
        fields["reproduce"] = info.command
    return fields


def summary_lines(stats: SimStats, info: RunInfo | None = None) -> list[tuple[str, str]]:
    """The run summary as (label, value) rows."""
    rate = f", {stats.steps / info.wall_s:,.0f} steps/s" if info and info.wall_s > 0 else ""
    wall = f" in {info.wall_s:.1f} s of wall time{rate}" if info else ""
    terms = term_ranges(stats.leaders)
    leaders = "none"
    if terms:
        last = max(stats.leaders)
        leaders = f"{len(stats.leaders)} of {last} terms had a leader: {elide(terms)}"
    faults = ", ".join(f"{k} {v}" for k, v in sorted(stats.faults.items())) or "none"
    ops = ", ".join(f"{k} {v}" for k, v in sorted(stats.ops.items())) or "none"
    kinds = change_kinds(stats.membership)
    changes = "none"
    if stats.membership:
        counted = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        changes = f"{len(stats.membership)} committed ({counted})"
        if len(stats.membership) <= _ENDS:
            changes += ": " + "; ".join(stats.membership)
    rows = [
        ("simulated", f"{stats.sim_seconds:.1f} s, {stats.steps:,} node steps{wall}"),
        ("leaders per term", leaders),
        ("commit index", str(stats.commit)),
        ("faults injected", faults),
        ("membership changes", changes),
        ("final membership", stats.final_membership),
        ("client operations", ops),
    ]
    if info is not None:
        size = info.size
        where = str(info.trace) + (f" ({human_bytes(size)})" if size is not None else "")
        rows.append(("trace", where))
        rows.append(("reproduce", info.command))
    return rows
