"""A spec checked on the states of an ITF trace of another tool (Quint's
``quint run --out-itf``, Apalache's counterexamples): the ITF variables are
the spec's variables, so no mapping is needed, and the properties to check
are named by the user (TLC's INVARIANT and ACTION_CONSTRAINT play the same
part in a .cfg file).

Each named invariant is evaluated on every state; each named action on
every pair of consecutive states (trace validation: every step of the
trace must be the action, usually the spec's ``Next``). A failure names the
state by its index in the document (``states[3]``) and says what the
property read, or which conjunct of the action was FALSE, as the mapped
checker does (``checkers.spec.validate.describe``). A raftlab trace, or
raftlab's own ITF export, is checked through its mapping instead
(``checkers.spec.check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from checkers.base import Violation
from checkers.spec import nodes as n
from checkers.spec.check import LIMIT, variables_read
from checkers.spec.errors import SpecError
from checkers.spec.evaluator import Evaluator
from checkers.spec.spec import Spec
from checkers.spec.validate import describe, explain
from checkers.spec.values import Value, format_value, from_python
from traces.itf import ItfTrace

__all__ = ["ItfCheck", "check_itf"]

State = dict[str, Value]


@dataclass(slots=True)
class ItfCheck:
    """What ``check_itf`` found: the same fields the mapped check reports."""

    spec: Spec
    invariants: tuple[str, ...]
    actions: tuple[str, ...]
    states: int = 0
    validated: int = 0
    violations: list[Violation] = field(default_factory=list)
    suppressed: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, index: int, message: str, lines: Iterable[str]) -> None:
        count = self.counts.get(name, 0)
        self.counts[name] = count + 1
        if count >= LIMIT:
            self.suppressed += 1
            return
        checker = f"spec:{self.spec.module.name}"
        self.violations.append(Violation(name, checker, (index,), message, tuple(lines)))


def check_itf(
    spec: Spec,
    trace: ItfTrace,
    invariants: Iterable[str],
    actions: Iterable[str] = (),
    where: str = "<itf>",
    constants: Mapping[str, Value] | None = None,
) -> ItfCheck:
    """Every one of ``invariants`` on every state of ``trace`` and every one
    of ``actions`` on every step; SpecError for a property the spec does not
    define, or a trace that lacks one of the spec's variables."""
    module = spec.module
    check = ItfCheck(spec, tuple(invariants), tuple(actions))
    if not check.invariants and not check.actions:
        raise SpecError(
            f"not a raftlab ITF export, so there is no mapping to say what to check "
            f"(its variables: {', '.join(trace.vars) or 'none'}): give --invariant NAME "
            "(each state) or --action NAME (each step) of the spec, or both",
            where,
        )
    _check_names(module, check.invariants, check.actions, spec.file)
    missing = [v for v in module.variables if v not in trace.vars]
    if missing:
        raise SpecError(
            f"{where}: the trace has no variable {', '.join(missing)} of {module.name} "
            f"(it has: {', '.join(trace.vars) or 'none'})",
            spec.file,
        )
    ev = spec.evaluator(constants)
    reads = {name: variables_read(module, name) for name in check.invariants}
    previous: State | None = None
    for index, raw in enumerate(trace.states):
        state = {v: from_python(raw[v], f"{where}: states[{index}].{v}") for v in module.variables}
        check.states += 1
        for name in check.invariants:
            if not _holds(ev, name, state, None, {}, f"{name} in states[{index}]"):
                shown = [f"{v} = {format_value(state[v])}" for v in reads[name]]
                check.add(name, index, f"{name} is FALSE in states[{index}] of {where}.", shown)
        if previous is not None:
            for name in check.actions:
                check.validated += 1
                _validate(check, ev, name, index, previous, state, where)
        previous = state
    return check


def _check_names(
    module: n.Module, invariants: tuple[str, ...], actions: tuple[str, ...], file: str
) -> None:
    definitions = {d.name: d for d in module.definitions}
    for kind, names in (("--invariant", invariants), ("--action", actions)):
        for name in names:
            definition = definitions.get(name)
            if definition is None:
                raise SpecError(f"{kind} {name}: {module.name} defines no {name}", file)
            if definition.params:
                raise SpecError(
                    f"{kind} {name}: {name} takes parameters ({', '.join(definition.params)}); "
                    "name a definition without any",
                    file,
                )


def _validate(
    check: ItfCheck,
    ev: Evaluator,
    name: str,
    index: int,
    before: State,
    after: State,
    where: str,
) -> None:
    if _holds(ev, name, before, after, {}, f"{name} from states[{index - 1}] to states[{index}]"):
        return
    why = explain(ev, name, {}, before, after)
    head = f"the step from states[{index - 1}] to states[{index}] of {where} is not {name}:"
    message, lines = describe(head, why)
    changed = [
        f"{v}: {format_value(before[v])} -> {format_value(after[v])}"
        for v in before
        if before[v] != after[v]
    ]
    lines.append("the step changed: " + ("; ".join(changed) if changed else "nothing"))
    check.add(name, index, message, lines)


def _holds(
    ev: Evaluator,
    name: str,
    state: State,
    next_state: State | None,
    params: dict[str, Value],
    what: str,
) -> bool:
    try:
        return bool(ev.holds(name, state, next_state, params))
    except SpecError as error:
        raise SpecError(
            f"{error.message} (evaluating {what})",
            error.file,
            error.line,
            error.column,
            error.text,
        ) from None
