"""``raftlab lincheck``: decide whether client histories are linearizable.

A thin shell over :mod:`checkers.linearizability`.  Scripts run it once per
file, so start-up matters: ``raftlab lincheck`` is dispatched by
:func:`raftlab.cli.main` straight to :func:`main`, which parses its options
with ``argparse`` (typer converts parameters with pydantic, which cost more
than the whole check of a small file).  The typer application registers the
same :func:`main` as a pass-through command, so there is one definition of
the options.  The checker, ``orjson`` and (on a terminal) ``rich`` are
imported inside the command.  Many files are checked in one process.

What start-up is left, measured with ``python -X importtime`` and cut: no
``typing`` at run time, no ``shutil`` (argparse's help formatter asks it
for the terminal width on every ``add_argument``), no ``threading``, and no
interpreter teardown: :func:`leave` ends the process once the output is
flushed, because freeing every module and operation one by one cost more
than the check of a 2,000-operation file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from raftlab.selfparsed import CONTEXT as SELF_PARSED

TYPE_CHECKING = False  # no ``typing`` at run time: start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from checkers.linearizability import LinResult

LINCHECK_HELP = """Decide whether histories of client operations are linearizable; explain why not.

A history is the project's JSONL (docs/history-format.md), Jepsen EDN maps
({:process 0, :type :invoke, :f :put, ...}) or Jepsen log lines
(INFO  jepsen.util - 0  :invoke  :read  nil, fields separated by tabs or
spaces); --format auto guesses. An empty history is linearizable.

Model `kv` checks each key on its own (get, put, delete, cas, append);
`register` treats the whole history as one compare-and-set register
(read, write, cas), as Jepsen's etcd tests do, and refuses histories with
several keys or other operations.

The check stops at the first key found not linearizable (--all decides
every key). The report leads with the operation whose result is
impossible, then the first operation that cannot be linearized, the longest
linearizable prefix before it (with the value after each step) and why each
candidate next operation fails. --html writes a self-contained page.

With several files, each gets one line and a summary table follows
(--html is then a directory, one page per file).

When `make accel` has built the compiled checker and it is up to date with
the sources, it is the one that runs (--json names the build);
RAFTLAB_BUILD=pure keeps the pure Python.

Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (the --timeout or
--max-memory limit was reached) or bad input (the error names the file and
line). With several files: 1 if any file is not linearizable, else 2 if any
is unknown or bad, else 0.

Examples:

  raftlab lincheck runs/7/history.jsonl --html runs/7/lin.html

  raftlab lincheck etcd_*.log --model register --timeout 30 --json
"""

EXIT = {"linearizable": 0, "not-linearizable": 1}


def _columns() -> int:
    """The terminal width, as ``shutil.get_terminal_size`` gives it, without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, width=_columns() - 2)


def parser() -> argparse.ArgumentParser:
    """The one definition of the options (``raftlab lincheck`` runs it without typer)."""
    p = argparse.ArgumentParser(
        prog="raftlab lincheck",
        description=LINCHECK_HELP,
        formatter_class=_formatter,
    )
    p.add_argument("histories", nargs="+", type=Path, metavar="FILE", help="history files")
    p.add_argument(
        "--format", "-f", dest="fmt", default="auto", help="auto, jsonl, edn or jepsen-log"
    )
    p.add_argument("--model", "-m", default="kv", help="kv (per key) or register")
    p.add_argument(
        "--html", type=Path, help="also write an HTML report here (a directory for several files)"
    )
    p.add_argument(
        "--timeout",
        "-t",
        type=float,
        default=60.0,
        help="hard limit on wall time per file, in seconds (answer: unknown; default 60)",
    )
    p.add_argument(
        "--max-memory",
        type=float,
        default=1024.0,
        help="hard limit on the memory a check may add, in MB per process (default 1024)",
    )
    p.add_argument(
        "--workers",
        "-j",
        type=int,
        help="processes to use (default: every core with 4 or more, else 1)",
    )
    p.add_argument(
        "--all",
        dest="every",
        action="store_true",
        help="decide every key instead of stopping at the first violation",
    )
    p.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of text")
    return p


def main(argv: list[str], kept: list[object] | None = None) -> int:
    """Run ``raftlab lincheck`` with ``argv``; returns the exit code.

    ``kept``, from the console entry point, which then ends the process with
    :func:`leave`: the result of a single file is appended to it, not freed
    when this returns (freeing a 100k-operation history, its partitions and
    operations one by one, cost 20 ms of a 0.45 s run).
    """
    from checkers.linearizability.gcpause import paused_gc

    # The cyclic collector would rescan every operation of a large history
    # each time it runs (and once when re-enabled between reading and
    # checking); nothing here makes reference cycles.
    with paused_gc():
        return _main(argv, [] if kept is None else kept)


