"""Static checks of a parsed module, done once when a spec is read: every
name is defined before it is used (or declared RECURSIVE), no name is
defined twice, EXTENDS names modules the subset provides, and operators
from a standard module are used only when it is extended.

These are TLA+'s own rules (SANY rejects a spec that breaks them), so a spec
the checker accepts stays a TLA+ spec; and a misspelt name is reported when
the file is read rather than when a trace first reaches it.
"""

from __future__ import annotations

from dataclasses import fields

from checkers.spec import nodes as n
from checkers.spec.errors import SpecError, quote

__all__ = ["STANDARD", "check_expr", "check_module"]

#: Names each standard module provides (only modules the spec EXTENDS count).
STANDARD: dict[str, frozenset[str]] = {
    "Naturals": frozenset({"Nat"}),
    "Integers": frozenset({"Nat", "Int"}),
    "Sequences": frozenset({"Seq", "Len", "Append", "Head", "Tail", "SubSeq"}),
    "FiniteSets": frozenset({"Cardinality", "IsFiniteSet"}),
    "TLC": frozenset({"Assert"}),
}


#: Operators of a standard module (by the parser's token names).
ARITH_MODULES = frozenset({"Naturals", "Integers"})
ARITH_OPS = frozenset({"PLUS", "MINUS", "TIMES", "DIV", "MOD", "LT", "GT", "LE", "GE", "DOTDOT"})
OP_MODULE = {"CONCAT": "Sequences", "COLONGT": "TLC", "ATAT": "TLC"}


def check_module(module: n.Module, source: str) -> None:
    """Raise SpecError at the first name or operator the module may not use."""
    unknown = sorted(set(module.extends) - set(STANDARD))
    if unknown:
        raise SpecError(
            f"EXTENDS {unknown[0]}: the subset provides only {', '.join(sorted(STANDARD))}",
            module.at.file,
            module.at.line,
            module.at.column,
        )
    _Resolver(module, source).run()


def check_expr(
    module: n.Module, expr: n.Expr, source: str, names: frozenset[str] = frozenset()
) -> None:
    """The same checks for an expression evaluated in ``module``'s scope,
    with ``names`` bound from outside."""
    resolver = _Resolver(module, source)
    resolver.defined = {d.name: len(d.params) for d in module.definitions}
    resolver.walk(expr, names)


class _Resolver:
    def __init__(self, module: n.Module, source: str) -> None:
        self.module = module
        self.source = source
        self.extends = frozenset(module.extends)
        standard: frozenset[str] = frozenset().union(*(STANDARD[m] for m in module.extends))
        self.known: set[str] = set(module.constants) | set(module.variables) | {"BOOLEAN"}
        self.known |= {"Nat", "Int"} & standard
        self.operators: set[str] = set(standard - {"Nat", "Int"})
        self.recursive = frozenset(module.recursive)
        self.defined: dict[str, int] = {}

    def run(self) -> None:
        declared = list(self.module.constants) + list(self.module.variables)
        for name in declared:
            if declared.count(name) > 1:
                raise SpecError(f"{name} is declared twice", self.module.at.file)
        for expr in self.module.assumptions:
            self.walk(expr, frozenset())
        for definition in self.module.definitions:
            if definition.name in self.defined or definition.name in self.known:
                raise self.error(f"{definition.name} is defined twice", definition)
            self.defined[definition.name] = len(definition.params)
            self.walk(definition.body, frozenset(definition.params))

    def error(self, message: str, node: n.Expr) -> SpecError:
        at = node.at
        return SpecError(message, at.file, at.line, at.column, quote(self.source, at))

    def use(self, name: str, arity: int, node: n.Expr, bound: frozenset[str]) -> None:
        if name in bound:
            return
        if name in self.defined or name in self.recursive:
            expected = self.defined.get(name)
            if expected is not None and expected != arity:
                raise self.error(f"{name} takes {expected} argument(s), given {arity}", node)
            return
        if arity == 0 and name in self.known:
            return
        if arity > 0 and name in self.operators:
            return
        later = {d.name for d in self.module.definitions}
        if name in later:
            raise self.error(
                f"{name} is used before its definition (move it up, or declare it RECURSIVE)",
                node,
            )
        hint = ""
        for module, names in sorted(STANDARD.items()):
            if name in names:
                hint = f" (it comes with EXTENDS {module})"
        raise self.error(f"unknown name {name}{hint}", node)

    def walk(self, node: n.Expr, bound: frozenset[str]) -> None:
        if isinstance(node, n.Name):
            self.use(node.name, 0, node, bound)
        elif isinstance(node, n.Call):
            self.use(node.name, len(node.args), node, bound)
            for arg in node.args:
                self.walk(arg, bound)
        elif isinstance(node, n.Binary):
            self.operator(node)
            self.walk(node.left, bound)
            self.walk(node.right, bound)
        elif isinstance(node, n.Unary) and node.op == "NEG" and "Integers" not in self.extends:
            raise self.error("unary - needs EXTENDS Integers", node)
        elif isinstance(node, n.Quant | n.SetMap | n.FnDef):
            inner = self.bounds(node.bounds, bound)
            self.walk(node.body, inner)
        elif isinstance(node, n.Choose | n.SetFilter):
            self.walk(node.domain, bound)
            body = node.body if isinstance(node, n.Choose) else node.predicate
            self.walk(body, bound | {node.name})
        elif isinstance(node, n.Let):
            inner = bound
            for definition in node.defs:
                self.walk(definition.body, inner | set(definition.params) | {definition.name})
                inner = inner | {definition.name}
            self.walk(node.body, inner)
        else:
            self.children(node, bound)
        if isinstance(node, n.Unary) and node.op == "NEG":
            self.walk(node.operand, bound)

    def bounds(self, bounds: tuple[n.Bound, ...], bound: frozenset[str]) -> frozenset[str]:
        inner = bound
        for b in bounds:
            self.walk(b.domain, bound)
            inner = inner | set(b.names)
        return inner

    def operator(self, node: n.Binary) -> None:
        if node.op in ARITH_OPS and not self.extends & ARITH_MODULES:
            raise self.error("this operator needs EXTENDS Naturals or Integers", node)
        needed = OP_MODULE.get(node.op)
        if needed and needed not in self.extends:
            raise self.error(f"this operator needs EXTENDS {needed}", node)

    def children(self, node: n.Expr, bound: frozenset[str]) -> None:
        for field in fields(node):
            self.visit(getattr(node, field.name), bound)

    def visit(self, value: object, bound: frozenset[str]) -> None:
        if isinstance(value, n.Expr):
            self.walk(value, bound)
        elif isinstance(value, tuple):
            for item in value:
                self.visit(item, bound)
