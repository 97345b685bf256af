"""Commands that parse their own arguments with argparse, inside the typer app.

``raftlab lincheck``, ``raftlab cluster`` and ``raftlab kv`` define their
options once, with argparse (sub-commands, fast start-up, no pydantic), and
the typer application registers them as pass-through commands: every
argument, ``--help`` included, goes to the command's own ``main(argv)``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # no ``typing`` at run time: start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: How the typer application registers such a command (see raftlab/cli.py).
CONTEXT: dict[str, Any] = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


def typer_command(main: Callable[[list[str]], int], name: str) -> Callable[..., None]:
    """A typer command named ``name`` that hands its arguments to ``main``.

    Built on demand so that command modules do not import typer; the
    annotation is set to the real class because typer evaluates it.
    """
    import typer

    def command(ctx: typer.Context) -> None:
        raise typer.Exit(main(list(ctx.args)))

    command.__name__ = name
    command.__annotations__ = {"ctx": typer.Context, "return": None}
    return command