def leave(code: int) -> NoReturn:
    """End the ``raftlab lincheck`` process with ``code`` once the output is flushed.

    Skips the interpreter's teardown (freeing each module and each object of
    the history in turn, then a last garbage collection), which cost 8 ms of
    a 60 ms run on a 2,000-operation file and more on large ones.  Only the
    console entry point calls it; :func:`main` returns normally.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said
        code = code or 2
    os._exit(code)


def _main(argv: list[str], kept: list[object]) -> int:
    try:
        a = parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error (argparse printed it)
        return int(exc.code or 0)
    from checkers.linearizability import FORMATS
    from checkers.linearizability.models import MODELS

    if a.fmt not in FORMATS:
        return _fail(f"unknown --format {a.fmt!r}; choose one of {', '.join(FORMATS)}")
    if a.model not in MODELS:
        return _fail(f"unknown --model {a.model!r}; choose one of {', '.join(MODELS)}")
    if a.timeout <= 0:
        return _fail("--timeout must be a positive number of seconds")
    if a.max_memory <= 0:
        return _fail("--max-memory must be a positive number of megabytes")
    options = {
        "fmt": a.fmt,
        "model": a.model,
        "timeout": a.timeout,
        "max_memory": a.max_memory,
        "workers": a.workers,
        "every": a.every,
    }
    if len(a.histories) == 1:
        return _one(a.histories[0], a.html, a.as_json, options, kept)
    return _many(a.histories, a.html, a.as_json, options)


def typer_command() -> Callable[..., None]:
    """The command for the typer application (``raftlab.cli.app``): :func:`main` as is."""
    from raftlab.selfparsed import typer_command as passthrough

    return passthrough(main, "lincheck")


#: How the typer application registers this command: every argument, --help
#: included, goes to :func:`parser`.
CONTEXT = SELF_PARSED


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2


def _check(path: Path, options: dict[str, Any], progress: Any = None) -> LinResult:
    """Load and check one file; raises ``HistoryError`` for bad input."""
    from checkers.linearizability import check, get_model, load_history

    hist = load_history(path, options["fmt"])
    return check(
        hist,
        get_model(options["model"], hist.initial),
        timeout=options["timeout"],
        workers=options["workers"],
        progress=progress,
        every=options["every"],
        max_memory_mb=options["max_memory"],
    )


def _one(
    path: Path, html: Path | None, as_json: bool, options: dict[str, Any], kept: list[object]
) -> int:
    from checkers.linearizability import HistoryError

    try:
        if sys.stderr.isatty() and not as_json:
            result = _with_progress_bar(path, options)
        else:
            result = _check(path, options)
    except HistoryError as exc:
        if as_json:
            _print_json({"file": str(path), "verdict": "error", "error": str(exc)})
        sys.stderr.write(f"error: {exc}\n")
        return 2
    kept.append(result)
    page = None
    if html is not None:
        from checkers.linearizability import write_html

        page = write_html(result, html)
    if as_json:
        doc = {"file": str(path), "build": _build(), **result.summary()}
        if page is not None:
            doc["html"] = str(page)
        _print_json(doc)
    else:
        sys.stdout.write(result.explain())
        if page is not None:
            sys.stdout.write(f"HTML report: {page}\n")
    return EXIT.get(result.verdict, 2)


def _with_progress_bar(path: Path, options: dict[str, Any]) -> LinResult:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with Progress(
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("keys"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("check", total=None)

        def progress(done: int, total: int, key: str, verdict: str) -> None:
            bar.update(task, completed=done, total=total)

        return _check(path, options, progress)


def _many(paths: list[Path], html: Path | None, as_json: bool, options: dict[str, Any]) -> int:
    """One line per file, then a summary; the same verdicts as one file at a time."""
    from checkers.linearizability import HistoryError, write_html
    from checkers.linearizability.report import plural

    started = time.monotonic()
    docs: list[dict[str, Any]] = []
    width = max(len(str(p)) for p in paths)
    for path in paths:
        doc: dict[str, Any] = {"file": str(path)}
        try:
            result = _check(path, options)
        except HistoryError as exc:
            doc.update(verdict="error", error=str(exc))
            if not as_json:
                sys.stdout.write(f"{path!s:<{width}}  {'error':<16}  {exc}\n")
            docs.append(doc)
            continue
        if html is not None:
            doc["html"] = str(write_html(result, html / (path.name + ".html")))
        if as_json:
            doc.update(result.summary())
        else:
            doc.update(verdict=result.verdict)
            sys.stdout.write(
                f"{path!s:<{width}}  {result.verdict:<16}  "
                f"{plural(len(result.history), 'operation'):>18}  {result.elapsed:6.2f} s"
                f"{_headline(result)}\n"
            )
        docs.append(doc)
    counts = {v: sum(1 for d in docs if d["verdict"] == v) for v in _ORDER}
    elapsed = time.monotonic() - started
    if as_json:
        _print_json(
            {
                "files": docs,
                "summary": {
                    "files": len(docs),
                    **counts,
                    "elapsed_s": round(elapsed, 3),
                    "build": _build(),
                },
            }
        )
    else:
        sys.stdout.write(f"\nSummary of {plural(len(docs), 'file')} [{elapsed:.2f} s]:\n")
        for v in _ORDER:
            sys.stdout.write(f"  {v:<16} {counts[v]:>6,}\n")
    if counts["not-linearizable"]:
        return 1
    return 2 if counts["unknown"] or counts["error"] else 0


_ORDER = ("linearizable", "not-linearizable", "unknown", "error")


def _headline(result: LinResult) -> str:
    """``  key 'x': #12 get(x) -> '3' (line 40)``: what to look at first, or why unknown."""
    if result.verdict == "unknown":
        reasons = sorted({r.reason for r in result.results if r.verdict == "unknown"})
        return "  " + "; ".join(reasons)
    for v in result.violations():
        op = v.needer or v.blocked
        where = f"key {v.key!r}: " if v.key else ""
        return f"  {where}#{op.id} {result.model.describe_op(op)} (line {op.call_line})"
    return ""


def _build() -> str:
    """Which build of the checker ran: ``compiled`` (``make accel``) or ``pure``."""
    from raftlab.accel import checker_build

    return checker_build()


def _print_json(doc: dict[str, Any]) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
