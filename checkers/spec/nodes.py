"""The typed syntax tree of the TLA+ subset: what the parser builds, what
the evaluator walks.

Every node is a frozen slotted dataclass whose first field ``at`` says where
its text is (for error messages).  Nodes compare by identity (``eq=False``):
the evaluator keys caches on them, and structural hashing of deep trees
would cost more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkers.spec.errors import Span

__all__ = [
    "Apply",
    "At",
    "Binary",
    "Bound",
    "BoxAction",
    "Call",
    "Case",
    "Choose",
    "Definition",
    "Except",
    "Expr",
    "Field",
    "FnDef",
    "FnSet",
    "If",
    "Junction",
    "Let",
    "Literal",
    "Module",
    "Name",
    "Prime",
    "Quant",
    "Record",
    "SetEnum",
    "SetFilter",
    "SetMap",
    "Tuple",
    "Unary",
    "Update",
]


@dataclass(frozen=True, slots=True, eq=False)
class Expr:
    """Base of every expression node."""

    at: Span


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Expr):
    """A number, string or boolean constant (already a value)."""

    value: object


@dataclass(frozen=True, slots=True, eq=False)
class Name(Expr):
    """An identifier: bound variable, parameter, definition, constant or variable."""

    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Call(Expr):
    """``Op(a, b)``: a user-defined or standard operator applied to arguments."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class At(Expr):
    """``@`` inside an ``EXCEPT`` update: the old value at the updated path."""


@dataclass(frozen=True, slots=True, eq=False)
class Unary(Expr):
    """A prefix operator: ``~ - DOMAIN SUBSET UNION UNCHANGED ENABLED []``."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Expr):
    """An infix operator other than the junctions (``=``, ``\\in``, ``+``, ``\\cup`` ...)."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Junction(Expr):
    """``/\\`` (``op`` "and") or ``\\/`` ("or") of items, infix or bulleted; short-circuits."""

    op: str
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Prime(Expr):
    """``e'``: ``e`` evaluated in the next state."""

    operand: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Bound(Expr):
    """``x, y \\in S`` in a quantifier, set map or function definition."""

    names: tuple[str, ...]
    domain: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Quant(Expr):
    """``\\A`` (``op`` "forall") or ``\\E`` ("exists") over bounded domains."""

    op: str
    bounds: tuple[Bound, ...]
    body: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Choose(Expr):
    """``CHOOSE x \\in S : P``: the least element (in the value order) satisfying P."""

    name: str
    domain: Expr
    body: Expr


@dataclass(frozen=True, slots=True, eq=False)
class SetEnum(Expr):
    """``{a, b, c}``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SetFilter(Expr):
    """``{x \\in S : P}``."""

    name: str
    domain: Expr
    predicate: Expr


@dataclass(frozen=True, slots=True, eq=False)
class SetMap(Expr):
    """``{e : x \\in S, y \\in T}``."""

    body: Expr
    bounds: tuple[Bound, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Tuple(Expr):
    """``<<a, b>>``: a tuple, which is also a sequence."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class FnDef(Expr):
    """``[x \\in S |-> e]`` (several bound names make a function of tuples)."""

    bounds: tuple[Bound, ...]
    body: Expr


@dataclass(frozen=True, slots=True, eq=False)
class FnSet(Expr):
    """``[S -> T]``: every function from S to T."""

    domain: Expr
    codomain: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Record(Expr):
    """``[a |-> e, b |-> f]``."""

    fields: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Apply(Expr):
    """``f[x]`` (``f[x, y]`` applies f to the tuple ``<<x, y>>``)."""

    fn: Expr
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Field(Expr):
    """``r.a``."""

    record: Expr
    name: str


@dataclass(frozen=True, slots=True, eq=False)
class Update(Expr):
    """``![a][b].c = e`` in an ``EXCEPT``: each path step is an index or a field name."""

    path: tuple[Expr | str, ...]
    value: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Except(Expr):
    """``[f EXCEPT ![a] = e, ...]``."""

    fn: Expr
    updates: tuple[Update, ...]


@dataclass(frozen=True, slots=True, eq=False)
class If(Expr):
    """``IF c THEN a ELSE b``."""

    cond: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Case(Expr):
    """``CASE p1 -> e1 [] p2 -> e2 [] OTHER -> e``; no arm true and no OTHER is an error."""

    arms: tuple[tuple[Expr, Expr], ...]
    other: Expr | None


@dataclass(frozen=True, slots=True, eq=False)
class Definition(Expr):
    """``Op(p, q) == body`` at the top level or inside ``LET``."""

    name: str
    params: tuple[str, ...]
    body: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Let(Expr):
    """``LET d1 d2 IN body``."""

    defs: tuple[Definition, ...]
    body: Expr


@dataclass(frozen=True, slots=True, eq=False)
class BoxAction(Expr):
    """``[A]_v`` (``op`` "box": A or v unchanged) or ``<<A>>_v`` ("angle": A and v changes)."""

    op: str
    action: Expr
    sub: Expr


@dataclass(frozen=True, slots=True, eq=False)
class Module(Expr):
    """A parsed module: its header and units in source order."""

    name: str
    extends: tuple[str, ...]
    constants: tuple[str, ...]
    variables: tuple[str, ...]
    recursive: tuple[str, ...]
    definitions: tuple[Definition, ...]
    assumptions: tuple[Expr, ...]
