"""The ``raftlab`` command line.

Each sub-command lives in its own ``raftlab/cmd_*.py`` module and is listed
in :data:`COMMANDS`, so this file stays a table of contents.  Start-up time
matters (``raftlab lincheck`` is run once per file by scripts), so modules
are imported only when needed: ``raftlab NAME ...`` imports only that
command's module, and ``raftlab --help`` imports every command module but
none of what the commands do (they import it inside the function);
``raftlab lincheck`` does not even import typer.  The full
application (``raftlab.cli.app``, for tests and tools) is built on first
access.
"""

from __future__ import annotations

import sys
from importlib import import_module

TYPE_CHECKING = False  # no ``typing`` at run time: start-up
if TYPE_CHECKING:
    import typer

#: command name -> (module, function, help constant).  A module with a
#: ``CONTEXT`` parses its own arguments; its ``function`` builds the command.
#: A module with ``GROUP`` is a group of sub-commands; ``function`` builds it.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("raftlab.cmd_run", "run", "RUN_HELP"),
    "sim": ("raftlab.cmd_sim", "sim", "SIM_HELP"),
    "check": ("raftlab.cmd_check", "check", "CHECK_HELP"),
    "replay": ("raftlab.cmd_replay", "replay", "REPLAY_HELP"),
    "lincheck": ("raftlab.cmd_lincheck", "typer_command", "LINCHECK_HELP"),
    "cluster": ("raftlab.cmd_cluster", "typer_command", "CLUSTER_HELP"),
    "kv": ("raftlab.cmd_kv", "typer_command", "KV_HELP"),
    "trace": ("raftlab.cmd_trace", "trace", "TRACE_HELP"),
    "export": ("raftlab.cmd_export", "export", "EXPORT_HELP"),
    "spec": ("raftlab.cmd_spec", "spec", "SPEC_HELP"),
    "hunt": ("raftlab.cmd_hunt", "hunt", "HUNT_HELP"),
}

#: Commands that parse their own arguments (raftlab/selfparsed.py): run
#: without building the typer application at all.
SELF_PARSED = ("lincheck", "cluster", "kv")

#: The first line of each command's help, for ``raftlab --help`` without
#: importing typer (a test checks them against the commands' own help).
SUMMARIES: dict[str, str] = {
    "run": "Run the main job: a real cluster under faults (or a simulated one), checked.",
    "sim": "Simulate a Raft cluster under faults, deterministically, and write its trace.",
    "check": "Check a trace against every invariant, and its client history for linearizability.",
    "replay": "Re-run every node step of a trace on fresh Raft cores and compare.",
    "lincheck": "Decide whether histories of client operations are linearizable; explain why not.",
    "cluster": "Start, inspect, break and reconfigure a local raftlab cluster.",
    "kv": "Read and write a raftlab cluster's keys: put, get, del, cas, list.",
    "trace": "Work on trace files: merge the per-node traces of a real cluster.",
    "export": "Export a trace for other tools: ITF JSON, a TLA+ module or etcd-raft NDJSON.",
    "spec": "Work with TLA+ spec files in the subset raftlab's spec checker reads.",
    "hunt": "Search seeded schedules for a counterexample, then shrink it to a minimal one.",
}

HELP = (
    "Run, break and verify Raft clusters.\n\n"
    "Typical session: `raftlab run` to run a real cluster through faults and check it; "
    "`raftlab sim --seed 7 --out run.jsonl` to simulate one, `raftlab check run.jsonl` "
    "to check it, `raftlab replay run.jsonl` to prove the run is deterministic; "
    "`raftlab cluster up` to start a local cluster of your own."
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
        settings = getattr(mod, "CONTEXT", None)
        if getattr(mod, "GROUP", False):  # the command has sub-commands of its own
            app.add_typer(getattr(mod, function)(), name=name, help=getattr(mod, help_name))
        elif settings is not None:  # the command parses its own arguments
            app.command(name, help=getattr(mod, help_name), context_settings=settings)(
                getattr(mod, function)()
            )
        else:
            app.command(name, help=getattr(mod, help_name))(getattr(mod, function))
    return app


def __getattr__(name: str) -> object:
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def plain_help() -> str:
    """``raftlab --help`` as plain text: typer alone costs more start-up than the budget."""
    width = max(map(len, SUMMARIES))
    rows = "".join(f"  {name:<{width}}  {line}\n" for name, line in SUMMARIES.items())
    return (
        "Usage: raftlab [OPTIONS] COMMAND [ARGS]...\n\n"
        f"{HELP}\n\nCommands:\n{rows}\n"
        "Options:\n  --help  Show this message and exit.\n\n"
        "Run `raftlab COMMAND --help` for a command's options.\n"
    )


#: Commands whose speed is the simulator's: the console entry point runs them
#: on the compiled build when ``make accel`` has built it (raftlab/accel.py).
COMPILED = ("hunt", "sim")
#: Commands that choose the compiled build in their own process when it is
#: built and fresh (raftlab.accel.use_compiled): a re-run would cost a second
#: interpreter start, which is most of the check of a small history.
COMPILED_HERE = ("lincheck",)


def main() -> None:
    """Console-script entry point."""
    name = sys.argv[1] if len(sys.argv) > 1 else None
    if len(sys.argv) <= 2 and name in (None, "--help", "-h"):
        sys.stdout.write(plain_help())
        sys.exit(0 if name else 2)
    if name in COMPILED:
        from raftlab.accel import rerun_compiled

        # The console script again (its name is the one --help shows), or
        # the module when this ran as ``python -m raftlab.cli``.
        script = sys.argv[0]
        start = [script] if not script.endswith(".py") else ["-m", "raftlab.cli"]
        rerun_compiled([*start, *sys.argv[1:]])
    if name == "lincheck":
        # Its process ends with os._exit (cmd_lincheck.leave), so the cyclic
        # collector stays off from here to the end: on during the imports it
        # ran three collections (5 ms); re-enabled after the check, its first
        # collection scanned every object the check made (28 ms on 100k
        # operations), and nothing the command does makes reference cycles.
        import gc

        gc.disable()
    if name in COMPILED_HERE:
        from raftlab.accel import use_compiled

        use_compiled()
    if name in SELF_PARSED:  # start-up matters here: no typer (raftlab/selfparsed.py)
        command = import_module(COMMANDS[name][0])
        leave = getattr(command, "leave", None)
        if leave is None:
            sys.exit(command.main(sys.argv[2:]))
        # ``leave``: a command's own exit (lincheck skips the interpreter's
        # teardown); ``kept`` holds what the command built until then, so
        # that it is not freed object by object either when main returns.
        kept: list[object] = []
        leave(command.main(sys.argv[2:], kept))
    build_app(name if name in COMMANDS else None)()


if __name__ == "__main__":
    main()
