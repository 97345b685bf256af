"""Invariant checking of traces against a spec: every state a trace shows,
projected into the spec's variables by a mapping file kept beside the spec,
must satisfy the spec's named invariants (docs/spec-checking.md).

The mapping (``spec/RaftReconfig.mapping.toml``) says which field of a
node's folded trace state (``traces.export.steps.NodeView``) or of the step
(``SpecStep``) becomes which spec variable, defines history variables by
TLA+ expressions, and lists the state invariants and the step properties
to check. A second spec, or a changed trace schema, needs a new mapping and
no new code here.

The checker judges from evidence only: the states come from the ``st``
deltas the trace recorded, folded by the same code the exports use.
"""

from __future__ import annotations

import dataclasses
import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkers.base import Event, Violation
from checkers.spec import nodes as n
from checkers.spec.errors import SpecError
from checkers.spec.evaluator import Evaluator
from checkers.spec.spec import Spec
from checkers.spec.validate import ActionRule, describe, explain, load_rules
from checkers.spec.values import Fn, Value, format_value, sort_key
from traces.export.steps import NodeView, SpecStep, spec_steps

__all__ = [
    "SpecCheck",
    "SpecMapping",
    "check_events",
    "check_steps",
    "default_mapping_path",
    "load_mapping",
]

NODE_FIELDS = frozenset(f.name for f in dataclasses.fields(NodeView))
STEP_FIELDS = frozenset(f.name for f in dataclasses.fields(SpecStep)) - {"nodes"}

#: A variable's source: one field, or a record of fields (record field -> source field).
Source = str | tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SpecMapping:
    """A mapping file, read and checked against its spec."""

    file: str
    spec: Spec
    node: tuple[tuple[str, Source], ...]
    step: tuple[tuple[str, Source], ...]
    history: tuple[tuple[str, str, str], ...]  # (variable, init, next)
    invariants: tuple[str, ...]
    steps: tuple[str, ...]
    labels: frozenset[str] = frozenset()
    """Variables that describe the step rather than the state (``check.labels``)."""
    actions: tuple[ActionRule, ...] = ()
    """Which step is which action of the spec (``[[action]]``), for trace validation."""


def default_mapping_path() -> Path:
    """``spec/RaftReconfig.mapping.toml`` of the source tree this module is in."""
    return Path(__file__).resolve().parents[2] / "spec" / "RaftReconfig.mapping.toml"


def load_mapping(path: str | Path) -> SpecMapping:
    """Read a mapping file and the spec it names; every problem is a
    ``SpecError`` naming the file and the key."""
    where = str(path)
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SpecError(f"cannot read the mapping: {reason}", where) from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"not TOML: {error}", where) from None
    spec_name = doc.get("spec")
    if not isinstance(spec_name, str):
        raise SpecError("'spec' must name the spec file (relative to the mapping)", where)
    spec = Spec.load(Path(path).parent / spec_name)
    node = _sources(doc, "node", NODE_FIELDS, where)
    step = _sources(doc, "step", STEP_FIELDS, where)
    history = _history(doc, where)
    check = _table(doc, "check", where)
    invariants = _names(check, "invariants", where)
    steps = _names(check, "steps", where)
    labels = frozenset(_names(check, "labels", where))
    actions = load_rules(doc, spec.module, STEP_FIELDS, where)
    mapping = SpecMapping(where, spec, node, step, history, invariants, steps, labels, actions)
    _check_against_spec(mapping)
    return mapping


