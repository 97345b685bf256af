"""The experiment runner: simulate, check, replay.

Every command of the CLI is a thin shell over these functions, so that a
run started with ``raftlab run`` and the same steps done by hand with
``raftlab sim``/``check``/``replay`` give identical results. The summary
lives in ``raftlab.summary``, the Markdown report in ``raftlab.report``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from checkers import CheckReport, collect_client_events, default_registry, run_checkers
from consensus.replayer import CoreReplayer, ReplayError
from raftlab.outputs import write_atomic
from sim import (
    MembershipActor,
    NoActor,
    RandomActor,
    SimConfig,
    SimStats,
    Simulation,
    load_script,
)
from traces.integrity import Integrity
from traces.reader import open_trace
from traces.recorder import FileRecorder, StopRequest, make_header
from traces.replay import ReplayReport, contradiction, replay_trace

Progress = Callable[[float], None]


class Interrupted(KeyboardInterrupt):
    """A simulation stopped by Ctrl-C; ``partial`` holds what it wrote."""

    def __init__(self, partial: Path) -> None:
        super().__init__(str(partial))
        self.partial = partial


def make_actor(
    spec: str, seed: int, nodes: int, duration_s: float | None = None
) -> MembershipActor:
    """``random`` (the default), ``none``, or the path of a JSON script (checked
    against the initial ``nodes`` and the run's ``duration_s``)."""
    if spec == "none":
        return NoActor()
    if spec == "random":
        return RandomActor(random.Random(seed * 31 + 17), first_new_id=nodes + 1)
    return load_script(spec, nodes=nodes, duration_s=duration_s)


def simulate(
    config: SimConfig,
    membership: str,
    out: Path,
    progress: Progress | None = None,
    stop: StopRequest | None = None,
) -> SimStats:
    """Run one simulation and write its trace to ``out`` (``-``: stdout).
    ``stop``: set it (from a signal handler) to end the run at the next event."""
    actor = make_actor(membership, config.seed, config.nodes, config.duration_s)
    header = make_header("raftlab-sim", **config.header_fields(), membership=membership)
    recorder = FileRecorder(out, header, stop=stop)
    try:
        stats = Simulation(config, recorder, actor).run(progress)
    except KeyboardInterrupt:
        raise Interrupted(recorder.abort("interrupted by Ctrl-C or SIGTERM")) from None
    except BaseException as error:
        recorder.abort(f"failed: {type(error).__name__}: {error}")
        raise
    recorder.close()
    return stats


@dataclass(slots=True)
class CheckOutcome:
    header: dict[str, Any]
    report: CheckReport
    history: list[dict[str, Any]] = field(default_factory=list)
    lin_verdict: str = ""
    lin_explanation: str = ""
    lin_html: Path | None = None
    integrity: Integrity | None = None
    #: Whether a liveness warning fails the run too (``--strict-liveness``).
    strict_liveness: bool = False

    @property
    def violated(self) -> bool:
        """An invariant or linearizability failed (or, with
        ``strict_liveness``, a liveness bound was not met): what exit code 1
        means."""
        return (
            self.report.failed(strict_liveness=self.strict_liveness)
            or self.lin_verdict == "not-linearizable"
        )

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, or why the trace cannot be judged: ``TAMPERED``,
        ``TRUNCATED at seq N``, ``INTERRUPTED at seq N``, ``EMPTY``,
        ``UNDECIDED`` (linearizability ran out of time)."""
        integrity = self.integrity
        if integrity is not None and integrity.state == "tampered":
            return integrity.verdict
        if self.violated:
            return "FAIL"  # a violation in a prefix is a violation of the whole run
        if integrity is not None and integrity.verdict:
            return integrity.verdict
        if self.report.events == 0:
            return "EMPTY"
        if self.lin_verdict not in ("", "linearizable"):
            return "UNDECIDED"
        return "PASS"

    @property
    def ok(self) -> bool:
        return self.verdict == "PASS"

    def warning_rule(self) -> str:
        """What the liveness warnings mean for the verdict, in words."""
        if self.strict_liveness:
            return "they fail the run (--strict-liveness)"
        return "not violations; they fail the run only with --strict-liveness"

    @property
    def exit_code(self) -> int:
        return {"PASS": 0, "FAIL": 1}.get(self.verdict, 2)

    def notes(self) -> list[str]:
        """Why the verdict is not a plain PASS/FAIL, in sentences."""
        integrity = self.integrity
        notes = []
        if integrity is not None and integrity.state != "complete":
            notes.append(integrity.message)
        if self.report.events == 0:
            notes.append("the trace holds no events: there is nothing to check")
        return notes


def check_trace(
    path: Path,
    names: list[str] | None = None,
    html: Path | None = None,
    lin_timeout: float = 60.0,
    progress: Callable[[int], None] | None = None,
    strict_liveness: bool = False,
    spec: bool = False,
) -> CheckOutcome:
    """Every registered checker over the trace, then linearizability of the
    client history it contains (if any). Liveness warnings fail the outcome
    only with ``strict_liveness``. ``spec`` adds the spec checker
    (spec/RaftReconfig.tla's invariants, checkers/spec/; about ten times
    slower per event than the rest together, so ``raftlab check`` asks for
    it and the runs that check as they go do not)."""
    header, events = open_trace(path)
    registry = default_registry()
    if spec:
        from checkers.spec.checker import INFO

        registry.register(INFO)
    checkers = registry.create(header, names)
    history: list[dict[str, Any]] = []
    report = run_checkers(collect_client_events(events, history), checkers, progress)
    outcome = CheckOutcome(
        header, report, history, integrity=events.drain(), strict_liveness=strict_liveness
    )
    if history and names is None:
        _check_history(outcome, html, lin_timeout)
    return outcome


def _check_history(outcome: CheckOutcome, html: Path | None, timeout: float) -> None:
    from checkers.linearizability import check, history_from_records
    from checkers.linearizability.html import render_html

    result = check(history_from_records(outcome.history), model="kv", timeout=timeout)
    outcome.lin_verdict = str(result.verdict)
    outcome.lin_explanation = result.explain()
    if html is not None:
        write_atomic(html, render_html(result).encode())
        outcome.lin_html = html


def write_history(records: list[dict[str, Any]], path: Path) -> None:
    """The client history as JSON Lines (docs/history-format.md)."""
    write_atomic(path, b"".join(orjson.dumps(r) + b"\n" for r in records))


def replay_file(path: Path, progress: Callable[[int], None] | None = None) -> ReplayReport:
    """Replay a trace file and judge what a difference means from the file's
    integrity. A replay that cannot follow a modified file is reported as
    tampering; on an intact file it is a ``ReplayError``."""
    header, events = open_trace(path)
    replayer = CoreReplayer(header)
    try:
        report = replay_trace(events, replayer, progress)
    except ReplayError as error:
        integrity = events.drain()
        if integrity.state != "tampered":
            raise
        return ReplayReport(integrity=integrity, error=str(error))
    report.integrity = events.drain()
    report.node_trace = "node" in header  # one process's own file (traces.nodetrace)
    if report.divergence is not None and report.integrity.state != "tampered":
        _, again = open_trace(path)
        report.contradiction = contradiction(report.divergence, again)
    return report
