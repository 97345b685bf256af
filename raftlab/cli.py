"""The ``raftlab`` command line.

Each sub-command lives in its own ``raftlab/cmd_*.py`` module and is listed
in :data:`COMMANDS`, so this file stays a table of contents.  Start-up time
matters (``raftlab lincheck`` is run once per file by scripts), so modules
are imported only when needed: ``raftlab NAME ...`` imports only that
command's module, and ``raftlab --help`` imports every command module but
none of what the commands do (they import it inside the function).  The full
application (``raftlab.cli.app``, for tests and tools) is built on first
access.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

#: command name -> (module, function, help constant)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("raftlab.cmd_run", "run", "RUN_HELP"),
    "sim": ("raftlab.cmd_sim", "sim", "SIM_HELP"),
    "check": ("raftlab.cmd_check", "check", "CHECK_HELP"),
    "replay": ("raftlab.cmd_replay", "replay", "REPLAY_HELP"),
    "lincheck": ("raftlab.cmd_lincheck", "lincheck", "LINCHECK_HELP"),
}

HELP = (
    "Run, break and verify Raft clusters.\n\n"
    "Typical session: `raftlab sim --seed 7 --out run.jsonl` to simulate a cluster "
    "with faults, `raftlab check run.jsonl` to check it, `raftlab replay run.jsonl` "
    "to prove the run is deterministic."
)


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with just ``only`` (still a group)."""
    import typer

    app = typer.Typer(
        name="raftlab",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _group() -> None:
        """Keeps ``raftlab NAME`` a sub-command even when only one is registered."""

    for name, (module, function, help_name) in COMMANDS.items():
        if only is not None and name != only:
            continue
        mod = import_module(module)
        app.command(name, help=getattr(mod, help_name))(getattr(mod, function))
    return app


def __getattr__(name: str) -> object:
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    name = sys.argv[1] if len(sys.argv) > 1 else None
    build_app(name if name in COMMANDS else None)()


if __name__ == "__main__":
    main()
