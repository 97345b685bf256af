"""The ``raftlab`` command line.

Each sub-command lives in its own ``raftlab/cmd_*.py`` module and is
registered here, so this file stays a table of contents. Commands import
their heavy dependencies lazily so that ``raftlab --help`` stays quick.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="raftlab",
    help=(
        "Run, break and verify Raft clusters.\n\n"
        "Typical session: `raftlab sim --seed 7 --out run.jsonl` to simulate a cluster "
        "with faults, `raftlab check run.jsonl` to check it, `raftlab replay run.jsonl` "
        "to prove the run is deterministic."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from raftlab import cmd_check, cmd_replay, cmd_run, cmd_sim  # noqa: E402

app.command("run", help=cmd_run.RUN_HELP)(cmd_run.run)
app.command("sim", help=cmd_sim.SIM_HELP)(cmd_sim.sim)
app.command("check", help=cmd_check.CHECK_HELP)(cmd_check.check)
app.command("replay", help=cmd_replay.REPLAY_HELP)(cmd_replay.replay)

from raftlab import cmd_lincheck  # noqa: E402

app.command("lincheck", help=cmd_lincheck.LINCHECK_HELP)(cmd_lincheck.lincheck)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
