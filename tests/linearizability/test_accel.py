"""The compiled build (``make accel``) judges histories as the pure Python does.

``raftlab lincheck`` runs twice on each history, in subprocesses: once
importing the pure Python and once the mypyc build in build/accel/ (the
readers, the reductions and both searches compiled; raftlab/accel.py), and the
exit codes, the text reports and the JSON reports must be the same, except
for the elapsed times they print.  The histories: generated legal and
illegal ones (JSONL and EDN, unique and repeated values, appends, unknown
outcomes, compare-and-set), and Jepsen etcd logs from ../shared/histories.
Skipped when the build is missing or stale: compiling needs a C compiler and
is not part of ``make test``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checkers.linearizability.generate import (
    APPEND_MIX,
    Mix,
    appends_with_stale_read,
    generate,
    mutate,
    records_to_edn,
    records_to_jsonl,
)
from raftlab.accel import PACKAGES, ROOT, accel_status, build_env

ETCD = ROOT / ".." / "shared" / "histories" / "porcupine" / "jepsen-etcd"
HARD = Mix(put=0.40, delete=0.05, cas=0.05, unknown=0.02)

#: name -> (records, file format); each generated with its own seed.
GENERATED = {
    "plain-ok": (generate(3000, 10, 10, seed=1), "jsonl"),
    "plain-bad": (mutate(generate(3000, 10, 10, seed=2), 2, "read")[0], "jsonl"),
    "hard-ok": (generate(2000, 20, 3, seed=3, mix=HARD), "jsonl"),
    "hard-bad": (mutate(generate(2000, 20, 3, seed=4, mix=HARD), 4, "cas")[0], "jsonl"),
    "values-ok": (generate(1500, 5, 1, seed=5, values=4), "jsonl"),
    "appends-bad": (appends_with_stale_read()[0], "jsonl"),
    "appends-ok": (generate(1500, 50, 10, seed=6, mix=APPEND_MIX), "jsonl"),
    "edn-ok": (generate(5000, 10, 10, seed=7), "edn"),
    "edn-bad": (mutate(generate(5000, 10, 10, seed=8), 8, "read")[0], "edn"),
}

#: What differs between two runs of the same check: the times it reports,
#: and the build the JSON names.
_TIMES = re.compile(
    r'("elapsed_s": )[0-9.e-]+|("build": )"[a-z]+"|\[[0-9.]+ s\]|, [0-9.]+ s\)|[0-9.]+ s\b'
)


def _env(compiled: bool) -> dict[str, str]:
    """The pure Python comes from the checkout on PYTHONPATH, the compiled
    build from build/accel placed before it (both run outside the checkout)."""
    return build_env(dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0"), compiled)


def _lincheck(tmp: Path, args: list[str], compiled: bool) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``raftlab lincheck ARGS``, times masked."""
    done = subprocess.run(
        [sys.executable, "-m", "raftlab.cli", "lincheck", "--workers", "1", *args],
        env=_env(compiled),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, _TIMES.sub(r"\1\2T", done.stdout), done.stderr


def _same(tmp: Path, args: list[str]) -> tuple[int, str]:
    """Run both builds, text and JSON reports; assert they agree; the pure text report."""
    reports = []
    for extra in ([], ["--json"]):
        pure = _lincheck(tmp, [*args, *extra], compiled=False)
        compiled = _lincheck(tmp, [*args, *extra], compiled=True)
        assert compiled == pure
        reports.append(pure)
    assert reports[0][0] == reports[1][0]
    return reports[0][0], reports[0][1]


def test_each_subprocess_imports_the_checker_it_is_meant_to(built: None, tmp_path: Path) -> None:
    """Without this the comparisons below could compare pure with pure."""
    code = (
        "import checkers.linearizability.history as h, checkers.linearizability.jit as j, "
        "checkers.linearizability.normalize as n, checkers.linearizability.parse.canonical as c; "
        "print(h.__file__, j.__file__, n.__file__, c.__file__)"
    )
    for compiled in (False, True):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=_env(compiled),
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for path in done.stdout.split():
            assert path.endswith(".so") == compiled and ("build/accel" in path) == compiled, path


def test_the_compiled_canonical_reader_reads_canonical_lines(built: None, tmp_path: Path) -> None:
    """It declines (``None``) only on unusual input, compiled as in pure Python:
    a decline would go unseen in the reports (the general reader reads the
    same history), only slower."""
    path = tmp_path / "h.edn"
    path.write_text(records_to_edn(generate(400, 5, 3, seed=12)))
    code = (
        "import sys; from checkers.linearizability.parse.canonical import read_canonical; "
        "print(read_canonical(open(sys.argv[1]).read(), 'h.edn') is not None)"
    )
    for compiled in (False, True):
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)],
            env=_env(compiled),
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.stdout.strip() == "True", (compiled, done.stdout, done.stderr)


