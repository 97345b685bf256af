"""``raftlab lincheck``: decide whether client histories are linearizable.

A thin shell over :mod:`checkers.linearizability`.  Only ``typer`` is
imported with this module; the checker, ``orjson`` and (on a terminal)
``rich`` are imported inside the command, and plain text is written with
``sys.stdout`` so that checking one small file costs little more than
starting Python.  Many files are checked in one process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
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

Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (the --timeout or
--max-memory limit was reached) or bad input (the error names the file and
line). With several files: 1 if any file is not linearizable, else 2 if any
is unknown or bad, else 0.

Examples:

  raftlab lincheck runs/7/history.jsonl --html runs/7/lin.html

  raftlab lincheck etcd_*.log --model register --timeout 30 --json
"""

EXIT = {"linearizable": 0, "not-linearizable": 1}


def lincheck(
    histories: list[Path] = typer.Argument(..., help="The history files to check."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, jsonl, edn or jepsen-log."),
    model: str = typer.Option("kv", "--model", "-m", help="kv (per key) or register."),
    html: Path = typer.Option(
        None, "--html", help="Also write an HTML report here (a directory for several files)."
    ),
    timeout: float = typer.Option(
        60.0,
        "--timeout",
        "-t",
        help="Hard limit on wall time per file, in seconds (answer: unknown).",
    ),
    max_memory: float = typer.Option(
        1024.0, "--max-memory", help="Hard limit on memory the check may add, in MB per process."
    ),
    workers: int = typer.Option(
        None, "--workers", "-j", help="Processes to use (default: every core)."
    ),
    every: bool = typer.Option(
        False, "--all", help="Decide every key instead of stopping at the first violation."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    from checkers.linearizability import FORMATS
    from checkers.linearizability.models import MODELS

    if fmt not in FORMATS:
        raise _fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if model not in MODELS:
        raise _fail(f"unknown --model {model!r}; choose one of {', '.join(MODELS)}")
    if timeout is not None and timeout <= 0:
        raise _fail("--timeout must be a positive number of seconds")
    if max_memory is not None and max_memory <= 0:
        raise _fail("--max-memory must be a positive number of megabytes")
    options = {
        "fmt": fmt,
        "model": model,
        "timeout": timeout,
        "max_memory": max_memory,
        "workers": workers,
        "every": every,
    }
    if len(histories) == 1:
        raise typer.Exit(_one(histories[0], html, as_json, options))
    raise typer.Exit(_many(histories, html, as_json, options))


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(2)


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


def _one(path: Path, html: Path | None, as_json: bool, options: dict[str, Any]) -> int:
    from checkers.linearizability import HistoryError, write_html

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
    page = write_html(result, html) if html is not None else None
    if as_json:
        doc = {"file": str(path), **result.summary()}
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
                "summary": {"files": len(docs), **counts, "elapsed_s": round(elapsed, 3)},
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


def _print_json(doc: dict[str, Any]) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
