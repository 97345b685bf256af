"""Benchmark the linearizability checker: time and peak memory per history shape.

Prints one JSON object per line: a ``reference`` line with Porcupine's
figures (Go, measured earlier on this machine; quoted, not re-measured),
one line per matrix row, one for the Jepsen etcd logs, and a final
``summary`` line.  Each row runs in its own subprocess so that its peak
memory can be measured: the resident set of the whole process tree (the
checker forks workers) is sampled every 100 ms from /proc (a scan costs CPU), and the largest
single-process peak comes from ``wait4``.

Each row runs the checker twice: with its defaults (worker processes for
large multi-key histories) and with ``workers=1``; on a 2-vCPU VM where two
processes get little more throughput than one, the second is often faster.
Beside the checker, each row runs ``bench/baselines/porcupine_like.py``: a
plain Python Wing & Gong search with a bitset memo cache, in the spirit of
Porcupine, so that the ratio compares algorithms in the same language.

Before the matrix come the rows of issue 7's side-by-side table that can be
re-run here: start-up (``raftlab --help``, ``raftlab lincheck`` on a
two-line file, both over a bare ``python -c pass``, medians of 21 runs with
bytecode caching on), the Jepsen etcd logs in one ``raftlab lincheck``
process, EDN parsing alone and whole checks of 100k-operation EDN
histories, and a 50-client, 10-key history with appends, not linearizable
and linearizable.  Their ``wall_s`` is the whole ``raftlab lincheck FILE``
process as a user runs it, with bytecode caching on (medians of ``--runs``
for the EDN rows, of at least 11 for the small files), which is what
Porcupine's figures are; ``load_s`` and ``check_s`` are the split measured
inside a child process, which also gives the peak memory.

Those figures are the pure Python's (RAFTLAB_BUILD=pure).  If the compiled
build is there and fresh (``make accel``; raftlab/accel.py), each
whole-process figure of those rows is measured once more on the user's
default path, where ``raftlab lincheck`` chooses that build in its own
process, under ``compiled`` (wall and CPU time, same medians; the script
first checks that the default path names the compiled build in its JSON);
otherwise ``compiled`` says why not.  Every whole process, pure or
compiled, runs in the cache directory, not the checkout (whose modules
would come first on the path).

Usage::

    python bench/lincheck.py --issue-rows-only   # issue 7's rows (about a minute)
    python bench/lincheck.py                 # the full matrix (a few minutes)
    python bench/lincheck.py --quick         # 10k-operation rows only
    python bench/lincheck.py --rows 'c50-k1-' --no-baseline
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

ETCD = ROOT / ".." / "shared" / "histories" / "porcupine" / "jepsen-etcd"

#: Porcupine (Go, commit 55508eb, Go 1.19), measured side by side with
#: raftlab on this machine by the author of issue 7 (each file its own
#: process, medians of 3).  Reference constants: Go is not installed here, so
#: this script cannot re-run them.  Keys are the rows below that match.
PORCUPINE_GO_REFERENCE: dict[str, dict[str, Any]] = {
    "kv-c50-k10-appends-bad": {"time_s": 0.056, "peak_rss_mb": 22, "ops": 2024},
    "kv-c50-k10-appends-ok": {"time_s": 0.175, "ops": 1712},
    "jepsen-etcd": {"time_s": 1.1, "logs": 103, "note": "103 logs, one process each; 60 here"},
    "edn-100k-c10-k10": {"time_s": 0.63},
    "edn-100k-c50-k10": {"time_s": 2.6, "peak_rss_mb": 2300},
    "10k-c10-k1": {"time_s": 1.27, "peak_rss_mb": 929},
    "30k-c10-k1": {"time_s": 8.0, "peak_rss_mb": 7700},
    "100k-c10-k1": {"outcome": "out of memory at 11.6 GB"},
}

LIMIT_S = 60.0
LIMIT_MB = 1024.0


def row_name(n: int, clients: int, keys: int, hard: bool, bad: bool) -> str:
    return f"{n // 1000}k-c{clients}-k{keys}-{'hard' if hard else 'plain'}-{'bad' if bad else 'ok'}"


def matrix(quick: bool) -> list[tuple[int, int, int, bool, bool]]:
    sizes = [10_000] if quick else [10_000, 100_000]
    return [
        (n, c, k, hard, bad)
        for n in sizes
        for c in (10, 50)
        for k in (1, 10, 1000)
        for hard in (False, True)
        for bad in (False, True)
    ]


def history_file(cache: Path, n: int, clients: int, keys: int, hard: bool, bad: bool) -> Path:
    """Generate (once) the history for a row; ``hard``: 5% CAS and 1% unknown outcomes."""
    from checkers.linearizability.generate import Mix, generate, mutate, records_to_jsonl

    path = cache / f"{row_name(n, clients, keys, hard, bad)}.jsonl"
    if path.exists():
        return path
    mix = Mix(put=0.40, delete=0.05, cas=0.05, unknown=0.01) if hard else Mix()
    seed = n + 7 * clients + 13 * keys + (1 if hard else 0)
    records = generate(n, clients, keys, seed=seed, mix=mix)
    if bad:
        records, _why = mutate(records, seed, "read")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(records_to_jsonl(records))
    tmp.replace(path)
    return path


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page
    total = 0
    for pid in rss:
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += rss[pid]
    return total / 2**20


def run_child(args: list[str], mem_cap_mb: float | None = None) -> dict[str, Any]:
    """Run this script in child mode; return its JSON plus measured memory and wall time."""

    def limit() -> None:
        if mem_cap_mb is not None:
            cap = int(mem_cap_mb * 2**20)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
    )
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.monotonic() - started
    try:
        res: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        res = {"verdict": "crashed", "stderr": err.decode()[-500:]}
    res["wall_s"] = round(wall, 2)
    res["peak_rss_mb"] = round(max(peak[0], res.get("maxrss_mb", 0.0)), 1)
    return res


def child(argv: list[str]) -> None:
    """Child mode: load one history, check it, print one JSON line."""
    p = argparse.ArgumentParser()
    p.add_argument("--algo", choices=["ours", "baseline"])
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--model", default="kv")
    p.add_argument("--timeout", type=float, default=LIMIT_S)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--parse-only", action="store_true")
    a = p.parse_args(argv)
    from checkers.linearizability import check, load_history

    t0 = time.monotonic()
    histories = [load_history(f) for f in a.file]
    t1 = time.monotonic()
    if a.parse_only:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"verdict": "parsed", "load_s": round(t1 - t0, 3), "maxrss_mb": own}))
        return
    verdicts = []
    try:
        for h in histories:
            if a.algo == "ours":
                res = check(h, model=a.model, timeout=a.timeout, workers=a.workers)
                verdicts.append(res.verdict)
            else:
                from bench.baselines.porcupine_like import check as baseline

                verdicts.append(baseline(h, per_key=a.model == "kv", timeout=a.timeout))
        verdict = verdicts[0] if len(verdicts) == 1 else verdicts
    except MemoryError:
        verdict = "out-of-memory"
    t2 = time.monotonic()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "verdict": verdict,
                "load_s": round(t1 - t0, 3),
                "check_s": round(t2 - t1, 3),
                "maxrss_mb": round(max(own, kids), 1),
            }
        )
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def _cached_env(cache: Path) -> dict[str, str]:
    """The environment a user has: bytecode cached (this sandbox disables it).

    The pure Python's: RAFTLAB_BUILD=pure, or ``raftlab lincheck`` would
    choose a fresh compiled build itself (see :func:`_compiled_env`)."""
    from raftlab.accel import build_env

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
    (cache / "pycache").mkdir(parents=True, exist_ok=True)
    return build_env(env, compiled=False)


def _compiled_env(env: dict[str, str]) -> dict[str, str] | str:
    """``env`` as a user has it, without RAFTLAB_BUILD, when the compiled build
    is fresh: ``raftlab lincheck`` then puts the build first on its module
    path itself (raftlab.accel.use_compiled), which is the default path
    these figures are for; else why the build cannot be used."""
    from raftlab.accel import BUILD_ENV, accel_status

    status = accel_status()
    if status:
        return status
    default = {k: v for k, v in env.items() if k != BUILD_ENV}
    probe = Path(default["PYTHONPYCACHEPREFIX"]) / "probe.jsonl"
    probe.write_text(
        '{"client": 0, "type": "invoke", "f": "get", "key": "x", "value": null}\n'
        '{"client": 0, "type": "ok", "f": "get", "key": "x", "value": null}\n'
    )
    done = subprocess.run(
        [*RAFTLAB, "lincheck", "--json", str(probe)],
        env=default,
        cwd=default["PYTHONPYCACHEPREFIX"],
        capture_output=True,
        text=True,
        check=False,
    )
    build = json.loads(done.stdout).get("build") if done.returncode == 0 else done.stderr
    if build != "compiled":
        return f"the default path ran {build!r}, not the compiled build"
    return default


def _also_compiled(
    row: dict[str, Any], cmd: list[str], cenv: dict[str, str] | str, runs: int
) -> None:
    """Add ``compiled``: the whole process ``cmd`` with the compiled build (or why not)."""
    if isinstance(cenv, str):
        row["compiled"] = cenv
        return
    wall, cpu = _times(cmd, cenv, runs)
    row["compiled"] = {"wall_s": wall, "cpu_s": cpu, "wall_runs": runs}
    ref = PORCUPINE_GO_REFERENCE.get(row["row"], {})
    if "time_s" in ref:
        row["compiled"]["porcupine_over_compiled"] = round(ref["time_s"] / max(wall, 1e-3), 2)
        row["compiled"]["porcupine_over_compiled_cpu"] = round(ref["time_s"] / max(cpu, 1e-3), 2)


def _wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of ``cmd`` (after one warm-up run)."""
    return _times(cmd, env, runs)[0]


