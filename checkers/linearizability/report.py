"""Explaining a verdict in words a person can check by hand.

A violation is explained from three things the search returns: the first
operation that cannot be linearized (for the configuration-set search, the
operation whose return empties the set), the longest linearizable prefix
found before it, and the operations that were still candidates at that
point.  This module replays the prefix through the model to show the state
after each step, and asks the model why each candidate cannot go next, so
the explanation never depends on which search found the violation.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkers.linearizability.history import History, Operation
from checkers.linearizability.model import Model
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, UNKNOWN, PartitionResult

MAX_CANDIDATES = 20


@dataclass(slots=True, frozen=True)
class Step:
    """One operation of a linearization and the state it leaves."""

    op: Operation
    state: str
    legal: bool = True


@dataclass(slots=True, frozen=True)
class Candidate:
    """An operation that could have gone next, and what happens if it does."""

    op: Operation
    legal: bool
    reason: str


@dataclass(slots=True, frozen=True)
class Violation:
    """Everything needed to show one partition's violation."""

    key: str
    blocked: Operation
    prefix: tuple[Step, ...]
    state: str
    candidates: tuple[Candidate, ...]
    more_candidates: int
    algorithm: str
    #: When the search blamed ``blocked`` by looking ahead: the later
    #: operation that needs the value ``blocked`` would overwrite for good.
    needer: Operation | None = None


def replay(model: Model, ops: list[Operation]) -> list[Step]:
    """Run ``ops`` through the model from its initial state."""
    state = model.init()
    steps: list[Step] = []
    for op in ops:
        ok, nxt = model.step(state, op)
        if ok:
            state = nxt
        steps.append(Step(op=op, state=model.describe_state(state), legal=ok))
    return steps


def violation(
    part: Partition, res: PartitionResult, model: Model, by_id: dict[int, Operation]
) -> Violation:
    """Build the explanation of a ``not-linearizable`` partition result."""
    assert res.blocked is not None
    blocked = by_id[res.blocked]
    prefix_ops = [by_id[i] for i in res.prefix]
    steps = replay(model, prefix_ops)
    state = model.init()
    for op in prefix_ops:
        ok, nxt = model.step(state, op)
        if ok:
            state = nxt
    placed = set(res.prefix)
    ret_of = {op.id: part.ret[i] for i, op in enumerate(part.ops)}
    limit = ret_of.get(blocked.id)
    if limit is None:
        limit = blocked.call
    pending = [op for op in part.ops if op.id not in placed and op.call <= limit]
    pending.sort(key=lambda op: (op.id != blocked.id, op.call, op.id))
    cands: list[Candidate] = []
    for op in pending[:MAX_CANDIDATES]:
        ok, nxt = model.step(state, op)
        if not ok:
            cands.append(Candidate(op=op, legal=False, reason=model.why_illegal(state, op)))
            continue
        lost = _still_needed(part, model, placed, op, state, nxt)
        if lost is not None:
            reason = (
                f"could take effect here, but it would overwrite {model.describe_state(state)} "
                f"for good (nothing left writes it again) while #{lost.id} "
                f"{model.describe_op(lost)} (line {lost.call_line}) still needs it"
            )
        elif op.id == blocked.id:
            reason = (
                f"legal here (the value would become {model.describe_state(nxt)}), "
                "but no order of the other pending operations then explains what followed"
            )
        else:
            reason = (
                f"could take effect here (the value would become "
                f"{model.describe_state(nxt)}), but then #{blocked.id} still cannot"
            )
        cands.append(Candidate(op=op, legal=True, reason=reason))
    needer = None
    ok, nxt = model.step(state, blocked)
    if ok:
        needer = _still_needed(part, model, placed, blocked, state, nxt)
    return Violation(
        needer=needer,
        key=part.key,
        blocked=blocked,
        prefix=tuple(steps),
        state=model.describe_state(state),
        candidates=tuple(cands),
        more_candidates=max(0, len(pending) - MAX_CANDIDATES),
        algorithm=res.algorithm,
    )


def _still_needed(
    part: Partition,
    model: Model,
    placed: set[int],
    op: Operation,
    state: object,
    nxt: object,
) -> Operation | None:
    """The op that still needs ``state`` if ``op`` overwrites it for good, else None.

    Mirrors the search's lost-state pruning, so that a violation it found by
    looking ahead is explained in the same terms.
    """
    if nxt == state:
        return None
    needer: Operation | None = None
    for i, other in enumerate(part.ops):
        if other.id in placed or other.id == op.id:
            continue
        if model.result_state(other) == state and not model.readonly(other):
            return None  # something can write it again
        if needer is None and part.ret[i] is not None and model.required_state(other) == state:
            needer = other
    return needer


