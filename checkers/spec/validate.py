"""Trace validation: each trace step that the mapping names an action of the
spec must be that action, taken in the state before the step, with the
step's fields as the action's parameters and the state after the step as
its primed variables (docs/spec-checking.md, "Trace validation").

The mapping's ``[[action]]`` tables say which step is which action
(``act``, and ``msg`` for a ``recv``'s message type) and bind each
parameter to a step field (``params``). Nothing here knows one action from
another: a second spec needs a new mapping, not new code.

A step the action does not allow is explained by the first conjunct of the
action (definitions with parameters opened up, in the order written) that
is FALSE: a conjunct that reads no primed variable is the action's guard,
and the action was not enabled; one that does is about the post-state, and
for ``lhs = e`` and ``lhs \\in S`` the explanation gives the expected value
(or set) beside the actual one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from checkers.spec import nodes as n
from checkers.spec.errors import SpecError, quote
from checkers.spec.evaluator import Evaluator, _Closure
from checkers.spec.values import Value, format_value

__all__ = ["ActionRule", "Explanation", "describe", "explain", "load_rules"]


@dataclass(frozen=True, slots=True)
class ActionRule:
    """One ``[[action]]`` table: steps whose ``act`` (and, when given, the
    received message's type) match are the action ``name`` with these
    parameter bindings (parameter -> step field)."""

    act: str
    msg: str
    name: str
    params: tuple[tuple[str, str], ...]
    needs: str = ""
    """A boolean step field that must be TRUE for the step to be validated
    (``msg_known``: the message a recv received is in the trace)."""


def load_rules(
    doc: Mapping[str, Any], module: n.Module, fields: frozenset[str], where: str
) -> tuple[ActionRule, ...]:
    """The mapping's ``[[action]]`` tables, checked against the spec: the
    action must be a definition whose parameters are exactly those bound,
    each to a known step field; a step kind may be mapped once."""
    tables = doc.get("action", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise SpecError("[[action]] must be an array of tables", where)
    definitions = {d.name: d for d in module.definitions}
    rules: list[ActionRule] = []
    seen: set[tuple[str, str]] = set()
    for index, table in enumerate(tables):
        key = f"action[{index}]"
        act, msg, name = table.get("act"), table.get("msg", ""), table.get("name")
        params, needs = table.get("params", {}), table.get("needs", "")
        if not all(isinstance(x, str) for x in (act, msg, name, needs)):
            raise SpecError(
                f"{key} needs 'act' and 'name' strings ('msg', 'needs' optional)", where
            )
        if needs and needs not in fields:
            raise SpecError(f"{key}.needs: unknown field {needs!r}", where)
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise SpecError(f"{key}.params must map parameters to step fields", where)
        definition = definitions.get(name)
        if definition is None:
            raise SpecError(f"{key}: {module.name} defines no {name}", where)
        if sorted(definition.params) != sorted(params):
            raise SpecError(
                f"{key}: {name} takes ({', '.join(definition.params)}), "
                f"the mapping binds ({', '.join(params)})",
                where,
            )
        for param, field in params.items():
            if field not in fields:
                known = ", ".join(sorted(fields))
                raise SpecError(f"{key}.params.{param}: unknown field {field!r} ({known})", where)
        if (act, msg) in seen:
            raise SpecError(f"{key}: act {act!r} msg {msg!r} is mapped twice", where)
        seen.add((act, msg))
        rules.append(ActionRule(act, msg, name, tuple(params.items()), needs))
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a step is not its action: ``enabled`` is False when a guard
    failed; ``conjunct`` is the FALSE conjunct's text, ``where`` its line;
    ``lines`` say expected against actual."""

    enabled: bool
    conjunct: str
    where: str
    lines: tuple[str, ...]
    branch: bool = False
    """The conjunct is in the branch of a disjunction closest to the step
    (the one whose conjuncts held longest), not in the action's own list."""


def describe(head: str, why: Explanation | None) -> tuple[str, list[str]]:
    """A failed step in words: the message (``head``, which names the step
    and the action, and what failed) and the lines that explain it."""
    lines: list[str] = []
    if why is None:
        return f"{head} the state after it is not one the action allows.", lines
    if why.branch:
        message = (
            f"{head} no branch of the action is enabled and allows the state after it; "
            "in the closest branch:"
        )
        kind = "guard FALSE" if not why.enabled else "FALSE"
        lines.append(f"{kind} ({why.where}): {why.conjunct}")
    elif not why.enabled:
        message = f"{head} the action is not enabled in the state before it."
        lines.append(f"guard FALSE ({why.where}): {why.conjunct}")
    else:
        message = f"{head} the state after it is not one the action allows."
        lines.append(f"FALSE ({why.where}): {why.conjunct}")
    return message, lines + list(why.lines)


def explain(
    ev: Evaluator,
    name: str,
    params: Mapping[str, Value],
    before: Mapping[str, Value],
    after: Mapping[str, Value],
) -> Explanation | None:
    """The first FALSE conjunct of action ``name`` on the step ``before`` ->
    ``after``. A FALSE disjunction is opened too: of its branches, the one
    whose conjuncts hold longest is taken as the one the step meant, and its
    first FALSE conjunct is named. None if no conjunct is FALSE (the action
    failed inside a quantifier, which is not opened)."""
    definition = ev.definitions[name]
    found = _first_false(ev, definition.body, dict(params), before, after)
    if found is None:
        return None
    _held, leaf, leaf_scope, branch = found
    primed = _reads_next(ev, leaf, set())
    text = quote(ev.sources.get(leaf.at.file, ""), leaf.at, limit=100)
    where = f"{leaf.at.file}:{leaf.at.line}"
    lines: list[str] = []
    if primed and isinstance(leaf, n.Binary) and leaf.op in ("EQ", "IN"):
        ev._enter(before, after, guard=False)
        actual = ev.eval(leaf.left, leaf_scope, False)
        expected = ev.eval(leaf.right, leaf_scope, False)
        left = quote(ev.sources.get(leaf.at.file, ""), leaf.left.at)
        was = _unprimed(ev, leaf.left, leaf_scope, before, after)
        shown = f" (before the step: {format_value(was)})" if was is not None else ""
        wanted = "expected" if leaf.op == "EQ" else "expected one of"
        lines.append(
            f"{left}: {wanted} {format_value(expected)}, actual {format_value(actual)}{shown}"
        )
    lines += _readings(ev, leaf, leaf_scope, before, after, len(lines) > 0)
    names = _free_names(leaf)
    bound = [
        f"{k} = {format_value(v)}"
        for k, v in sorted(leaf_scope.items())
        if k in names and not isinstance(v, _Closure)
    ]
    if bound:
        lines.append("where " + ", ".join(bound))
    return Explanation(primed, text, where, tuple(lines), branch)


def _first_false(
    ev: Evaluator,
    expr: n.Expr,
    scope: dict[str, Any],
    before: Mapping[str, Value],
    after: Mapping[str, Value],
) -> tuple[int, n.Expr, dict[str, Any], bool] | None:
    """(how many conjuncts held before it, the first FALSE conjunct, its
    scope, whether it is in a disjunction's branch), looking into a FALSE
    disjunction's closest branch."""
    ev._enter(before, after, guard=False)
    held = 0
    for leaf, leaf_scope in list(_conjuncts(ev, expr, scope)):
        ev._enter(before, after, guard=False)
        if ev._bool(leaf, leaf_scope, False):
            held += 1
            continue
        if isinstance(leaf, n.Junction) and leaf.op == "or":
            branches = [_first_false(ev, item, leaf_scope, before, after) for item in leaf.items]
            best = max((b for b in branches if b is not None), key=lambda b: b[0], default=None)
            if best is not None:
                return held + best[0], best[1], best[2], True
        return held, leaf, leaf_scope, False
    return None


def _readings(
    ev: Evaluator,
    leaf: n.Expr,
    scope: dict[str, Any],
    before: Mapping[str, Value],
    after: Mapping[str, Value],
    skip_left: bool,
) -> list[str]:
    """``x[e] = v`` and ``x'[e] = v`` for every application of a variable in
    ``leaf`` (each once): the values the FALSE conjunct compared."""
    source = ev.sources.get(leaf.at.file, "")
    skip = leaf.left if skip_left and isinstance(leaf, n.Binary) else None
    found: dict[str, n.Expr] = {}

    def walk(node: Any) -> None:
        if isinstance(node, tuple):
            for item in node:
                walk(item)
            return
        if not isinstance(node, n.Expr) or node is skip:
            return
        if isinstance(node, n.Apply):
            fn = node.fn.operand if isinstance(node.fn, n.Prime) else node.fn
            if isinstance(fn, n.Name) and fn.name in ev.variables and fn.name not in scope:
                found.setdefault(quote(source, node.at), node)
                return
        for field in dataclasses.fields(node):
            if field.name != "at":
                walk(getattr(node, field.name))

    walk(leaf)
    lines = []
    for text, node in found.items():
        try:
            ev._enter(before, after, guard=False)
            lines.append(f"{text} = {format_value(ev.eval(node, scope, False))}")
        except SpecError:
            continue
    return lines


def _unprimed(
    ev: Evaluator,
    expr: n.Expr,
    scope: dict[str, Any],
    before: Mapping[str, Value],
    after: Mapping[str, Value],
) -> Value | None:
    """The value of ``expr`` with its primes taken off, in the pre-state (None
    if that cannot be evaluated)."""
    plain = _strip_primes(expr)
    if plain is expr:
        return None
    try:
        ev._enter(before, after, guard=False)
        return ev.eval(plain, scope, False)
    except SpecError:
        return None


def _strip_primes(expr: Any) -> Any:
    if isinstance(expr, n.Prime):
        return _strip_primes(expr.operand)
    if isinstance(expr, tuple):
        items = tuple(_strip_primes(x) for x in expr)
        return expr if all(a is b for a, b in zip(items, expr, strict=True)) else items
    if not isinstance(expr, n.Expr):
        return expr
    changes = {}
    for field in dataclasses.fields(expr):
        if field.name == "at":
            continue
        old = getattr(expr, field.name)
        new = _strip_primes(old)
        if new is not old:
            changes[field.name] = new
    return dataclasses.replace(expr, **changes) if changes else expr


def _free_names(expr: Any) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, tuple):
            for item in node:
                walk(item)
        elif isinstance(node, n.Expr):
            if isinstance(node, n.Name | n.Call):
                found.add(node.name)
            for field in dataclasses.fields(node):
                if field.name != "at":
                    walk(getattr(node, field.name))

    walk(expr)
    return found


