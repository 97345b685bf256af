"""The evaluator: expressions of a module over a state, or over a pair of
states for actions.

An :class:`Evaluator` is made for one module and one assignment of its
constants.  ``value(expr, state, next_state)`` evaluates; ``holds`` insists
on a boolean; ``holds(action, state, next_state, params)`` checks an action
on a state pair with its parameters bound from outside, and ``enabled``
checks the action's guard on the pre-state alone (see its docstring).

Design notes.  Evaluation is a walk over the typed tree with a dispatch
table keyed on node class.  Bound variables and parameters live in a small
dict per scope (lexical: a definition's body sees its parameters only, a
LET body sees the enclosing scope).  A top-level definition without
parameters is evaluated at most once per state pair (its value can depend
on nothing else); the cache is dropped when the states change.  Every
failure is a :class:`SpecError` naming the spot in the spec.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from checkers.spec import nodes as n
from checkers.spec.errors import Span, SpecError, quote
from checkers.spec.parser import parse_expr
from checkers.spec.resolve import STANDARD, check_expr
from checkers.spec.values import Fn, InfiniteSet, Value, format_value, kind, sort_key

__all__ = ["Evaluator"]

#: Largest set SUBSET or [S -> T] may build.
MAX_SET = 1 << 20

_ARITH = frozenset({"PLUS", "MINUS", "TIMES", "DIV", "MOD", "LT", "GT", "LE", "GE", "DOTDOT"})
_NO_STATE: Mapping[str, Value] = {}
#: What ``Fn.get`` returns for a key outside the domain (no value is this object).
_ABSENT: Any = object()


class _NeedsNext(Exception):
    """A primed variable was read while checking a guard (``enabled``)."""


@dataclass(frozen=True, slots=True)
class _Closure:
    """A LET definition with the scope it was defined in."""

    definition: n.Definition
    scope: dict[str, Any]


class Evaluator:
    """Evaluates a module's expressions for one assignment of its constants."""

    def __init__(
        self, module: n.Module, constants: Mapping[str, Value], source: str = "", file: str = ""
    ) -> None:
        self.module = module
        self.file = file or module.at.file or "<spec>"
        #: file -> text, for quoting the offending text in errors.
        self.sources: dict[str, str] = {self.file: source}
        unknown = sorted(set(constants) - set(module.constants))
        if unknown:
            raise SpecError(f"no CONSTANT named {unknown[0]} in module {module.name}", self.file)
        self.constants = dict(constants)
        self.definitions = {d.name: d for d in module.definitions}
        self.variables = frozenset(module.variables)
        self.standard = frozenset().union(*(STANDARD.get(m, frozenset()) for m in module.extends))
        self.arithmetic = bool({"Naturals", "Integers"} & set(module.extends))
        self.state: Mapping[str, Value] = _NO_STATE
        self.next: Mapping[str, Value] | None = None
        self.guard = False
        self.memo: dict[tuple[str, bool], Value] = {}
        #: Definitions whose value is the same in every state (no variable is
        #: read, directly or through what they call): evaluated once, ever.
        self.rigid = rigid_definitions(module)
        self.rigid_memo: dict[str, Value] = {}
        self.table: dict[type, Callable[[Any, dict[str, Any], bool], Value]] = {
            n.Literal: lambda e, s, p: e.value,
            n.Name: self._name,
            n.Call: self._call,
            n.At: self._at,
            n.Unary: self._unary,
            n.Binary: self._binary,
            n.Junction: self._junction,
            n.Prime: self._prime,
            n.Quant: self._quant,
            n.Choose: self._choose,
            n.SetEnum: self._set_enum,
            n.SetFilter: self._set_filter,
            n.SetMap: self._set_map,
            n.Tuple: lambda e, s, p: tuple(self.eval(i, s, p) for i in e.items),
            n.FnDef: self._fn_def,
            n.FnSet: self._fn_set,
            n.Record: lambda e, s, p: Fn({k: self.eval(v, s, p) for k, v in e.fields}),
            n.Apply: self._apply,
            n.Field: self._field,
            n.Except: self._except,
            n.If: self._if,
            n.Case: self._case,
            n.Let: self._let,
            n.BoxAction: self._box_action,
        }

    # -- public API -----------------------------------------------------
    def value(
        self,
        expr: n.Expr | str,
        state: Mapping[str, Value] | None = None,
        next_state: Mapping[str, Value] | None = None,
        params: Mapping[str, Value] | None = None,
    ) -> Value:
        """The value of ``expr`` (a node, or a definition's name) in ``state``
        (and ``next_state`` for primed variables); ``params`` bind the
        parameters of a named definition."""
        self._enter(state, next_state, guard=False)
        return self._top(expr, params)

    def holds(
        self,
        expr: n.Expr | str,
        state: Mapping[str, Value] | None = None,
        next_state: Mapping[str, Value] | None = None,
        params: Mapping[str, Value] | None = None,
    ) -> bool:
        """Whether ``expr`` (an invariant, or an action on a state pair) is TRUE."""
        result = self.value(expr, state, next_state, params)
        if type(result) is not bool:
            raise self._error(f"expected a boolean, got {format_value(result)}", expr)
        return result

    def enabled(
        self,
        action: n.Expr | str,
        state: Mapping[str, Value],
        params: Mapping[str, Value] | None = None,
    ) -> bool:
        """Whether the action's guard holds in ``state``.

        The guard is the action read without the next state: every item of a
        conjunction that reads a primed variable is taken to be satisfiable
        (so ``x' = x + 1`` and ``UNCHANGED y`` impose nothing), everything
        else must hold.  A disjunction is enabled if one of its items is.
        Trace validation checks the post-state separately with ``holds``.
        """
        self._enter(state, None, guard=True)
        try:
            result = self._top(action, params)
        except _NeedsNext:
            return True
        finally:
            self.guard = False
        if type(result) is not bool:
            raise self._error(f"expected a boolean, got {format_value(result)}", action)
        return result

    def parse(self, text: str, file: str = "<expr>", names: Iterable[str] = ()) -> n.Expr:
        """``text`` as an expression of this module (errors quote it under
        ``file``); ``names`` are the free names it may use, bound later by
        the ``params`` of ``value``/``holds``."""
        expr = parse_expr(text, file)
        self.sources[file] = text
        check_expr(self.module, expr, text, frozenset(names))
        return expr

    def successors(
        self,
        action: n.Expr | str,
        state: Mapping[str, Value],
        params: Mapping[str, Value] | None = None,
    ) -> list[dict[str, Value]]:
        """Every next state the action allows from ``state``, computed the way
        TLC does (:mod:`checkers.spec.successors`)."""
        from checkers.spec.successors import successors

        return successors(self, action, state, params)

    # -- entry and errors -------------------------------------------------
    def _enter(
        self, state: Mapping[str, Value] | None, nxt: Mapping[str, Value] | None, guard: bool
    ) -> None:
        state = _NO_STATE if state is None else state
        if state is not self.state or nxt is not self.next or guard != self.guard:
            self.memo = {}
        self.state, self.next, self.guard = state, nxt, guard

    def _top(self, expr: n.Expr | str, params: Mapping[str, Value] | None) -> Value:
        try:
            if isinstance(expr, str):
                return self._named(expr, dict(params or {}))
            return self.eval(expr, dict(params or {}), False)
        except RecursionError:
            raise SpecError(
                "recursion too deep (an operator that does not terminate?)", self.file
            ) from None

    def _named(self, name: str, params: dict[str, Value]) -> Value:
        definition = self.definitions.get(name)
        if definition is None:
            raise SpecError(f"no definition named {name} in module {self.module.name}", self.file)
        missing = [p for p in definition.params if p not in params]
        extra = sorted(set(params) - set(definition.params))
        if missing or extra:
            what = f"no value for parameter {missing[0]}" if missing else f"no parameter {extra[0]}"
            raise self._error(f"{name}: {what}", definition)
        if not definition.params:
            return self._global(definition, False)
        return self.eval(definition.body, params, False)

    def _error(self, message: str, node: n.Expr | str) -> SpecError:
        if isinstance(node, str):
            return SpecError(message, self.file)
        at: Span = node.at
        text = quote(self.sources.get(at.file, ""), at)
        return SpecError(message, at.file or self.file, at.line, at.column, text)

    # -- the walk ---------------------------------------------------------
    def eval(self, expr: n.Expr, scope: dict[str, Any], primed: bool) -> Value:
        return self.table[type(expr)](expr, scope, primed)

    # The hot paths below call ``self.table[type(x)](x, ...)`` rather than
    # ``self.eval(x, ...)``: one Python call fewer per node visited, which is
    # most of the time an invariant check takes (see docs/spec-checking.md).

    def _bool(self, expr: n.Expr, scope: dict[str, Any], primed: bool) -> bool:
        value = self.table[type(expr)](expr, scope, primed)
        if type(value) is not bool:
            raise self._error(f"expected a boolean, got {format_value(value)}", expr)
        return value

    def _global(self, definition: n.Definition, primed: bool) -> Value:
        if definition.name in self.rigid:
            try:
                return self.rigid_memo[definition.name]
            except KeyError:
                value = self.rigid_memo[definition.name] = self.eval(definition.body, {}, False)
                return value
        key = (definition.name, primed)
        try:
            return self.memo[key]
        except KeyError:
            body = definition.body
            value = self.memo[key] = self.table[type(body)](body, {}, primed)
            return value

    def _name(self, e: n.Name, scope: dict[str, Any], primed: bool) -> Value:
        name = e.name
        if name in scope:
            value = scope[name]
            if isinstance(value, _Closure):
                return self._apply_closure(value, (), e, primed)
            return value
        definition = self.definitions.get(name)
        if definition is not None:
            if definition.params:
                raise self._error(f"{name} needs {len(definition.params)} argument(s)", e)
            return self._global(definition, primed)
        if name in self.variables:
            if not primed and name in self.state:
                return self.state[name]
            return self._variable(e, primed)
        if name in self.module.constants:
            if name not in self.constants:
                raise self._error(
                    f"constant {name} has no value (give it one: --const {name}=...)", e
                )
            return self.constants[name]
        if name in ("Nat", "Int") and name in self.standard:
            return NAT if name == "Nat" else INT
        if name == "BOOLEAN":
            return frozenset({False, True})
        raise self._error(f"unknown name {name}", e)

    def _variable(self, e: n.Name, primed: bool) -> Value:
        if primed:
            if self.next is None:
                if self.guard:
                    raise _NeedsNext
                raise self._error(f"{e.name}' needs a next state", e)
            source, which = self.next, "next"
        else:
            source, which = self.state, "current"
        try:
            return source[e.name]
        except KeyError:
            raise self._error(f"variable {e.name} has no value in the {which} state", e) from None

    def _call(self, e: n.Call, scope: dict[str, Any], primed: bool) -> Value:
        table = self.table
        args = tuple([table[type(a)](a, scope, primed) for a in e.args])
        local = scope.get(e.name)
        if isinstance(local, _Closure):
            return self._apply_closure(local, args, e, primed)
        definition = self.definitions.get(e.name)
        if definition is not None:
            if len(args) != len(definition.params):
                raise self._error(
                    f"{e.name} takes {len(definition.params)} argument(s), given {len(args)}", e
                )
            body = definition.body
            return table[type(body)](body, dict(zip(definition.params, args, strict=True)), primed)
        if e.name in self.standard:
            return self._standard(e, args)
        raise self._error(f"unknown operator {e.name}", e)

    def _apply_closure(
        self, closure: _Closure, args: tuple[Value, ...], e: n.Expr, primed: bool
    ) -> Value:
        definition = closure.definition
        if len(args) != len(definition.params):
            raise self._error(
                f"{definition.name} takes {len(definition.params)} argument(s), given {len(args)}",
                e,
            )
        scope = dict(closure.scope)
        scope.update(zip(definition.params, args, strict=True))
        return self.eval(definition.body, scope, primed)

    def _standard(self, e: n.Call, args: tuple[Value, ...]) -> Value:
        name = e.name
        arity = {"Seq": 1, "Len": 1, "Append": 2, "Head": 1, "Tail": 1, "SubSeq": 3}
        arity |= {"Cardinality": 1, "IsFiniteSet": 1, "Assert": 2}
        if len(args) != arity[name]:
            raise self._error(f"{name} takes {arity[name]} argument(s), given {len(args)}", e)
        if name == "Cardinality":
            return len(self._finite(args[0], e))
        if name == "IsFiniteSet":
            return isinstance(self._set(args[0], e), frozenset)
        if name == "Seq":
            domain = self._set(args[0], e)
            return InfiniteSet(
                f"Seq({format_value(domain)})",
                lambda v: isinstance(v, tuple) and all(_member(x, domain) for x in v),
            )
        if name == "Assert":
            if args[0] is not True:
                raise self._error(f"assertion failed: {format_value(args[1])}", e)
            return True
        seq = args[0]
        if name == "Len" and isinstance(seq, str):
            return len(seq)
        if not isinstance(seq, tuple):
            raise self._error(f"{name} needs a sequence, got {format_value(seq)}", e)
        if name == "Len":
            return len(seq)
        if name == "Append":
            return (*seq, args[1])
        if name in ("Head", "Tail") and not seq:
            raise self._error(f"{name} of the empty sequence", e)
        if name == "Head":
            return seq[0]
        if name == "Tail":
            return seq[1:]
        lo, hi = self._int(args[1], e), self._int(args[2], e)
        if lo > hi:
            return ()
        if lo < 1 or hi > len(seq):
            raise self._error(f"SubSeq({lo}, {hi}) outside 1..{len(seq)}", e)
        return seq[lo - 1 : hi]

    def _at(self, e: n.At, scope: dict[str, Any], primed: bool) -> Value:
        if "@" not in scope:
            raise self._error("@ outside an EXCEPT update", e)
        return scope["@"]

    def _prime(self, e: n.Prime, scope: dict[str, Any], primed: bool) -> Value:
        if primed:
            raise self._error("primed twice", e)
        return self.eval(e.operand, scope, True)

    def _unary(self, e: n.Unary, scope: dict[str, Any], primed: bool) -> Value:
        op = e.op
        if op == "UNCHANGED":
            if primed:
                raise self._error("UNCHANGED inside a primed expression", e)
            after = self.eval(e.operand, scope, True)
            return self._equal(after, self.eval(e.operand, scope, False), e)
        if op in ("BOX", "ENABLED"):
            raise self._error("a temporal operator cannot be evaluated on states", e)
        value = self.eval(e.operand, scope, primed)
        if op == "NOT":
            if type(value) is not bool:
                raise self._error(f"~ needs a boolean, got {format_value(value)}", e)
            return not value
        if op == "NEG":
            self._need_arith(e)
            return -self._int(value, e)
        if op == "DOMAIN":
            if isinstance(value, tuple):
                return frozenset(range(1, len(value) + 1))
            if isinstance(value, Fn):
                return value.domain()
            raise self._error(f"DOMAIN needs a function, got {format_value(value)}", e)
        if op == "SUBSET":
            items = sorted(self._finite(value, e), key=sort_key)
            if len(items) > 20:
                raise self._error(f"SUBSET of a set of {len(items)} elements is too large", e)
            return frozenset(
                frozenset(c)
                for r in range(len(items) + 1)
                for c in itertools.combinations(items, r)
            )
        # UNION
        result: list[Value] = []
        for member in self._finite(value, e):
            result.extend(self._finite(member, e))
        return self._checked_set(result, e)

    def _binary(self, e: n.Binary, scope: dict[str, Any], primed: bool) -> Value:
        op = e.op
        table = self.table
        left = table[type(e.left)](e.left, scope, primed)
        if op in ("IN", "NOTIN") and type(e.right) in (n.FnSet, n.Unary):
            member = self._in_without_building(left, e.right, scope, primed)
            if member is not None:
                return member if op == "IN" else not member
        if op == "IMPLIES":
            if type(left) is not bool:
                raise self._error(f"=> needs a boolean, got {format_value(left)}", e.left)
            return True if not left else self._bool(e.right, scope, primed)
        right = table[type(e.right)](e.right, scope, primed)
        if op == "EQ":
            return left is right or self._equal(left, right, e)
        if op == "NEQ":
            return not self._equal(left, right, e)
        if op == "IN":
            return self._in(left, right, e)
        if op == "NOTIN":
            return not self._in(left, right, e)
        if op in _ARITH:
            self._need_arith(e)
            a, b = self._int(left, e.left), self._int(right, e.right)
            plain = _PLAIN_ARITH.get(op)
            if plain is not None:
                return plain(a, b)
            return _arith(op, a, b, lambda m: self._error(m, e))
        if op == "EQUIV":
            if type(left) is not bool or type(right) is not bool:
                raise self._error("<=> needs booleans", e)
            return left == right
        if op == "SUBSETEQ":
            small = self._finite(left, e.left)
            big = self._set(right, e.right)
            if isinstance(big, InfiniteSet):
                return all(big.contains(v) for v in small)
            return small <= big
        if op in ("CUP", "CAP", "SETMINUS"):
            sa, sb = self._finite(left, e.left), self._finite(right, e.right)
            if op == "CUP":
                if sa and sb:  # each side is homogeneous already: one sample each suffices
                    self._checked_set([next(iter(sa)), next(iter(sb))], e)
                return sa | sb
            return sa & sb if op == "CAP" else sa - sb
        if op == "CONCAT":
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            if isinstance(left, tuple) and isinstance(right, tuple):
                return left + right
            raise self._error(r"\o needs two sequences", e)
        if op == "COLONGT":
            return Fn.of({left: right})
        # ATAT: f @@ g, f's values win
        f, g = self._fn_dict(left, e.left), self._fn_dict(right, e.right)
        return Fn.of({**g, **f})

    def _junction(self, e: n.Junction, scope: dict[str, Any], primed: bool) -> Value:
        table = self.table
        if e.op == "and":
            unknown = False
            for item in e.items:
                try:
                    value = table[type(item)](item, scope, primed)
                except _NeedsNext:
                    unknown = True
                    continue
                if value is False:
                    return False
                if value is not True:
                    raise self._error(f"expected a boolean, got {format_value(value)}", item)
            if unknown:
                raise _NeedsNext
            return True
        for item in e.items:
            try:
                if self._bool(item, scope, primed):
                    return True
            except _NeedsNext:
                return True
        return False

    def _bindings(
        self, bounds: tuple[n.Bound, ...], scope: dict[str, Any], primed: bool
    ) -> Iterator[dict[str, Any]]:
        """Every scope that binds the bound names to members of their domains."""
        names: list[str] = []
        domains: list[list[Value]] = []
        for bound in bounds:
            domain = list(self._finite(self.eval(bound.domain, scope, primed), bound.domain))
            for name in bound.names:
                names.append(name)
                domains.append(domain)
        for combo in itertools.product(*domains):
            inner = dict(scope)
            inner.update(zip(names, combo, strict=True))
            yield inner

    def _quant(self, e: n.Quant, scope: dict[str, Any], primed: bool) -> Value:
        want = e.op == "exists"
        body, run = e.body, self.table[type(e.body)]
        for inner in self._bindings(e.bounds, scope, primed):
            value = run(body, inner, primed)
            if type(value) is not bool:
                raise self._error(f"expected a boolean, got {format_value(value)}", body)
            if value is want:
                return want
        return not want

    def _choose(self, e: n.Choose, scope: dict[str, Any], primed: bool) -> Value:
        domain = self._finite(self.eval(e.domain, scope, primed), e.domain)
        for value in sorted(domain, key=sort_key):
            if self._bool(e.body, {**scope, e.name: value}, primed):
                return value
        raise self._error("CHOOSE found no element that satisfies its predicate", e)

    def _set_enum(self, e: n.SetEnum, scope: dict[str, Any], primed: bool) -> Value:
        return self._checked_set([self.eval(i, scope, primed) for i in e.items], e)

    def _set_filter(self, e: n.SetFilter, scope: dict[str, Any], primed: bool) -> Value:
        domain = self._finite(self.eval(e.domain, scope, primed), e.domain)
        return frozenset(v for v in domain if self._bool(e.predicate, {**scope, e.name: v}, primed))

    def _set_map(self, e: n.SetMap, scope: dict[str, Any], primed: bool) -> Value:
        items = [
            self.eval(e.body, inner, primed) for inner in self._bindings(e.bounds, scope, primed)
        ]
        return self._checked_set(items, e)

    def _fn_def(self, e: n.FnDef, scope: dict[str, Any], primed: bool) -> Value:
        names = [name for bound in e.bounds for name in bound.names]
        mapping: dict[Value, Value] = {}
        for inner in self._bindings(e.bounds, scope, primed):
            key = inner[names[0]] if len(names) == 1 else tuple(inner[x] for x in names)
            mapping[key] = self.eval(e.body, inner, primed)
        return Fn.of(mapping)

    def _fn_set(self, e: n.FnSet, scope: dict[str, Any], primed: bool) -> Value:
        domain = sorted(self._finite(self.eval(e.domain, scope, primed), e.domain), key=sort_key)
        codomain = sorted(
            self._finite(self.eval(e.codomain, scope, primed), e.codomain), key=sort_key
        )
        if len(codomain) ** len(domain) > MAX_SET:
            raise self._error("[S -> T] is too large to build", e)
        return frozenset(
            Fn.of(dict(zip(domain, values, strict=True)))
            for values in itertools.product(codomain, repeat=len(domain))
        )

    def _apply(self, e: n.Apply, scope: dict[str, Any], primed: bool) -> Value:
        table = self.table
        fn = table[type(e.fn)](e.fn, scope, primed)
        args = e.args
        if len(args) == 1:
            key = table[type(args[0])](args[0], scope, primed)
        else:
            key = tuple([table[type(a)](a, scope, primed) for a in args])
        # The two common cases inline (a function of nodes 1..n is a tuple);
        # everything else, errors included, is _lookup's.
        if type(fn) is tuple:
            if type(key) is int and 0 < key <= len(fn):
                return fn[key - 1]
        elif type(fn) is Fn:
            value = fn.get(key, _ABSENT)
            if value is not _ABSENT:
                return value
        return self._lookup(fn, key, e)

    def _lookup(self, fn: Value, key: Value, e: n.Expr) -> Value:
        if isinstance(fn, tuple):
            if type(key) is int and 1 <= key <= len(fn):
                return fn[key - 1]
        elif isinstance(fn, Fn):
            value = fn.get(key, _ABSENT)
            if value is not _ABSENT:
                return value
        else:
            raise self._error(f"{format_value(fn)} is not a function", e)
        raise self._error(f"{format_value(key)} is not in the domain of the function", e)

    def _field(self, e: n.Field, scope: dict[str, Any], primed: bool) -> Value:
        record = self.table[type(e.record)](e.record, scope, primed)
        if isinstance(record, Fn):
            value = record.get(e.name, _ABSENT)
            if value is not _ABSENT:
                return value
        if isinstance(record, Fn):
            fields = ", ".join(sorted(str(k) for k in record.domain()))
            raise self._error(f"the record has no field {e.name} (it has {fields})", e)
        raise self._error(f"{format_value(record)} is not a record", e)

    def _except(self, e: n.Except, scope: dict[str, Any], primed: bool) -> Value:
        value = self.eval(e.fn, scope, primed)
        for update in e.updates:
            value = self._update(value, update.path, update, scope, primed)
        return value

    def _update(
        self,
        value: Value,
        path: tuple[n.Expr | str, ...],
        update: n.Update,
        scope: dict[str, Any],
        primed: bool,
    ) -> Value:
        step = path[0]
        key = step if isinstance(step, str) else self.eval(step, scope, primed)
        if not isinstance(value, tuple | Fn):
            raise self._error(f"EXCEPT needs a function, got {format_value(value)}", update)
        in_domain = (
            (type(key) is int and 1 <= key <= len(value))
            if isinstance(value, tuple)
            else key in value
        )
        if not in_domain:
            return value  # [f EXCEPT ![k] = v] is f when k is not in DOMAIN f
        old = self._lookup(value, key, update)
        if len(path) > 1:
            new = self._update(old, path[1:], update, scope, primed)
        else:
            new = self.eval(update.value, {**scope, "@": old}, primed)
        if new is old:
            return value  # [f EXCEPT ![k] = f[k]] is f: keep the object ("unchanged" is identity)
        if isinstance(value, tuple):
            index = int(key)
            return (*value[: index - 1], new, *value[index:])
        return value.updated(key, new)

    def _if(self, e: n.If, scope: dict[str, Any], primed: bool) -> Value:
        branch = e.then if self._bool(e.cond, scope, primed) else e.orelse
        return self.table[type(branch)](branch, scope, primed)

    def _case(self, e: n.Case, scope: dict[str, Any], primed: bool) -> Value:
        for cond, result in e.arms:
            if self._bool(cond, scope, primed):
                return self.eval(result, scope, primed)
        if e.other is None:
            raise self._error("no CASE arm applies and there is no OTHER", e)
        return self.eval(e.other, scope, primed)

    def _let(self, e: n.Let, scope: dict[str, Any], primed: bool) -> Value:
        inner = dict(scope)
        for definition in e.defs:
            inner[definition.name] = _Closure(definition, inner)
        return self.eval(e.body, inner, primed)

    def _box_action(self, e: n.BoxAction, scope: dict[str, Any], primed: bool) -> Value:
        unchanged = n.Unary(e.at, "UNCHANGED", e.sub)
        if e.op == "box":
            return self._bool(e.action, scope, primed) or self.eval(unchanged, scope, primed)
        return self._bool(e.action, scope, primed) and not self.eval(unchanged, scope, primed)

    # -- checks -----------------------------------------------------------
    def _need_arith(self, e: n.Expr) -> None:
        if not self.arithmetic:
            raise self._error("arithmetic needs EXTENDS Naturals or Integers", e)

    def _int(self, value: Value, e: n.Expr) -> int:
        if type(value) is not int:
            raise self._error(f"expected an integer, got {format_value(value)}", e)
        return int(value)

    def _set(self, value: Value, e: n.Expr) -> frozenset[Value] | InfiniteSet:
        if not isinstance(value, frozenset | InfiniteSet):
            raise self._error(f"expected a set, got {format_value(value)}", e)
        return value

    def _finite(self, value: Value, e: n.Expr) -> frozenset[Value]:
        if not isinstance(value, frozenset):
            what = "an infinite set" if isinstance(value, InfiniteSet) else format_value(value)
            raise self._error(f"expected a finite set, got {what}", e)
        return value

    def _fn_dict(self, value: Value, e: n.Expr) -> dict[Value, Value]:
        if isinstance(value, tuple):
            return dict(enumerate(value, 1))
        if isinstance(value, Fn):
            return value.as_dict()
        raise self._error(f"expected a function, got {format_value(value)}", e)

    def _checked_set(self, items: Collection[Value], e: n.Expr) -> frozenset[Value]:
        """``items`` as a set, refusing booleans and integers together (True == 1 in Python)."""
        kinds = {type(v) for v in items if type(v) in (bool, int)}
        if len(kinds) > 1:
            raise self._error("a set of both booleans and integers (TLA+ cannot compare them)", e)
        return frozenset(items)

    def _equal(self, a: Value, b: Value, e: n.Expr) -> bool:
        if a is b:  # an unchanged variable keeps its object: the commonest equality
            return True
        if type(a) is not type(b) and kind(a) != kind(b):
            functions = ("a sequence", "a function", "a record")
            if not (kind(a) in functions and kind(b) in functions):
                raise self._error(
                    f"cannot compare {kind(a)} ({format_value(a)}) with {kind(b)} "
                    f"({format_value(b)})",
                    e,
                )
        return bool(a == b)

    def _in_without_building(
        self, value: Value, right: n.Expr, scope: dict[str, Any], primed: bool
    ) -> bool | None:
        """``value \\in [S -> T]`` and ``value \\in SUBSET S`` without building
        the set (which is exponential); None when ``right`` is neither."""
        if isinstance(right, n.FnSet):
            domain = self._finite(self.eval(right.domain, scope, primed), right.domain)
            codomain = self._set(self.eval(right.codomain, scope, primed), right.codomain)
            if isinstance(value, tuple):
                pairs: Iterable[tuple[Value, Value]] = enumerate(value, 1)
                keys: frozenset[Value] = frozenset(range(1, len(value) + 1))
            elif isinstance(value, Fn):
                pairs, keys = value.items(), value.domain()
            else:
                return False
            return keys == domain and all(_member(v, codomain) for _, v in pairs)
        if isinstance(right, n.Unary) and right.op == "DOMAIN" and type(value) is not bool:
            # x \in DOMAIN f asks f, without building the domain (a history
            # variable's domain grows with the run)
            fn = self.eval(right.operand, scope, primed)
            if isinstance(fn, tuple):
                return type(value) is int and 1 <= value <= len(fn)
            if isinstance(fn, Fn):
                return value in fn
            return None
        if isinstance(right, n.Unary) and right.op == "SUBSET":
            base = self._set(self.eval(right.operand, scope, primed), right.operand)
            if not isinstance(value, frozenset):
                return False
            return all(_member(v, base) for v in value)
        return None

    def _in(self, value: Value, collection: Value, e: n.Expr) -> bool:
        collection = self._set(collection, e)
        if isinstance(collection, InfiniteSet):
            return collection.contains(value)
        if collection and type(value) in (bool, int):
            sample = next(iter(collection))
            if type(sample) in (bool, int) and type(sample) is not type(value):
                raise self._error(f"cannot compare {kind(value)} with {kind(sample)}", e)
        return value in collection