def _build_run(tmp: Path, env: dict[str, str]) -> str:
    """The ``build`` that ``raftlab lincheck --json`` names, run with ``env``."""
    path = tmp / "small.jsonl"
    path.write_text(records_to_jsonl(generate(30, 2, 2, seed=11)))
    done = subprocess.run(
        [sys.executable, "-m", "raftlab.cli", "lincheck", "--json", str(path)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    build: str = json.loads(done.stdout)["build"]
    return build


def test_lincheck_runs_the_fresh_build_by_default(built: None, tmp_path: Path) -> None:
    """The console entry point puts a fresh build first on the module path in
    its own process; RAFTLAB_BUILD=pure keeps the pure Python."""
    env = {k: v for k, v in os.environ.items() if k != "RAFTLAB_BUILD"}
    env["PYTHONPATH"] = str(ROOT)
    assert _build_run(tmp_path, env) == "compiled"
    assert _build_run(tmp_path, {**env, "RAFTLAB_BUILD": "pure"}) == "pure"


def _tree(root: Path, stamp_age: float) -> Path:
    """A checkout with one source file per copied package, built ``stamp_age``
    seconds after those files were last written."""
    for i, package in enumerate(PACKAGES):
        (root / package / "sub").mkdir(parents=True)
        (root / package / "sub" / f"m{i}.py").write_text("")
        os.utime(root / package / "sub" / f"m{i}.py", (1_000_000, 1_000_000))
    stamp = root / "build" / "accel" / ".built"
    stamp.parent.mkdir(parents=True)
    stamp.write_text("")
    os.utime(stamp, (1_000_000 + stamp_age, 1_000_000 + stamp_age))
    return root


def test_accel_status_says_missing_fresh_or_stale(tmp_path: Path) -> None:
    assert accel_status(tmp_path).startswith("not built")
    root = _tree(tmp_path / "fresh", 10)
    assert accel_status(root) == ""
    # A source written after the build (in a sub-package): stale, named.
    os.utime(root / "checkers" / "sub" / "m4.py", (1_000_020, 1_000_020))
    (root / "sim" / "__pycache__").mkdir()
    assert accel_status(root) == "stale (m4.py changed since make accel)"
    assert accel_status(_tree(tmp_path / "old", -10)).startswith("stale (m0.py, m1.py")


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_histories_get_the_same_reports(built: None, tmp_path: Path, name: str) -> None:
    records, fmt = GENERATED[name]
    path = tmp_path / f"{name}.{fmt}"
    path.write_text(records_to_edn(records) if fmt == "edn" else records_to_jsonl(records))
    code, out = _same(tmp_path, [str(path), "--all"])
    assert code == (1 if name.endswith("bad") else 0), out
    if code:
        assert "Violation on key" in out


def test_a_cut_off_history_gets_the_same_error(built: None, tmp_path: Path) -> None:
    """Bad input: the same one line naming file and line, exit 2, either way."""
    path = tmp_path / "cut.jsonl"
    path.write_text(records_to_jsonl(generate(50, 3, 2, seed=9)) + '{"client": 1, "type"\n')
    pure = _lincheck(tmp_path, [str(path)], compiled=False)
    assert pure[0] == 2 and "cut.jsonl:" in pure[2]
    assert _lincheck(tmp_path, [str(path)], compiled=True) == pure


@pytest.mark.skipif(not ETCD.is_dir(), reason=f"Jepsen etcd logs not found at {ETCD}")
def test_jepsen_etcd_logs_get_the_same_reports(built: None, tmp_path: Path) -> None:
    logs = sorted(str(p) for p in ETCD.glob("*.log"))[:12]
    code, out = _same(tmp_path, ["--model", "register", *logs])
    assert code == 1 and " linearizable " in out and out.count("etcd_") >= len(logs)
    # One file alone gets the whole explanation; the first one found illegal.
    bad = next(log for log in logs if _lincheck(tmp_path, [log, "--model", "register"], False)[0])
    code, out = _same(tmp_path, ["--model", "register", bad])
    assert code == 1 and "Longest linearizable prefix" in out
