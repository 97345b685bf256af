"""The next states an action allows from a state, computed the way TLC does.

An action is read as a program that assigns the primed variables: in a
conjunction, items run left to right; the first ``x' = e`` (or
``x' \\in S``, or ``UNCHANGED x``) for a variable not yet given a value
gives it one (``\\in`` one branch per member); a disjunction and ``\\E``
branch; ``IF`` and ``CASE`` choose by their conditions; definitions and
``LET`` are expanded where they are used; anything else is a condition
evaluated with the values given so far (reading a primed variable that has
none yet is an error, as in TLC).  Every successor must give every
variable a value.

Trace validation uses this to say what the action would have produced
(``expected x' = ...``) when the recorded post-state differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from checkers.spec import nodes as n
from checkers.spec.values import Value, sort_key

if TYPE_CHECKING:
    from checkers.spec.evaluator import Evaluator

__all__ = ["successors"]

Partial = dict[str, Value]


def successors(
    ev: Evaluator,
    action: n.Expr | str,
    state: Mapping[str, Value],
    params: Mapping[str, Value] | None = None,
) -> list[dict[str, Value]]:
    """Every next state ``action`` allows from ``state`` (in a fixed order)."""
    scope: dict[str, Any] = dict(params or {})
    if isinstance(action, str):
        definition = ev.definitions.get(action)
        if definition is None:
            raise ev._error(f"no definition named {action} in module {ev.module.name}", action)
        missing = [p for p in definition.params if p not in scope]
        if missing:
            raise ev._error(f"{action}: no value for parameter {missing[0]}", definition)
        action = definition.body
    walker = _Walker(ev, state)
    found: dict[tuple[Any, ...], dict[str, Value]] = {}
    try:
        for partial in walker.gen(action, scope, {}):
            unset = sorted(ev.variables - set(partial))
            if unset:
                raise ev._error(f"the action leaves {unset[0]}' without a value", action)
            key = tuple(sort_key(partial[v]) for v in sorted(partial))
            found.setdefault(key, partial)
    except RecursionError:
        raise ev._error("recursion too deep while computing successors", action) from None
    return [found[k] for k in sorted(found)]


class _Walker:
    def __init__(self, ev: Evaluator, state: Mapping[str, Value]) -> None:
        self.ev = ev
        self.state = state

    def check(self, expr: n.Expr, scope: dict[str, Any], partial: Partial) -> bool:
        """``expr`` as a condition, with the primed values given so far."""
        self.ev._enter(self.state, _Next(partial, expr, self.ev), guard=False)
        return self.ev._bool(expr, scope, False)

    def value(self, expr: n.Expr, scope: dict[str, Any], partial: Partial, primed: bool) -> Value:
        self.ev._enter(self.state, _Next(partial, expr, self.ev), guard=False)
        return self.ev.eval(expr, scope, primed)

    def gen(self, expr: n.Expr, scope: dict[str, Any], partial: Partial) -> Iterator[Partial]:
        ev = self.ev
        if isinstance(expr, n.Junction):
            if expr.op == "and":
                yield from self._conj(expr.items, scope, partial)
            else:
                for item in expr.items:
                    yield from self.gen(item, scope, partial)
            return
        if isinstance(expr, n.Quant) and expr.op == "exists":
            self.ev._enter(self.state, _Next(partial, expr, ev), guard=False)
            for inner in list(ev._bindings(expr.bounds, scope, False)):
                yield from self.gen(expr.body, inner, partial)
            return
        if isinstance(expr, n.Binary) and expr.op in ("EQ", "IN"):
            target = _unassigned_prime(expr.left, ev, scope, partial)
            if target is not None:
                value = self.value(expr.right, scope, partial, False)
                if expr.op == "EQ":
                    yield {**partial, target: value}
                else:
                    for member in sorted(ev._finite(value, expr.right), key=sort_key):
                        yield {**partial, target: member}
                return
        if isinstance(expr, n.Unary) and expr.op == "UNCHANGED":
            yield from self._unchanged(expr, scope, partial)
            return
        if isinstance(expr, n.If):
            branch = expr.then if self.check(expr.cond, scope, partial) else expr.orelse
            yield from self.gen(branch, scope, partial)
            return
        if isinstance(expr, n.Case):
            for cond, result in expr.arms:
                if self.check(cond, scope, partial):
                    yield from self.gen(result, scope, partial)
                    return
            if expr.other is None:
                raise ev._error("no CASE arm applies and there is no OTHER", expr)
            yield from self.gen(expr.other, scope, partial)
            return
        if isinstance(expr, n.Let):
            inner = dict(scope)
            for definition in expr.defs:
                inner[definition.name] = _closure(definition, inner)
            yield from self.gen(expr.body, inner, partial)
            return
        if isinstance(expr, n.BoxAction) and expr.op == "box":
            yield from self.gen(expr.action, scope, partial)
            yield from self._unchanged(n.Unary(expr.at, "UNCHANGED", expr.sub), scope, partial)
            return
        expanded = self._expand(expr, scope, partial)
        if expanded is not None:
            body, inner = expanded
            yield from self.gen(body, inner, partial)
            return
        if self.check(expr, scope, partial):
            yield partial

    def _conj(
        self, items: tuple[n.Expr, ...], scope: dict[str, Any], partial: Partial
    ) -> Iterator[Partial]:
        if not items:
            yield partial
            return
        for step in self.gen(items[0], scope, partial):
            yield from self._conj(items[1:], scope, step)

    def _unchanged(
        self, expr: n.Unary, scope: dict[str, Any], partial: Partial
    ) -> Iterator[Partial]:
        names = _variable_names(expr.operand, self.ev, scope)
        if names is None:  # not a variable or a tuple of them: a plain condition
            if self.check(expr, scope, partial):
                yield partial
            return
        result = dict(partial)
        for name in names:
            now = self.state.get(name)
            if name not in self.state:
                raise self.ev._error(f"variable {name} has no value in the current state", expr)
            if name in result:
                if not self.ev._equal(result[name], now, expr):
                    return
            else:
                result[name] = now
        yield result

    def _expand(
        self, expr: n.Expr, scope: dict[str, Any], partial: Partial
    ) -> tuple[n.Expr, dict[str, Any]] | None:
        """A use of a definition, as its body and the scope to read it in."""
        from checkers.spec.evaluator import _Closure

        if not isinstance(expr, n.Name | n.Call):
            return None
        args: tuple[Value, ...] = ()
        if isinstance(expr, n.Call):
            args = tuple(self.value(a, scope, partial, False) for a in expr.args)
        local = scope.get(expr.name)
        if isinstance(local, _Closure):
            definition, base = local.definition, dict(local.scope)
        elif expr.name in scope:
            return None
        elif expr.name in self.ev.definitions and expr.name not in self.ev.rigid:
            definition, base = self.ev.definitions[expr.name], {}
        else:
            return None
        if len(args) != len(definition.params):
            raise self.ev._error(
                f"{definition.name} takes {len(definition.params)} argument(s), given {len(args)}",
                expr,
            )
        base.update(zip(definition.params, args, strict=True))
        return definition.body, base


class _Next(Mapping[str, Value]):
    """The next state as far as it is known: reading an unknown variable is an error."""

    def __init__(self, partial: Partial, where: n.Expr, ev: Evaluator) -> None:
        self.partial = partial
        self.where = where
        self.ev = ev

    def __getitem__(self, name: str) -> Value:
        try:
            return self.partial[name]
        except KeyError:
            raise self.ev._error(
                f"{name}' is read before the action gives it a value", self.where
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.partial)

    def __len__(self) -> int:
        return len(self.partial)


def _unassigned_prime(
    expr: n.Expr, ev: Evaluator, scope: dict[str, Any], partial: Partial
) -> str | None:
    if isinstance(expr, n.Prime) and isinstance(expr.operand, n.Name):
        name = expr.operand.name
        if name in ev.variables and name not in scope and name not in partial:
            return name
    return None


def _variable_names(expr: n.Expr, ev: Evaluator, scope: dict[str, Any]) -> list[str] | None:
    """The variables of ``x`` or ``<<x, y>>`` (also through a definition like ``vars``)."""
    if isinstance(expr, n.Name) and expr.name not in scope:
        if expr.name in ev.variables:
            return [expr.name]
        definition = ev.definitions.get(expr.name)
        if definition is not None and not definition.params:
            return _variable_names(definition.body, ev, {})
        return None
    if isinstance(expr, n.Tuple):
        names: list[str] = []
        for item in expr.items:
            inner = _variable_names(item, ev, scope)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def _closure(definition: n.Definition, scope: dict[str, Any]) -> Any:
    from checkers.spec.evaluator import _Closure

    return _Closure(definition, scope)
