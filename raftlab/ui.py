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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from rich.console import Console
    from rich.table import Table

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

    grid = Table(title=title, show_header=False, box=None, pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error the way every command does and return the exit to raise."""
    import typer
    from rich.markup import escape

    _console(True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)
