"""The closing ``summary`` line of ``bench/kv.py`` and its plot, from the rows alone.

Both read only the JSON rows the run printed (``load`` and ``failover``),
so a saved run can be summarised and plotted again. Rows of one
configuration and client count repeated (``--repeats``) are folded into
their median. A configuration is named by its label: ``raftlab n3 state``,
``pysyncobj n3``, ``etcd n3``. The aims are the ones issue 8 states; an aim
whose rows are missing is ``met: null``, never a pass.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

PEER = "pysyncobj"


def label(row: dict[str, Any]) -> str:
    level = row.get("trace_level")
    return f"{row['target']} n{row['nodes']}" + (f" {level}" if level else "")


def _medians(rows: list[dict[str, Any]], field: str) -> dict[str, dict[str, float]]:
    """label -> clients -> the median of ``field`` over that pair's rows."""
    grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["kind"] == "load":
            grouped[label(r)][r["clients"]].append(r[field])
    return {
        name: {str(c): round(statistics.median(xs), 3) for c, xs in sorted(by_clients.items())}
        for name, by_clients in grouped.items()
    }


def _failovers(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        label(r): {
            "median_ms": r["p50_ms"],
            "p99_ms": r["p99_ms"],
            "max_ms": r["max_ms"],
            "trials": r["trials"],
            "failed_trials": r["failed_trials"],
        }
        for r in rows
        if r["kind"] == "failover"
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _ratios(
    throughput: dict[str, dict[str, float]],
    p50: dict[str, dict[str, float]],
    failover: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """raftlab / peer (3 nodes, at each client count both ran) and raftlab / etcd."""
    out: dict[str, Any] = {}
    for other in (f"{PEER} n3", "etcd n3"):
        if other not in throughput:
            continue
        for name in sorted(n for n in throughput if n.startswith("raftlab n3")):
            common = sorted(set(throughput[name]) & set(throughput[other]), key=int)
            entry: dict[str, Any] = {
                "throughput": {
                    c: _ratio(throughput[name][c], throughput[other][c]) for c in common
                },
                "p50": {c: _ratio(p50[name][c], p50[other][c]) for c in common},
            }
            if name in failover and other in failover:
                mine, theirs = failover[name], failover[other]
                entry["failover_median"] = _ratio(mine["median_ms"], theirs["median_ms"])
                entry["failover_p99"] = _ratio(mine["p99_ms"], theirs["p99_ms"])
            out[f"{name} / {other}"] = entry
    return out


def _aim(
    text: str, config: str, measured: float | None, bound: float | None, below: bool
) -> dict[str, Any]:
    met = None
    if measured is not None and bound is not None:
        met = measured <= bound if below else measured >= bound
    return {"aim": text, "config": config, "measured": measured, "bound": bound, "met": met}


def _aims(
    throughput: dict[str, dict[str, float]],
    p50: dict[str, dict[str, float]],
    failover: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    aims: list[dict[str, Any]] = []
    peer, etcd = throughput.get(f"{PEER} n3", {}), throughput.get("etcd n3", {})
    peer_p50 = p50.get(f"{PEER} n3", {})
    for name in sorted(n for n in throughput if n.startswith("raftlab")):
        mine, mine_p50 = throughput[name], p50[name]
        if name.startswith("raftlab n3"):
            for c in sorted(mine, key=int):
                aims.append(
                    _aim(
                        f"throughput above the peer's at {c} clients (ops/s)",
                        name,
                        mine[c],
                        peer.get(c),
                        below=False,
                    )
                )
                aims.append(
                    _aim(
                        f"p50 below the peer's at {c} clients (ms)",
                        name,
                        mine_p50[c],
                        peer_p50.get(c),
                        below=True,
                    )
                )
            if "64" in mine:
                half = None if "64" not in etcd else round(etcd["64"] / 2, 3)
                aims.append(
                    _aim(
                        "throughput at 64 clients within 2x of etcd's (ops/s)",
                        name,
                        mine["64"],
                        half,
                        below=False,
                    )
                )
        if "1" in mine_p50:
            aims.append(
                _aim("single-client p50 at most 2 ms", name, mine_p50["1"], 2.0, below=True)
            )
    for name, f in sorted(failover.items()):
        if name.startswith("raftlab"):
            aims.append(_aim("failover median at most 300 ms", name, f["median_ms"], 300.0, True))
            aims.append(_aim("failover p99 at most 600 ms", name, f["p99_ms"], 600.0, True))
    return aims


def summary(rows: list[dict[str, Any]], plot: str | None) -> dict[str, Any]:
    throughput = _medians(rows, "throughput")
    p50, p99 = _medians(rows, "p50_ms"), _medians(rows, "p99_ms")
    failover = _failovers(rows)
    return {
        "kind": "summary",
        "throughput": throughput,
        "p50_ms": p50,
        "p99_ms": p99,
        "failover": failover,
        "ratios": _ratios(throughput, p50, failover),
        "aims": _aims(throughput, p50, failover),
        "profiles": {
            label(r): r.get("self_by_area") or r.get("error")
            for r in rows
            if r["kind"] == "profile"
        },
        "unavailable": {r["target"]: r["reason"] for r in rows if r["kind"] == "unavailable"},
        "plot": plot,
    }


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Throughput and p50/p99 latency by client count, and the failover
    distributions as a CDF and a histogram, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    fig, ((ax_t, ax_l), (ax_cdf, ax_hist)) = plt.subplots(2, 2, figsize=(12, 9))
    _plot_load(rows, ax_t, ax_l)
    _plot_failover(rows, ax_cdf, ax_hist)
    for ax in (ax_t, ax_l, ax_cdf, ax_hist):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _legend(rows: list[dict[str, Any]]) -> dict[str, str]:
    """label -> its legend text, which says when a store does not fsync."""
    return {
        label(r): label(r) + ("" if r["fsync"] else " (no fsync)") for r in rows if "fsync" in r
    }


def _plot_load(rows: list[dict[str, Any]], ax_t: Any, ax_l: Any) -> None:
    throughput = _medians(rows, "throughput")
    p50, p99 = _medians(rows, "p50_ms"), _medians(rows, "p99_ms")
    legend = _legend(rows)
    for name in sorted(throughput):
        clients = [int(c) for c in throughput[name]]
        (line,) = ax_t.plot(clients, list(throughput[name].values()), "o-", label=legend[name])
        color = line.get_color()
        ax_l.plot(clients, list(p50[name].values()), "o-", color=color, label=f"{name} p50")
        ax_l.plot(clients, list(p99[name].values()), "x--", color=color, label=f"{name} p99")
    ax_t.set(title="throughput (closed loop)", xlabel="concurrent clients", ylabel="operations/s")
    ax_l.set(title="latency", xlabel="concurrent clients", ylabel="ms", yscale="log")
    ticks = sorted({int(c) for by_clients in throughput.values() for c in by_clients})
    for ax in (ax_t, ax_l):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(c) for c in ticks])


def _plot_failover(rows: list[dict[str, Any]], ax_cdf: Any, ax_hist: Any) -> None:
    legend = _legend(rows)
    samples = {
        label(r): sorted(s for s in r["samples_ms"] if s is not None)
        for r in rows
        if r["kind"] == "failover"
    }
    every = [x for xs in samples.values() for x in xs]
    top = max(every, default=1.0)
    bins = [top * i / 20 for i in range(21)]  # one set of bins, so the bars compare
    for name, ordered in sorted(samples.items()):
        if not ordered:
            continue
        n = len(ordered)
        xs, ys = [0.0, *ordered], [0.0, *((i + 1) / n for i in range(n))]
        ax_cdf.step(xs, ys, where="post", label=f"{legend[name]}, {n} trials")
        ax_hist.hist(ordered, bins=bins, alpha=0.6, label=legend[name])
    ax_cdf.set(
        title="failover: SIGKILL of the leader to the first acknowledged write",
        xlabel="ms",
        ylabel="fraction of trials",
    )
    ax_hist.set(title="failover, histogram", xlabel="ms", ylabel="trials")