def _conjuncts(
    ev: Evaluator, expr: n.Expr, scope: dict[str, Any]
) -> Iterator[tuple[n.Expr, dict[str, Any]]]:
    """The leaves of ``expr``'s conjunction, opening uses of definitions
    whose body is a conjunction (their arguments evaluated in the pre-state,
    which is all an argument may read) and the chosen branch of an ``IF``.
    The evaluator must have entered the step's states."""
    if isinstance(expr, n.Junction) and expr.op == "and":
        for item in expr.items:
            yield from _conjuncts(ev, item, scope)
        return
    if isinstance(expr, n.If):
        # the branch the condition chose (it may read the post-state: both are known)
        branch = expr.then if ev._bool(expr.cond, scope, False) else expr.orelse
        yield from _conjuncts(ev, branch, scope)
        return
    if isinstance(expr, n.Name | n.Call) and expr.name not in scope:
        definition = ev.definitions.get(expr.name)
        body = definition.body if definition is not None else None
        if definition is not None and isinstance(body, n.Junction) and body.op == "and":
            args = expr.args if isinstance(expr, n.Call) else ()
            if len(args) == len(definition.params):
                values = [ev.eval(a, scope, False) for a in args]
                inner = dict(zip(definition.params, values, strict=True))
                yield from _conjuncts(ev, body, inner)
                return
    yield expr, scope


def _reads_next(ev: Evaluator, expr: Any, seen: set[str]) -> bool:
    """Whether ``expr`` reads the next state (a prime or UNCHANGED, directly
    or through the definitions it uses)."""
    if isinstance(expr, tuple):
        return any(_reads_next(ev, x, seen) for x in expr)
    if not isinstance(expr, n.Expr):
        return False
    if isinstance(expr, n.Prime) or (isinstance(expr, n.Unary) and expr.op == "UNCHANGED"):
        return True
    if isinstance(expr, n.Name | n.Call) and expr.name in ev.definitions and expr.name not in seen:
        seen.add(expr.name)
        if _reads_next(ev, ev.definitions[expr.name].body, seen):
            return True
    return any(
        _reads_next(ev, getattr(expr, f.name), seen)
        for f in dataclasses.fields(expr)
        if f.name != "at"
    )
