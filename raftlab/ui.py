"""Terminal output shared by the commands: progress bars, tables, errors.

Progress bars go to stderr and only when it is a terminal, so that piped
output and tests see clean text.

Rich is imported on first use, not with this module: ``raftlab --help``
imports every command, and rich's console, table and progress modules cost
more start-up time than the rest of the CLI together.  ``out`` and ``err``
are created on first access (module ``__getattr__``) and then kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
    from rich.console import Console
    from rich.table import Table

    from traces.recorder import StopRequest

    out: Console
    err: Console


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    # Errors name files and lines: never hard-wrapped, so they stay greppable.
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def __getattr__(name: str) -> object:
    if name == "out":
        return _console(False)
    if name == "err":
        return _console(True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextmanager
def progress_bar(
    label: str, total: float | None, unit: str = ""
) -> Iterator[Callable[[float], None]]:
    """Yields ``update(done)``; draws nothing unless stderr is a terminal."""
    err = _console(True)
    if not err.is_terminal:
        yield lambda done: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("{task.completed:,.1f}" + unit if total else "{task.completed:,.0f}" + unit),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def table(rows: list[tuple[str, str]], title: str | None = None) -> Table:
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title, show_header=False, box=None, pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label), Text(value))  # values hold paths: never markup
    return grid


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error the way every command does and return the exit to raise."""
    import typer
    from rich.markup import escape

    _console(True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def warn(message: str) -> None:
    from rich.markup import escape

    _console(True).print(f"[bold yellow]warning:[/] {escape(message)}")


def note(message: str) -> None:
    from rich.markup import escape

    _console(True).print(f"note: {escape(message)}")


def print_json(doc: Any) -> None:
    """One JSON document on stdout (what ``--json`` prints)."""
    import orjson

    _console(False).print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(), markup=False)


@contextmanager
def interruptible() -> Iterator[StopRequest | None]:
    """While inside, Ctrl-C and SIGTERM (``kill PID``) ask the recorder to
    stop at the next event, so that the trace is closed as interrupted with
    an integrity record that matches it (a second Ctrl-C stops at once).
    Yields the request to hand to the recorder (None off the main thread,
    where signals cannot be caught)."""
    import signal
    import threading

    from traces.recorder import StopRequest

    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    stop = StopRequest()

    def request(signum: int, frame: object) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def no_verdict_on_interrupt(what: str) -> Iterator[None]:
    """Ctrl-C inside is exit 2 with one line (click would make it exit 1,
    which means a violation)."""
    try:
        yield
    except KeyboardInterrupt:
        raise fail(f"interrupted while {what}: no verdict") from None


@contextmanager
def io_errors() -> Iterator[None]:
    """Every ``OSError`` inside becomes one error line and exit 2."""
    from raftlab.outputs import OutputError, describe_os_error

    try:
        yield
    except OutputError as error:
        raise fail(str(error)) from None
    except OSError as error:
        raise fail(describe_os_error(error)) from None
