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
from checkers.linearizability.model import ANY, Model
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, SKIPPED, UNKNOWN, PartitionResult

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
    #: Why ``needer`` can no longer be satisfied once ``blocked`` takes effect.
    needer_why: str = ""


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
        grown = None if lost is not None else _unreachable_read(part, model, placed, op, state, nxt)
        if lost is not None:
            reason = (
                f"could take effect here, but it would overwrite {model.describe_state(state)} "
                f"for good (nothing left writes it again) while #{lost.id} "
                f"{model.describe_op(lost)} (line {lost.call_line}) still needs it"
            )
        elif grown is not None:
            reason = (
                f"could take effect here, but then the value {model.describe_state(nxt)} can "
                f"never become {model.describe_state(model.required_state(grown))}, which "
                f"#{grown.id} {model.describe_op(grown)} (line {grown.call_line}) reads later"
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
    needer_why = ""
    ok, nxt = model.step(state, blocked)
    if ok:
        needer = _still_needed(part, model, placed, blocked, state, nxt)
        if needer is not None:
            needer_why = (
                f"it needs the value {model.describe_state(state)}, which #{blocked.id} "
                "must overwrite for good before it returns (nothing left writes it again)"
            )
        else:
            needer = _unreachable_read(part, model, placed, blocked, state, nxt)
            if needer is not None:
                needer_why = (
                    f"#{blocked.id} must take effect before it returns, and from the value "
                    f"{model.describe_state(nxt)} nothing left can produce "
                    f"{model.describe_state(model.required_state(needer))}"
                )
    return Violation(
        needer=needer,
        needer_why=needer_why,
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


def _unreachable_read(
    part: Partition, model: Model, placed: set[int], op: Operation, state: object, nxt: object
) -> Operation | None:
    """A later read whose value ``state`` can grow into but ``nxt``, after ``op``, cannot.

    Mirrors the search's growth pruning (appends only extend a value): only
    for partitions with such operations, and only when no operation left
    could reset the value to one that reaches the read's.
    """
    if not any(not model.readonly(o) and model.result_state(o) is ANY for o in part.ops):
        return None
    for i, r in enumerate(part.ops):
        want = model.required_state(r)
        end = part.ret[i]
        if r.id in placed or r.id == op.id or not model.readonly(r) or end is None:
            continue
        if want is ANY or model.may_reach(nxt, want) or not model.may_reach(state, want):
            continue
        helped = any(
            o.id not in placed
            and o.id != op.id
            and o.call <= end
            and (y := model.result_state(o)) is not ANY
            and not model.readonly(o)
            and model.may_reach(y, want)
            for o in part.ops
        )
        if not helped:
            return r
    return None


def op_json(op: Operation, model: Model) -> dict[str, object]:
    """One operation as the JSON report shows it."""
    return {
        "id": op.id,
        "client": op.client,
        "op": model.describe_op(op),
        "status": op.status,
        "lines": [op.call_line, op.ret_line],
    }


def violation_json(v: Violation, model: Model) -> dict[str, object]:
    """The explanation of one violation, field by field (the text report's content)."""
    return {
        "key": v.key,
        "algorithm": v.algorithm,
        "impossible": None if v.needer is None else op_json(v.needer, model),
        "reason": v.needer_why or "no order of the pending operations can go next",
        "blocked": op_json(v.blocked, model),
        "prefix": [
            {**op_json(s.op, model), "state_after": s.state, "legal": s.legal} for s in v.prefix
        ],
        "state": v.state,
        "candidates": [
            {**op_json(c.op, model), "legal": c.legal, "reason": c.reason} for c in v.candidates
        ],
        "more_candidates": v.more_candidates,
    }


def op_line(op: Operation, model: Model) -> str:
    """``#id client C  description  (lines a-b)`` for one operation."""
    where = f"line {op.call_line}"
    if op.ret_line is not None:
        where = f"lines {op.call_line}-{op.ret_line}"
    outcome = {"ok": "", "info": " [unknown outcome]", "fail": " [failed]"}[op.status]
    return f"#{op.id} client {op.client}  {model.describe_op(op)}{outcome}  ({where})"


def plural(n: int, noun: str) -> str:
    """``1 operation``, ``2 operations``, ``1,000 keys``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _label_verdict(r: PartitionResult) -> str:
    return "not searched" if r.algorithm == SKIPPED else r.verdict


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
    lines: list[str] = []
    nclients = len(history.clients)
    lines.append(
        f"History: {history.source} ({history.format}, {plural(len(history), 'operation')}, "
        f"{plural(nclients, 'client')})"
    )
    lines.append(f"Model: {model.name}, {plural(len(parts), 'key')}")
    bad = [r for r in results if r.verdict == ILLEGAL]
    skipped = [r for r in results if r.algorithm == SKIPPED]
    unknown = [r for r in results if r.verdict == UNKNOWN and r.algorithm != SKIPPED]
    summary = verdict.upper()
    if bad and len(results) > 1:
        summary += f" ({len(bad)} of {plural(len(results), 'key')})"
    lines.append(f"Verdict: {summary}  [{elapsed:.2f} s]")
    if not history.ops:
        lines.append("The history is empty (0 operations): trivially linearizable.")
    if skipped:
        lines.append(
            f"Stopped at the first violation: {plural(len(skipped), 'key')} not searched "
            "(--all decides every key)."
        )
    lines.append("")
    if len(results) > 1:
        lines.append("Per key:")
        shown = sorted(
            zip(parts, results, strict=True),
            key=lambda pr: (
                pr[1].verdict != ILLEGAL,
                pr[1].algorithm == SKIPPED,
                pr[1].verdict != UNKNOWN,
                pr[0].key,
            ),
        )
        width = max(len(repr(p.key)) for p in parts)
        for p, r in shown[:50]:
            ops = f"{plural(p.total, 'op')} ({len(p.dropped):,} set aside"
            if r.algorithm == SKIPPED:
                lines.append(f"  {p.key!r:<{width}}  {'not searched':<17} {ops})")
                continue
            extra = f", {r.reason}" if r.reason else ""
            lines.append(
                f"  {p.key!r:<{width}}  {r.verdict:<17} {ops}; "
                f"{r.algorithm}, {r.elapsed:.2f} s{extra})"
            )
        if len(shown) > 50:
            rest = shown[50:]
            lines.append(
                f"  ... {plural(len(rest), 'more key')}: "
                + ", ".join(
                    f"{sum(1 for _p, r in rest if _label_verdict(r) == v)} {v}"
                    for v in ("linearizable", "unknown", "not searched")
                    if any(_label_verdict(r) == v for _p, r in rest)
                )
            )
        lines.append("")
    for r in unknown:
        if len(results) == 1:
            lines.append(f"Unknown: {r.reason or 'no answer'} ({r.algorithm}).")
    # Only a violation needs operations by id (100k of them cost 12 ms).
    by_id = {op.id: op for op in history.ops} if bad else {}
    for p, r in zip(parts, results, strict=True):
        if r.verdict != ILLEGAL:
            continue
        v = violation(p, r, model, by_id)
        lines.extend(_violation_lines(v, model, max_steps))
        if p.dropped:
            lines.append(
                f"  ({plural(len(p.dropped), 'operation')} of this key "
                f"{'was' if len(p.dropped) == 1 else 'were'} set aside before the search: "
                "failed ones, unknown-outcome reads, unobserved unknown writes.)"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _violation_lines(v: Violation, model: Model, max_steps: int) -> list[str]:
    out = [f"Violation on {_key_label(v.key)} (found by {v.algorithm}):"]
    if v.needer is not None:
        # Lead with what a person would blame: the read whose value no order
        # allows, not the innocent write the search could not place first.
        out.append("  The operation whose result is impossible:")
        out.append(f"    {op_line(v.needer, model)}")
        out.append(f"  because {v.needer_why}:")
        out.append(f"    {op_line(v.blocked, model)}")
        out.append("  That is the first operation that cannot be linearized.")
    else:
        out.append("  The first operation that cannot be linearized:")
        out.append(f"    {op_line(v.blocked, model)}")
    n = len(v.prefix)
    if n == 0:
        out.append(
            "  No operation could be linearized before it; the initial value is "
            f"{model.describe_state(model.init())}."
        )
    else:
        first = max(0, n - max_steps)
        head = f"last {n - first} of {plural(n, 'step')}" if first else plural(n, "step")
        out.append(f"  Longest linearizable prefix before it ({head}), with the value after each:")
        if first:
            out.append(f"    ... {plural(first, 'earlier step')}")
        for k in range(first, n):
            s = v.prefix[k]
            mark = "" if s.legal else "  (replay: not legal!)"
            out.append(f"    {k + 1:>5}. {op_line(s.op, model)}  => {s.state}{mark}")
    out.append(f"  Then the value is {v.state}, and no candidate can go next:")
    for c in v.candidates:
        out.append(f"    {op_line(c.op, model)}")
        out.append(f"        {c.reason}")
    if v.more_candidates:
        out.append(f"    ... {plural(v.more_candidates, 'more pending operation')}")
    return out