def rigid_definitions(module: n.Module) -> frozenset[str]:
    """The names of the definitions without parameters whose value reads no
    variable, directly or through the definitions they use."""
    variables = frozenset(module.variables)
    by_name = {d.name: d for d in module.definitions}
    verdict: dict[str, bool] = {}

    def reads_state(node: object) -> bool:
        if isinstance(node, n.Name | n.Call):
            if node.name in variables:
                return True
            target = by_name.get(node.name)
            if target is not None and definition_reads_state(target):
                return True
        if isinstance(node, n.Prime | n.BoxAction) or (
            isinstance(node, n.Unary) and node.op in ("UNCHANGED", "ENABLED", "BOX")
        ):
            return True
        if isinstance(node, tuple):
            return any(reads_state(item) for item in node)
        if isinstance(node, n.Expr):
            return any(reads_state(getattr(node, f.name)) for f in fields(node))
        return False

    def definition_reads_state(definition: n.Definition) -> bool:
        if definition.name not in verdict:
            verdict[definition.name] = True  # recursion: assume the worst until known
            verdict[definition.name] = reads_state(definition.body)
        return verdict[definition.name]

    return frozenset(
        d.name for d in module.definitions if not d.params and not definition_reads_state(d)
    )


def _member(value: Value, domain: frozenset[Value] | InfiniteSet) -> bool:
    return domain.contains(value) if isinstance(domain, InfiniteSet) else value in domain


#: The integer operators that cannot fail, by token: one dict lookup instead
#: of a chain of comparisons (the comparisons of log indices are common).
_PLAIN_ARITH: dict[str, Callable[[int, int], Value]] = {
    "PLUS": operator.add,
    "MINUS": operator.sub,
    "TIMES": operator.mul,
    "LT": operator.lt,
    "GT": operator.gt,
    "LE": operator.le,
    "GE": operator.ge,
}


def _arith(op: str, a: int, b: int, error: Callable[[str], SpecError]) -> Value:
    """The integer operators that can fail (the others are ``_PLAIN_ARITH``)."""
    if op == "DIV":
        if b == 0:
            raise error("division by zero")
        return a // b
    if op == "MOD":
        if b <= 0:
            raise error(f"% needs a positive divisor, got {b}")
        return a % b
    # DOTDOT
    if b - a > MAX_SET:
        raise error(f"{a}..{b} is too large to build")
    return frozenset(range(a, b + 1))


NAT = InfiniteSet("Nat", lambda v: type(v) is int and v >= 0)
INT = InfiniteSet("Int", lambda v: type(v) is int)