def _table(doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    table = doc.get(key, {})
    if not isinstance(table, dict):
        raise SpecError(f"[{key}] must be a table", where)
    return table


def _sources(
    doc: Mapping[str, Any], key: str, fields: frozenset[str], where: str
) -> tuple[tuple[str, Source], ...]:
    out: list[tuple[str, Source]] = []
    for var, source in _table(doc, key, where).items():
        if isinstance(source, str):
            _known_field(source, fields, f"{key}.{var}", where)
            out.append((var, source))
        elif isinstance(source, dict):
            record: list[tuple[str, str]] = []
            for name, field in source.items():
                if not isinstance(field, str):
                    raise SpecError(f"{key}.{var}.{name} must be a field name", where)
                _known_field(field, fields, f"{key}.{var}.{name}", where)
                record.append((name, field))
            out.append((var, tuple(record)))
        else:
            raise SpecError(f"{key}.{var} must be a field name or a table of them", where)
    return tuple(out)


def _known_field(field: str, fields: frozenset[str], key: str, where: str) -> None:
    if field not in fields:
        raise SpecError(
            f"{key}: unknown field {field!r} (known: {', '.join(sorted(fields))})", where
        )


def _history(doc: Mapping[str, Any], where: str) -> tuple[tuple[str, str, str], ...]:
    out: list[tuple[str, str, str]] = []
    for var, table in _table(doc, "history", where).items():
        if not (
            isinstance(table, dict)
            and isinstance(table.get("init"), str)
            and isinstance(table.get("next"), str)
        ):
            raise SpecError(f"history.{var} needs 'init' and 'next' expressions", where)
        out.append((var, table["init"], table["next"]))
    return tuple(out)


def _names(check: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    names = check.get(key, [])
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        raise SpecError(f"check.{key} must be a list of definition names", where)
    return tuple(names)


def _check_against_spec(mapping: SpecMapping) -> None:
    module = mapping.spec.module
    given = [v for v, _ in mapping.node] + [v for v, _ in mapping.step]
    given += [v for v, _, _ in mapping.history]
    for var in given:
        if var not in module.variables:
            raise SpecError(f"{var} is not a VARIABLE of {module.name}", mapping.file)
        if given.count(var) > 1:
            raise SpecError(f"{var} is mapped twice", mapping.file)
    missing = [v for v in module.variables if v not in given]
    if missing:
        raise SpecError(f"no mapping for VARIABLE(S) {', '.join(missing)}", mapping.file)
    definitions = {d.name: d for d in module.definitions}
    for var in sorted(mapping.labels):
        if var not in module.variables:
            raise SpecError(f"check.labels: {var} is not a VARIABLE of {module.name}", mapping.file)
    for name in mapping.invariants + mapping.steps:
        definition = definitions.get(name)
        if definition is None:
            raise SpecError(f"{module.name} defines no {name}", mapping.file)
        if definition.params:
            raise SpecError(f"{name} takes parameters: a property to check may not", mapping.file)


def variables_read(module: n.Module, name: str) -> tuple[str, ...]:
    """The variables definition ``name`` reads, directly or through the
    definitions it uses (in declaration order)."""
    definition = next(d for d in module.definitions if d.name == name)
    return variables_in(module, definition.body, {name})


def variables_in(module: n.Module, expr: n.Expr, seen: set[str] | None = None) -> tuple[str, ...]:
    """The variables ``expr`` reads, directly or through the definitions it
    uses (in declaration order); ``seen`` are definitions not to enter."""
    definitions = {d.name: d for d in module.definitions}
    variables = set(module.variables)
    found: set[str] = set()
    entered = set(seen or ())

    def walk(node: object) -> None:
        if isinstance(node, tuple):
            for item in node:
                walk(item)
            return
        if not isinstance(node, n.Expr):
            return
        ref = node.name if isinstance(node, n.Name | n.Call) else None
        if ref in variables:
            found.add(ref)
        elif ref in definitions and ref not in entered:
            entered.add(ref)
            walk(definitions[ref].body)
        for field in dataclasses.fields(node):
            if field.name != "at":
                walk(getattr(node, field.name))

    walk(expr)
    return tuple(v for v in module.variables if v in found)


State = dict[str, Value]

#: Findings kept per property.
LIMIT = 20


class SpecCheck:
    """Projects steps into spec states and evaluates the mapping's
    properties on each; findings go into ``violations`` (at most ``LIMIT``
    per property, so that one root cause does not drown the report).

    A state invariant is reported when it becomes FALSE (not again at every
    later state while it stays FALSE); a step property at every step that
    breaks it."""

    def __init__(self, mapping: SpecMapping, checker: str = "", validate: bool = True) -> None:
        self.mapping = mapping
        #: whether steps are validated against the mapping's actions
        self.validate = validate and bool(mapping.actions)
        self.rules = {(r.act, r.msg): r for r in mapping.actions}
        #: steps validated against an action, and steps of an action that
        #: lacked what the rule ``needs`` (a recv whose message is not in the trace)
        self.validated = 0
        self.unvalidated = 0
        self.module = mapping.spec.module
        self.ev: Evaluator = mapping.spec.evaluator()
        #: the ``checker`` of the findings (default ``spec:MODULE``)
        self.checker = checker or f"spec:{self.module.name}"
        self.violations: list[Violation] = []
        #: property -> findings so far; past LIMIT they are only counted
        self.counts: dict[str, int] = {}
        self.suppressed = 0
        self.history: State = {
            var: self.ev.value(self.ev.parse(init, f"{mapping.file}: history.{var}.init"))
            for var, init, _ in mapping.history
        }
        self._initial_history = dict(self.history)
        history_next = [
            (var, self.ev.parse(text, f"{mapping.file}: history.{var}.next"))
            for var, _, text in mapping.history
        ]
        #: only the history variables something checked reads are kept up
        #: (the others keep their init value: actions' evidence is not
        #: gathered when actions are not validated)
        used = _history_used(self.module, mapping, history_next, self.validate)
        self.history_next = [(var, expr) for var, expr in history_next if var in used]
        self.history_reads = {
            var: variables_in(self.module, expr) for var, expr in self.history_next
        }
        #: history variable -> the values its ``next`` read when it last left it unchanged
        self._history_fixed: dict[str, tuple[Value, ...]] = {}
        self.reads = {
            name: variables_read(self.module, name) for name in mapping.invariants + mapping.steps
        }
        self.failing: set[str] = set()
        self.previous: State | None = None
        self.previous_seq = 0
        self._seq = 0  # the step being judged, for error messages
        self.states = 0
        #: node -> (the NodeView last projected, its variables' values)
        self._node_cache: dict[int, tuple[NodeView, dict[str, Value]]] = {}
        #: (variable, how to read it from a NodeView / a SpecStep)
        self._node_getters = [(var, _getter(src)) for var, src in mapping.node]
        self._step_getters = [(var, _getter(src)) for var, src in mapping.step]
        #: the per-node variables' values in the last state, and its nodes
        self._fns: State = {}
        self._nodes: tuple[int, ...] = ()
        #: property -> the variables it reads, and of them the state variables (not labels)
        self._read_sets = {name: frozenset(reads) for name, reads in self.reads.items()}
        self._state_reads = {
            name: reads - set(mapping.labels) for name, reads in self._read_sets.items()
        }
        #: the variables whose value the last projected state changed from
        #: ``previous`` (None for the first state: everything is new)
        self._changed: frozenset[str] | None = None
        #: invariant -> its verdict in the last state it was judged in
        self._verdicts: dict[str, bool] = {}

    def feed(self, step: SpecStep) -> None:
        """Project ``step``'s state and judge it (and the step that led to it)."""
        self._seq = step.seq
        state = self.project(step)
        self.states += 1
        for name in self.mapping.invariants:
            if not self._invariant_holds(name, state):
                if name not in self.failing:
                    self.failing.add(name)
                    self._report(name, step, state, None)
            else:
                self.failing.discard(name)
        previous = self.previous
        if self.validate:
            self._validate(step, self._empty_state() if previous is None else previous, state)
        if previous is not None:
            for name in self.mapping.steps:
                if self._stutters(name):
                    continue
                if not self._holds(name, previous, state):
                    self._report(name, step, state, previous)
        self.previous = state
        self.previous_seq = step.seq

    def _empty_state(self) -> State:
        """The state before the first step: no node has started."""
        blank = SpecStep(0, 0, 0, "", "", 0, {}, frozenset())
        state: State = {var: Fn.of({}) for var, _ in self.mapping.node}
        state.update({var: _value(blank, src) for var, src in self.mapping.step})
        state.update(self._initial_history)
        return state

    def _rule(self, step: SpecStep) -> ActionRule | None:
        return self.rules.get((step.act, step.msg_type)) or self.rules.get((step.act, ""))

    def _validate(self, step: SpecStep, before: State, after: State) -> None:
        """The step must be its action: enabled in ``before`` with the step's
        parameters, and ``after`` one of the states it allows."""
        rule = self._rule(step)
        if rule is None:
            return
        if rule.needs and not getattr(step, rule.needs):
            self.unvalidated += 1
            return
        self.validated += 1
        params = {p: _value(step, field) for p, field in rule.params}
        try:
            if self.ev.holds(rule.name, before, after, params):
                return
            why = explain(self.ev, rule.name, params, before, after)
        except SpecError as error:
            raise SpecError(
                f"{error.message} (evaluating action {rule.name} for event {step.seq})",
                error.file,
                error.line,
                error.column,
                error.text,
            ) from None
        args = ", ".join(f"{p} = {format_value(v)}" for p, v in params.items())
        head = f"event {step.seq}, the {_what(step)}, is not the action {rule.name}({args}):"
        message, lines = describe(head, why)
        node_vars = [var for var, _ in self.mapping.node]
        changed = [c for v in node_vars for c in _node_changes(v, None, before[v], after[v])]
        if changed:
            lines.append("the step changed: " + "; ".join(changed))
        else:
            lines.append("the step changed no node variable")
        self._add(rule.name, (step.seq,), message, tuple(lines))

    def _invariant_holds(self, name: str, state: State) -> bool:
        """The invariant's value in ``state``; not evaluated again while every
        variable it reads holds the same value (``project`` keeps the object)."""
        changed = self._changed
        last = self._verdicts.get(name)
        if last is not None and changed is not None and self._read_sets[name].isdisjoint(changed):
            return last
        verdict = self._verdicts[name] = self._holds(name, state, None)
        return verdict

    def _holds(self, name: str, state: State, next_state: State | None) -> bool:
        """``holds``, with an evaluation error saying at which state it came."""
        try:
            return self.ev.holds(name, state, next_state)
        except SpecError as error:
            seq = self._seq
            raise SpecError(
                f"{error.message} (evaluating {name} on the state after event {seq})",
                error.file,
                error.line,
                error.column,
                error.text,
            ) from None

    def _stutters(self, name: str) -> bool:
        """The step just projected leaves every state variable the property
        reads unchanged: a stuttering step, which a TLA+ step property
        ``[][P]_vars`` allows. The mapping's ``labels`` (variables that
        describe the step, not the state) do not count."""
        changed = self._changed
        return changed is not None and self._state_reads[name].isdisjoint(changed)

    def project(self, step: SpecStep) -> State:
        """The spec state after ``step``: node and step variables, then the
        history variables (whose ``next`` reads the new state and the
        variable's previous value). A variable whose value did not change
        keeps the previous state's object, so that ``is`` tells "unchanged"."""
        nodes = tuple(step.nodes)
        changed = set(self._fns) if nodes != self._nodes else set()
        self._nodes = nodes
        for node, node_view in step.nodes.items():
            cached = self._node_cache.get(node)
            if cached is None or cached[0] is not node_view:
                values = {var: get(node_view) for var, get in self._node_getters}
                if cached is not None:
                    changed.update(v for v, x in values.items() if cached[1][v] != x)
                self._node_cache[node] = (node_view, values)
        for var, _ in self.mapping.node:
            if var in changed or var not in self._fns:
                self._fns[var] = Fn.of({i: self._node_cache[i][1][var] for i in nodes})
        state: State = dict(self._fns)
        previous = self.previous or {}
        for var, get in self._step_getters:
            value = get(step)
            state[var] = previous[var] if previous.get(var) == value else value
        if self.history_next:
            state.update(self.history)
            for var, expr in self.history_next:
                inputs = tuple(state[v] for v in self.history_reads[var])
                fixed = self._history_fixed.get(var)
                if fixed is not None and all(a is b for a, b in zip(fixed, inputs, strict=True)):
                    continue  # the same inputs as when next left it unchanged: unchanged again
                value = self.ev.value(expr, state)
                if value != self.history[var]:
                    self.history[var] = value
                    self._history_fixed.pop(var, None)
                else:
                    self._history_fixed[var] = inputs
            state = {**state, **self.history}
        before = self.previous
        self._changed = (
            None if before is None else frozenset(v for v, x in state.items() if before[v] is not x)
        )
        return state

    def _report(self, name: str, step: SpecStep, state: State, previous: State | None) -> None:
        what = _what(step)
        shown: list[str] = []
        node_vars = {var for var, _ in self.mapping.node}
        history = {var for var, _ in self.history_next}
        labels = [state[v] for v in self.reads[name] if v in self.mapping.labels]
        for var in self.reads[name]:
            if previous is not None and var in node_vars:
                shown += _node_changes(var, step.node, previous[var], state[var])
                continue
            if var in history and _entries(state[var]) > SHOWN_ENTRIES:
                shown.append(_excerpt(var, state[var], _mentioned(labels)))
                continue
            after = format_value(state[var])
            before = after if previous is None else format_value(previous[var])
            shown.append(f"{var} = {after}" if before == after else f"{var}: {before} -> {after}")
        if previous is None:
            message = f"{name} is FALSE in the state after event {step.seq}, the {what}."
            witnesses: tuple[int, ...] = (step.seq,)
        else:
            message = (
                f"{name} is FALSE for the step from the state after event "
                f"{self.previous_seq} to the state after event {step.seq}, the {what}."
            )
            witnesses = (self.previous_seq, step.seq)
        self._add(name, witnesses, message, tuple(shown))

    def _add(
        self, name: str, witnesses: tuple[int, ...], message: str, lines: tuple[str, ...]
    ) -> None:
        count = self.counts.get(name, 0)
        self.counts[name] = count + 1
        if count >= LIMIT:
            self.suppressed += 1
            return
        self.violations.append(Violation(name, self.checker, witnesses, message, lines))


#: A history variable with more entries than this is shown by the entries the step names.
SHOWN_ENTRIES = 8


def _entries(value: Value) -> int:
    return len(value) if isinstance(value, tuple | Fn) else 0


def _mentioned(labels: list[Value]) -> set[Value]:
    """The keys a step's label values name: each of their items, and of an
    item that is a tuple (an entry) its first field and first two fields
    (an index, an index and term)."""
    keys: set[Value] = set()
    for value in labels:
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, tuple) and item:
                keys.update((item[0], item[:2]))
            else:
                keys.add(item)
    return keys


def _excerpt(var: str, value: Value, keys: set[Value]) -> str:
    """A large function said by its entries at ``keys``: ``appliedAt (904
    entries): appliedAt[2] = <<1, 0>>``."""
    pairs = _as_dict(value)
    named = sorted((k for k in keys if k in pairs and type(k) is not bool), key=sort_key)
    said = "; ".join(f"{var}[{format_value(k)}] = {format_value(pairs[k])}" for k in named)
    return f"{var} ({len(pairs)} entries): {said or 'none of them named by the step'}"


def _what(step: SpecStep) -> str:
    """``recv of n4 (vote_req from n1)``: the step in words."""
    return f"{step.act} of n{step.node}" + (
        f" ({step.msg_type} from n{step.msg_from})" if step.msg_type else ""
    )


def _history_used(
    module: n.Module,
    mapping: SpecMapping,
    history_next: list[tuple[str, n.Expr]],
    validate: bool,
) -> set[str]:
    """The history variables the checked properties (and, with ``validate``,
    the actions) read, directly or through other history variables."""
    names = list(mapping.invariants + mapping.steps)
    if validate:
        names += [rule.name for rule in mapping.actions]
    wanted = {v for name in names for v in variables_read(module, name)}
    reads = {var: set(variables_in(module, expr)) for var, expr in history_next}
    used: set[str] = set()
    todo = [v for v in reads if v in wanted]
    while todo:
        var = todo.pop()
        if var not in used:
            used.add(var)
            todo += [v for v in reads[var] if v in reads]
    return used


def _node_changes(var: str, node: int | None, before: Value, after: Value) -> list[str]:
    """A per-node variable across a step, said briefly: the stepping node's
    value (if ``node`` is given), and every node's that changed."""
    old, new = _as_dict(before), _as_dict(after)
    lines = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        if was != now:
            shown = "(none)" if was is None else format_value(was)
            lines.append(f"{var}[{key}]: {shown} -> {format_value(now)}")
        elif key == node:
            lines.append(f"{var}[{key}] = {format_value(now)}")
    return lines


def _as_dict(fn: Value) -> dict[Value, Value]:
    if isinstance(fn, tuple):
        return {i + 1: v for i, v in enumerate(fn)}
    return fn.as_dict() if isinstance(fn, Fn) else {}


def _value(obj: object, source: Source) -> Value:
    if isinstance(source, str):
        return _plain(getattr(obj, source))
    return Fn.of({name: _plain(getattr(obj, field)) for name, field in source})


def _getter(source: Source) -> Callable[[object], Value]:
    """``_value`` for one source, made once: NodeView's and SpecStep's fields
    all hold values of the subset (checked by the mapping's loader), so the
    hot path reads them without asking again."""
    if isinstance(source, str):
        return operator.attrgetter(source)
    names = tuple(name for name, _ in source)
    fields = operator.attrgetter(*(field for _, field in source))
    if len(names) == 1:
        return lambda obj: Fn({names[0]: fields(obj)})
    return lambda obj: Fn(dict(zip(names, fields(obj), strict=True)))


def _plain(value: object) -> Value:
    if isinstance(value, bool | int | str | frozenset | tuple):
        return value  # a tuple of the fold holds integers or tuples of them: a sequence
    raise SpecError(f"a trace field holds {type(value).__name__}, which has no TLA+ value")


def check_events(mapping: SpecMapping, events: Iterable[Event], validate: bool = True) -> SpecCheck:
    """A ``SpecCheck`` that has judged every step of ``events`` (and, with
    ``validate``, checked each against its action)."""
    return check_steps(mapping, spec_steps(events), validate)


def check_steps(
    mapping: SpecMapping, steps: Iterable[SpecStep], validate: bool = True
) -> SpecCheck:
    """A ``SpecCheck`` that has judged every one of ``steps``."""
    check = SpecCheck(mapping, validate=validate)
    for step in steps:
        check.feed(step)
    return check