def op_line(op: Operation, model: Model) -> str:
    """``#id client C  description  (lines a-b)`` for one operation."""
    where = f"line {op.call_line}"
    if op.ret_line is not None:
        where = f"lines {op.call_line}-{op.ret_line}"
    outcome = {"ok": "", "info": " [unknown outcome]", "fail": " [failed]"}[op.status]
    return f"#{op.id} client {op.client}  {model.describe_op(op)}{outcome}  ({where})"


def _key_label(key: str) -> str:
    return f"key {key!r}" if key else "the register"


def explain_text(
    history: History,
    model: Model,
    parts: list[Partition],
    results: list[PartitionResult],
    verdict: str,
    elapsed: float,
    max_steps: int = 20,
) -> str:
    """The full text report: verdict, per-key table, and each violation."""
    by_id = {op.id: op for op in history.ops}
    lines: list[str] = []
    nclients = len(history.clients)
    lines.append(
        f"History: {history.source} ({history.format}, {len(history):,} operations, "
        f"{nclients} client{'s' if nclients != 1 else ''})"
    )
    lines.append(f"Model: {model.name}, {len(parts)} partition{'s' if len(parts) != 1 else ''}")
    bad = [r for r in results if r.verdict == ILLEGAL]
    unknown = [r for r in results if r.verdict == UNKNOWN]
    summary = verdict.upper()
    if bad and len(results) > 1:
        summary += f" ({len(bad)} of {len(results)} partitions)"
    lines.append(f"Verdict: {summary}  [{elapsed:.2f} s]")
    lines.append("")
    if len(results) > 1:
        lines.append("Per key:")
        shown = sorted(
            zip(parts, results, strict=True),
            key=lambda pr: (pr[1].verdict != ILLEGAL, pr[1].verdict != UNKNOWN, pr[0].key),
        )
        width = max(len(repr(p.key)) for p in parts)
        for p, r in shown[:50]:
            extra = f", {r.reason}" if r.reason else ""
            lines.append(
                f"  {p.key!r:<{width}}  {r.verdict:<17} {p.total:>7,} ops "
                f"({len(p.dropped):,} dropped; {r.algorithm}, {r.elapsed:.2f} s{extra})"
            )
        if len(shown) > 50:
            lines.append(f"  ... {len(shown) - 50} more partitions, all linearizable")
        lines.append("")
    for r in unknown:
        if len(results) == 1:
            lines.append(f"Unknown: {r.reason or 'no answer'} ({r.algorithm}).")
    for p, r in zip(parts, results, strict=True):
        if r.verdict != ILLEGAL:
            continue
        v = violation(p, r, model, by_id)
        lines.extend(_violation_lines(v, model, max_steps))
        if p.dropped:
            lines.append(
                f"  ({len(p.dropped):,} operations of this partition were set aside before "
                "the search: failed ones, unknown-outcome reads, unobserved unknown writes.)"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _violation_lines(v: Violation, model: Model, max_steps: int) -> list[str]:
    out = [f"Violation on {_key_label(v.key)} (found by {v.algorithm}):"]
    out.append("  The first operation that cannot be linearized:")
    out.append(f"    {op_line(v.blocked, model)}")
    if v.needer is not None:
        out.append(
            f"  It must take effect before it returns, and that would overwrite {v.state} "
            "for good, while"
        )
        out.append(f"    {op_line(v.needer, model)}")
        out.append("  still needs that value.")
    n = len(v.prefix)
    if n == 0:
        out.append(
            "  No operation could be linearized before it; the initial value is "
            f"{model.describe_state(model.init())}."
        )
    else:
        first = max(0, n - max_steps)
        head = f"last {n - first} of {n} steps" if first else f"{n} steps"
        out.append(f"  Longest linearizable prefix before it ({head}), with the value after each:")
        if first:
            out.append(f"    ... {first:,} earlier steps")
        for k in range(first, n):
            s = v.prefix[k]
            mark = "" if s.legal else "  (replay: not legal!)"
            out.append(f"    {k + 1:>5}. {op_line(s.op, model)}  => {s.state}{mark}")
    out.append(f"  Then the value is {v.state}, and no candidate can go next:")
    for c in v.candidates:
        out.append(f"    {op_line(c.op, model)}")
        out.append(f"        {c.reason}")
    if v.more_candidates:
        out.append(f"    ... {v.more_candidates} more pending operations")
    return out
