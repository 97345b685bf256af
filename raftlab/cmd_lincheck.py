"""``raftlab lincheck``: decide whether a client history is linearizable.

A thin shell over :mod:`checkers.linearizability`; heavy imports happen
inside the command so that ``raftlab --help`` stays quick.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

LINCHECK_HELP = """Decide whether a history of client operations is linearizable; explain why not.

The history is the project's JSONL (docs/history-format.md), Jepsen EDN maps
({:process 0, :type :invoke, :f :put, ...}) or Jepsen log lines
(INFO  jepsen.util - 0<TAB>:invoke<TAB>:read<TAB>nil); --format auto guesses.

Model `kv` checks each key on its own (get, put, delete, cas, append);
`register` treats the whole history as one compare-and-set register
(read, write, cas), as Jepsen's etcd tests do.

On a violation the report names the first operation that cannot be
linearized, the longest linearizable prefix before it (with the value after
each step) and why each candidate next operation fails. --html writes a
self-contained page with one lane per client and a link to the violation.

Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (the --timeout ran
out) or bad input (the error names the file and line).

Examples:

  raftlab lincheck runs/7/history.jsonl --html runs/7/lin.html

  raftlab lincheck etcd_000.log --model register --timeout 30
"""


def lincheck(
    history: Path = typer.Argument(..., help="The history file to check."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, jsonl, edn or jepsen-log."),
    model: str = typer.Option("kv", "--model", "-m", help="kv (per key) or register."),
    html: Path = typer.Option(None, "--html", help="Also write an HTML report here."),
    timeout: float = typer.Option(
        None, "--timeout", "-t", help="Give up after this many seconds (answer: unknown)."
    ),
    workers: int = typer.Option(
        None, "--workers", "-j", help="Processes to use (default: every core)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary instead of text."),
) -> None:
    from rich.console import Console
    from rich.markup import escape

    from checkers.linearizability import (
        FORMATS,
        HistoryError,
        check,
        get_model,
        load_history,
        write_html,
    )
    from checkers.linearizability.models import MODELS

    err = Console(stderr=True, highlight=False, soft_wrap=True)

    def fail(message: str) -> typer.Exit:
        err.print(f"[bold red]error:[/] {escape(message)}")
        return typer.Exit(2)

    if fmt not in FORMATS:
        raise fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if model not in MODELS:
        raise fail(f"unknown --model {model!r}; choose one of {', '.join(MODELS)}")
    if timeout is not None and timeout <= 0:
        raise fail("--timeout must be a positive number of seconds")
    try:
        hist = load_history(history, fmt)
    except HistoryError as exc:
        raise fail(str(exc)) from None
    m = get_model(model, hist.initial)

    if err.is_terminal and not as_json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("[bold]checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("partitions"),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("check", total=None)

            def progress(done: int, total: int, key: str, verdict: str) -> None:
                bar.update(task, completed=done, total=total)

            result = check(hist, m, timeout=timeout, workers=workers, progress=progress)
    else:
        result = check(hist, m, timeout=timeout, workers=workers)

    page = None
    if html is not None:
        page = write_html(result, html)
    if as_json:
        import orjson

        summary = result.summary()
        if page is not None:
            summary["html"] = str(page)
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(result.explain())
        if page is not None:
            sys.stdout.write(f"HTML report: {page}\n")
    raise typer.Exit({"linearizable": 0, "not-linearizable": 1}.get(result.verdict, 2))