def _times(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of ``cmd``, after a warm-up.

    The CPU time is given beside the wall time because this machine's two
    cores are shared: under load a single-threaded process waits for a core
    and its wall time grows, while its CPU time stays close to what an idle
    machine's wall time would be.
    """
    cwd = env["PYTHONPYCACHEPREFIX"]  # in the cache: the checkout on sys.path would come first
    null = subprocess.DEVNULL
    subprocess.run(cmd, stdout=null, stderr=null, env=env, cwd=cwd, check=False)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, stdout=null, stderr=null, env=env, cwd=cwd, check=False)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return _median(walls), _median(cpus)


#: ``raftlab`` as a user runs it (what the console script does).
RAFTLAB = [sys.executable, "-c", "from raftlab.cli import main; main()"]


def startup_rows(cache: Path, runs: int) -> list[dict[str, Any]]:
    """``raftlab --help`` and ``raftlab lincheck`` on a 2-line file, over bare Python."""
    env = _cached_env(cache)
    tiny = cache / "tiny.jsonl"
    cache.mkdir(parents=True, exist_ok=True)
    tiny.write_text(
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1"}\n'
    )
    bare, bare_cpu = _times([sys.executable, "-c", "pass"], env, runs)
    rows = []
    cenv = _compiled_env(env)
    for name, args, run_env in (
        ("startup-help", ["--help"], env),
        ("startup-lincheck-tiny", ["lincheck", str(tiny)], env),
        ("startup-lincheck-tiny-compiled", ["lincheck", str(tiny)], cenv),
    ):
        if isinstance(run_env, str):  # no fresh compiled build: why not
            rows.append({"row": name, "compiled": run_env})
            continue
        wall, cpu = _times(RAFTLAB + args, run_env, runs)
        rows.append(
            {
                "row": name,
                "median_wall_s": wall,
                "bare_python_s": bare,
                "overhead_ms": round((wall - bare) * 1000, 1),
                "cpu_s": cpu,
                "bare_python_cpu_s": bare_cpu,
                "overhead_cpu_ms": round((cpu - bare_cpu) * 1000, 1),
                "aim_overhead_ms": 60,
                "runs": runs,
            }
        )
    return rows


def _repeat(args: list[str], runs: int) -> dict[str, Any]:
    """``run_child`` ``runs`` times: medians of load and check time; max memory."""
    res = [run_child(args) for _ in range(runs)]
    out: dict[str, Any] = {"verdict": res[0].get("verdict"), "runs": runs}
    for field in ("load_s", "check_s"):
        if all(field in r for r in res):
            out[field] = _median([r[field] for r in res])
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in res)
    return out


def _whole(path: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    """The whole ``raftlab lincheck FILE`` process, as a user runs it: median wall time.

    Porcupine's figures are whole processes too.  (The child mode above
    reports the load/check split and memory, but its wall time would add
    this script's own imports and sampling.)
    """
    wall, cpu = _times([*RAFTLAB, "lincheck", str(path)], env, runs)
    return {"wall_s": wall, "cpu_s": cpu, "wall_runs": runs}


def issue_rows(cache: Path, runs: int) -> list[dict[str, Any]]:
    """The rows of issue 7's side-by-side table that this machine can re-run."""
    from checkers.linearizability.generate import (
        APPEND_MIX,
        appends_with_stale_read,
        generate,
        records_to_edn,
        records_to_jsonl,
    )

    cache.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    env = _cached_env(cache)
    cenv = _compiled_env(env)

    def file(name: str, make: Any) -> Path:
        path = cache / name
        if not path.exists():
            path.write_text(make())
        return path

    bad = file(
        "kv-c50-k10-appends-bad.jsonl", lambda: records_to_jsonl(appends_with_stale_read()[0])
    )
    ok = file(
        "kv-c50-k10-appends-ok.jsonl",
        lambda: records_to_jsonl(generate(2000, 50, 10, seed=2, mix=APPEND_MIX)),
    )
    for name, path, want in (
        ("kv-c50-k10-appends-bad", bad, "not-linearizable"),
        ("kv-c50-k10-appends-ok", ok, "linearizable"),
    ):
        res = _repeat(["--algo", "ours", "--file", str(path)], runs)
        res.update(_whole(path, env, max(11, 3 * runs)))
        rows.append({"row": name, "expected": want, **res})
        _also_compiled(rows[-1], [*RAFTLAB, "lincheck", str(path)], cenv, max(11, 3 * runs))
    for clients in (10, 50):
        name = f"edn-100k-c{clients}-k10"
        path = file(
            name + ".edn",
            lambda c=clients: records_to_edn(generate(100_000, c, 10, seed=100 + c)),
        )
        parse = _repeat(["--algo", "ours", "--file", str(path), "--parse-only"], runs)
        rows.append({"row": name + "-parse", "load_s": parse["load_s"], "runs": runs})
        res = _repeat(["--algo", "ours", "--file", str(path)], runs)
        res.update(_whole(path, env, runs))
        rows.append({"row": name, "expected": "linearizable", **res})
        _also_compiled(rows[-1], [*RAFTLAB, "lincheck", str(path)], cenv, runs)
    if ETCD.is_dir():
        logs = sorted(str(f) for f in ETCD.glob("*.log"))
        cmd = [
            *RAFTLAB,
            "lincheck",
            "--model",
            "register",
            *logs,
        ]
        rows.append(
            {
                "row": "jepsen-etcd",
                "logs": len(logs),
                **dict(zip(("one_process_wall_s", "cpu_s"), _times(cmd, env, runs), strict=True)),
            }
        )
        _also_compiled(rows[-1], cmd, cenv, runs)
    for row in rows:
        ref = PORCUPINE_GO_REFERENCE.get(row["row"])
        if ref is not None:
            row["porcupine_go_reference"] = ref
            # Porcupine's figures are whole processes (one per file), so the
            # like-for-like ratio is over our whole process too: start-up,
            # reading and checking. The check alone is given beside it.
            ours = row.get("wall_s", row.get("one_process_wall_s"))
            if ours and "time_s" in ref:
                row["porcupine_over_ours"] = round(ref["time_s"] / max(ours, 1e-3), 2)
            if row.get("cpu_s") and "time_s" in ref:
                row["porcupine_over_our_cpu"] = round(ref["time_s"] / max(row["cpu_s"], 1e-3), 2)
            if row.get("check_s") and "time_s" in ref:
                row["porcupine_over_our_check"] = round(
                    ref["time_s"] / max(row["check_s"], 1e-3), 2
                )
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="only the 10k-operation rows")
    p.add_argument("--rows", help="regex: run only the rows whose name matches")
    p.add_argument("--no-baseline", action="store_true", help="skip the Python Porcupine-like run")
    p.add_argument("--baseline-timeout", type=float, default=60.0)
    p.add_argument("--baseline-mem-mb", type=float, default=6144.0)
    p.add_argument("--no-etcd", action="store_true", help="skip the Jepsen etcd logs")
    p.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "raftlab-bench"
    )
    p.add_argument("--out", type=Path, help="also write every line to this file")
    p.add_argument(
        "--issue-rows-only",
        action="store_true",
        help="only start-up, many files, EDN and the 50-client rows (issue 7's table)",
    )
    p.add_argument("--runs", type=int, default=3, help="repetitions per issue row (median)")
    a = p.parse_args()
    lines: list[dict[str, Any]] = []

    def emit(obj: dict[str, Any]) -> None:
        lines.append(obj)
        print(json.dumps(obj), flush=True)

    emit(
        {
            "reference": "porcupine-go",
            "measured_on": "this machine, by issue 7's author (quoted; Go is not installed here)",
            "rows": PORCUPINE_GO_REFERENCE,
            "limits": {"time_s": LIMIT_S, "peak_rss_mb": LIMIT_MB},
            "cores": os.cpu_count(),
        }
    )
    for row in startup_rows(a.cache, max(11, a.runs * 7)) + issue_rows(a.cache, a.runs):
        emit(row)
    if a.issue_rows_only:
        return
    rows = matrix(a.quick)
    if a.rows:
        rows = [r for r in rows if re.search(a.rows, row_name(*r))]
    for n, c, k, hard, bad in rows:
        name = row_name(n, c, k, hard, bad)
        t = time.monotonic()
        path = history_file(a.cache, n, c, k, hard, bad)
        gen_s = time.monotonic() - t
        want = "not-linearizable" if bad else "linearizable"
        ours = run_child(["--algo", "ours", "--file", str(path), "--timeout", str(LIMIT_S)])
        one = run_child(
            ["--algo", "ours", "--file", str(path), "--timeout", str(LIMIT_S), "--workers", "1"]
        )
        row: dict[str, Any] = {
            "row": name,
            "ops": n,
            "clients": c,
            "keys": k,
            "cas_and_unknown": hard,
            "expected": want,
            "ours": ours,
            "ours_one_process": one,
            "ours_ok": ours.get("verdict") == want
            and ours["wall_s"] <= LIMIT_S
            and ours["peak_rss_mb"] <= LIMIT_MB,
            "generate_s": round(gen_s, 2),
        }
        ref = PORCUPINE_GO_REFERENCE.get(f"{n // 1000}k-c{c}-k{k}")
        if ref:
            row["porcupine_go_reference"] = ref
            if "time_s" in ref:
                row["speedup_vs_porcupine_go"] = round(
                    ref["time_s"] / max(ours.get("check_s", 0.0), 1e-3), 2
                )
        if not a.no_baseline:
            base = run_child(
                ["--algo", "baseline", "--file", str(path), "--timeout", str(a.baseline_timeout)],
                mem_cap_mb=a.baseline_mem_mb,
            )
            row["baseline"] = base
            if base.get("verdict") in ("linearizable", "not-linearizable"):
                row["speedup_vs_baseline"] = round(
                    base["check_s"] / max(ours.get("check_s", 0.0), 1e-3), 2
                )
            else:
                row["speedup_vs_baseline"] = (
                    f">{round(base['check_s'] / max(ours['check_s'], 1e-3), 1)}"
                )
        emit(row)
    if not a.no_etcd and ETCD.is_dir():
        logs = sorted(str(f) for f in ETCD.glob("*.log"))
        args = [x for f in logs for x in ("--file", f)]
        ours = run_child(["--algo", "ours", "--model", "register", *args])
        etcd: dict[str, Any] = {
            "row": "jepsen-etcd",
            "logs": len(logs),
            "ours_check_s": ours.get("check_s", 0.0),
            "ours_peak_rss_mb": ours["peak_rss_mb"],
            "porcupine_go_reference": PORCUPINE_GO_REFERENCE["jepsen-etcd"],
        }
        if not a.no_baseline:
            base = run_child(
                [
                    "--algo",
                    "baseline",
                    "--model",
                    "register",
                    *args,
                    "--timeout",
                    str(a.baseline_timeout),
                ]
            )
            etcd["baseline_check_s"] = base["check_s"]
        emit(etcd)
    matrix_rows = [r for r in lines if "ours" in r]
    emit(
        {
            "summary": True,
            "rows": len(matrix_rows),
            "all_correct_within_limits": all(r["ours_ok"] for r in matrix_rows),
            "max_check_s": max((r["ours"].get("check_s", 0) for r in matrix_rows), default=0),
            "max_peak_rss_mb": max((r["ours"]["peak_rss_mb"] for r in matrix_rows), default=0),
            "failing_rows": [r["row"] for r in matrix_rows if not r["ours_ok"]],
        }
    )
    if a.out:
        a.out.write_text("".join(json.dumps(x) + "\n" for x in lines))


if __name__ == "__main__":
    main()
