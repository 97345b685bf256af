"""Source text -> :mod:`checkers.spec.nodes`: the lark grammar (``tla.lark``),
the layout pass for junction lists (:mod:`checkers.spec.layout`) and a
transformer that builds the typed tree.

``parse_module(text, file)`` reads a whole ``---- MODULE M ---- ... ====``
module (text before the header and after the footer is ignored, as TLA+
does); ``parse_expr(text, file)`` reads one expression.  Both raise
:class:`SpecError` naming file, line, column and the offending text.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedToken,
    VisitError,
)

from checkers.spec import nodes as n
from checkers.spec.errors import Span, SpecError
from checkers.spec.layout import Layout

__all__ = ["parse_expr", "parse_module"]

GRAMMAR = Path(__file__).with_name("tla.lark")

#: How the synthetic layout tokens read in "expected ..." messages.
LAYOUT_WORDS = {
    "_JAND_BEGIN": "/\\ (list)",
    "_JOR_BEGIN": "\\/ (list)",
    "_JAND_SEP": "/\\ (next item)",
    "_JOR_SEP": "\\/ (next item)",
    "_JEND": "end of the bullet list",
    "_DASHES": "----",
    "_FOOTER": "====",
    "$END": "end of input",
}

HEADER = re.compile(r"^-{4,}[ ]*MODULE\b", re.MULTILINE)
FOOTER = re.compile(r"^={4,}", re.MULTILINE)


@cache
def _parser() -> Lark:
    """The one LALR parser (built once: reading the grammar costs ~100 ms)."""
    return Lark(
        GRAMMAR.read_text(),
        parser="lalr",
        lexer="basic",
        postlex=Layout(),
        start=["start", "expr_only"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


def parse_module(text: str, file: str = "<spec>") -> n.Module:
    """The module in ``text`` (a ``.tla`` file's contents)."""
    header = HEADER.search(text)
    if header is None:
        raise SpecError("no module header (a line like ---- MODULE Name ----)", file, 1, 1)
    footer = FOOTER.search(text, header.end())
    if footer is None:
        raise SpecError("no module footer (a line of ====)", file, _line_of(text, len(text)), 1)
    end = text.find("\n", footer.start())
    end = len(text) if end < 0 else end
    body = _blank(text[: header.start()]) + text[header.start() : end] + _blank(text[end:])
    module = _parse(body, file, "start")
    assert isinstance(module, n.Module)
    return module


def parse_expr(text: str, file: str = "<expr>") -> n.Expr:
    """One expression, for evaluation on its own."""
    expr = _parse(text, file, "expr_only")
    assert isinstance(expr, n.Expr)
    return expr


def _parse(text: str, file: str, start: str) -> Any:
    tab = text.find("\t")
    if tab >= 0:
        raise SpecError(
            "tab character (bullet alignment is by column: indent with spaces)",
            file,
            _line_of(text, tab),
            tab - text.rfind("\n", 0, tab),
        )
    try:
        tree = _parser().parse(text, start=start)
        return _ToNodes(text, file).transform(tree)
    except SpecError as error:
        raise SpecError(error.message, file, error.line, error.column, error.text) from None
    except UnexpectedToken as error:
        raise _unexpected(error, text, file) from None
    except UnexpectedCharacters as error:
        raise SpecError(
            "a character outside the subset",
            file,
            error.line,
            error.column,
            text[error.pos_in_stream or 0 : (error.pos_in_stream or 0) + 1],
        ) from None
    except UnexpectedEOF as error:
        raise SpecError(
            f"expected {_expected({t.type for t in error.expected})}, found the end of the text",
            file,
            _line_of(text, len(text)),
            1,
        ) from None
    except VisitError as error:
        inner = error.orig_exc
        if isinstance(inner, SpecError):
            raise SpecError(inner.message, file, inner.line, inner.column, inner.text) from None
        raise SpecError(f"cannot read this: {inner}", file) from None
    except (LarkError, RecursionError) as error:
        message = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise SpecError(message, file) from None


def _unexpected(error: UnexpectedToken, text: str, file: str) -> SpecError:
    token = error.token
    expected = _expected(error.expected)
    if token.type == "$END":
        line = _line_of(text, len(text))
        column = len(text) - text.rfind("\n", 0, len(text))
        return SpecError(f"expected {expected}, found the end of the text", file, line, column)
    line, column = token.line or 0, token.column or 0
    if token.type == "_JEND":
        rest = text[token.start_pos or 0 :].split("\n", 1)[0].strip()[:40]
        return SpecError(
            f"expected {expected}, found the end of a bullet list", file, line, column, rest
        )
    return SpecError(f"expected {expected}, found", file, line, column, str(token.value))


def _expected(names: set[str] | frozenset[str]) -> str:
    words = sorted({_word(name) for name in names})
    if len(words) > 8:
        words = [*words[:8], "..."]
    return " or ".join(words) if words else "nothing more"


def _word(name: str) -> str:
    if name in LAYOUT_WORDS:
        return LAYOUT_WORDS[name]
    if name in ("NAME", "NUMBER", "STRING"):
        return {"NAME": "a name", "NUMBER": "a number", "STRING": "a string"}[name]
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name
    value = str(pattern.value)
    if pattern.type == "re":
        value = value.split("|", 1)[0].replace("\\\\", "\\").strip("()")
        value = re.sub(r"\\(.)", r"\1", value) if len(value) <= 12 else name
    return value


def _blank(text: str) -> str:
    """``text`` with every character but newlines made a space (positions stay)."""
    return re.sub(r"[^\n]", " ", text)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _unescape(literal: str) -> str:
    table = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
    return re.sub(r"\\(.)", lambda m: table[m.group(1)], literal[1:-1])


@v_args(meta=True)
class _ToNodes(Transformer[Token, Any]):
    """lark's parse tree -> typed nodes (one method per grammar rule or alias)."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__()
        self.text = text
        self.file = file

    # -- module ---------------------------------------------------------
    def start(self, meta: Any, children: list[Any]) -> n.Module:
        parts: dict[str, list[Any]] = {k: [] for k in ("ext", "const", "var", "rec", "def", "ass")}
        for child in children[1:]:
            if isinstance(child, n.Definition):
                parts["def"].append(child)
            else:
                kind, values = child
                parts[kind].extend(values)
        return n.Module(
            self._span(meta),
            str(children[0]),
            tuple(parts["ext"]),
            tuple(parts["const"]),
            tuple(parts["var"]),
            tuple(parts["rec"]),
            tuple(parts["def"]),
            tuple(parts["ass"]),
        )

    def extends(self, meta: Any, c: list[Token]) -> tuple[str, list[str]]:
        return "ext", [str(t) for t in c]

    def constants(self, meta: Any, c: list[Token]) -> tuple[str, list[str]]:
        return "const", [str(t) for t in c]

    def variables(self, meta: Any, c: list[Token]) -> tuple[str, list[str]]:
        return "var", [str(t) for t in c]

    def recursive(self, meta: Any, c: list[str]) -> tuple[str, list[str]]:
        return "rec", list(c)

    def opdecl(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def assume(self, meta: Any, c: list[n.Expr]) -> tuple[str, list[n.Expr]]:
        return "ass", [c[0]]

    def definition(self, meta: Any, c: list[Any]) -> n.Definition:
        params: tuple[str, ...] = c[1] if len(c) == 3 else ()
        return n.Definition(self._span(meta), str(c[0]), params, c[-1])

    def params(self, meta: Any, c: list[Token]) -> tuple[str, ...]:
        return tuple(str(t) for t in c)

    def expr_only(self, meta: Any, c: list[n.Expr]) -> n.Expr:
        return c[0]

    # -- atoms ----------------------------------------------------------
    def number(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(self._span(meta), int(c[0]))

    def string(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(self._span(meta), _unescape(str(c[0])))

    def true(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(self._span(meta), True)

    def false(self, meta: Any, c: list[Token]) -> n.Literal:
        return n.Literal(self._span(meta), False)

    def name(self, meta: Any, c: list[Token]) -> n.Name:
        return n.Name(self._span(meta), str(c[0]))

    def call(self, meta: Any, c: list[Any]) -> n.Call:
        return n.Call(self._span(meta), str(c[0]), c[1])

    def at(self, meta: Any, c: list[Token]) -> n.At:
        return n.At(self._span(meta))

    # -- operators ------------------------------------------------------
    def binop(self, meta: Any, c: list[Any]) -> n.Binary:
        return n.Binary(self._span(meta), c[1].type, c[0], c[2])

    def unop(self, meta: Any, c: list[Any]) -> n.Unary:
        op = "NEG" if c[0].type == "MINUS" else c[0].type
        return n.Unary(self._span(meta), op, c[1])

    def always(self, meta: Any, c: list[n.Expr]) -> n.Unary:
        return n.Unary(self._span(meta), "BOX", c[0])

    def conj(self, meta: Any, c: list[Any]) -> n.Junction:
        return n.Junction(self._span(meta), "and", tuple(x for x in c if not isinstance(x, Token)))

    def disj(self, meta: Any, c: list[Any]) -> n.Junction:
        return n.Junction(self._span(meta), "or", tuple(x for x in c if not isinstance(x, Token)))

    def conj_list(self, meta: Any, c: list[n.Expr]) -> n.Junction:
        return n.Junction(self._span(meta), "and", tuple(c))

    def disj_list(self, meta: Any, c: list[n.Expr]) -> n.Junction:
        return n.Junction(self._span(meta), "or", tuple(c))

    def apply(self, meta: Any, c: list[Any]) -> n.Apply:
        return n.Apply(self._span(meta), c[0], c[1])

    def field(self, meta: Any, c: list[Any]) -> n.Field:
        return n.Field(self._span(meta), c[0], str(c[1]))

    def prime(self, meta: Any, c: list[n.Expr]) -> n.Prime:
        return n.Prime(self._span(meta), c[0])

    # -- sets, functions, records, tuples --------------------------------
    def set_enum(self, meta: Any, c: list[Any]) -> n.SetEnum:
        return n.SetEnum(self._span(meta), c[0] if c else ())

    def set_filter(self, meta: Any, c: list[Any]) -> n.SetFilter:
        return n.SetFilter(self._span(meta), str(c[0]), c[2], c[3])

    def set_map(self, meta: Any, c: list[Any]) -> n.SetMap:
        return n.SetMap(self._span(meta), c[0], c[1])

    def tuple_(self, meta: Any, c: list[Any]) -> n.Tuple:
        return n.Tuple(self._span(meta), c[0] if c else ())

    def fn_def(self, meta: Any, c: list[Any]) -> n.FnDef:
        return n.FnDef(self._span(meta), c[0], c[1])

    def fn_set(self, meta: Any, c: list[Any]) -> n.FnSet:
        return n.FnSet(self._span(meta), c[0], c[1])

    def record(self, meta: Any, c: list[tuple[str, n.Expr]]) -> n.Record:
        names = [name for name, _ in c]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise SpecError(
                    f"field {name} given twice", "", meta.line, meta.column, self._text(meta)
                )
        return n.Record(self._span(meta), tuple(c))

    def field_def(self, meta: Any, c: list[Any]) -> tuple[str, n.Expr]:
        return str(c[0]), c[1]

    def except_(self, meta: Any, c: list[Any]) -> n.Except:
        return n.Except(self._span(meta), c[0], tuple(c[1:]))

    def update(self, meta: Any, c: list[Any]) -> n.Update:
        return n.Update(self._span(meta), tuple(c[:-2]), c[-1])

    def path_index(self, meta: Any, c: list[Any]) -> n.Expr:
        items: tuple[n.Expr, ...] = c[0]
        return items[0] if len(items) == 1 else n.Tuple(self._span(meta), items)

    def path_field(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def exprs(self, meta: Any, c: list[n.Expr]) -> tuple[n.Expr, ...]:
        return tuple(c)

    def bounds(self, meta: Any, c: list[n.Bound]) -> tuple[n.Bound, ...]:
        return tuple(c)

    def bound(self, meta: Any, c: list[Any]) -> n.Bound:
        names = tuple(str(t) for t in c[:-2])
        return n.Bound(self._span(meta), names, c[-1])

    # -- control --------------------------------------------------------
    def if_(self, meta: Any, c: list[n.Expr]) -> n.If:
        return n.If(self._span(meta), c[0], c[1], c[2])

    def arm(self, meta: Any, c: list[n.Expr]) -> tuple[n.Expr, n.Expr]:
        return c[0], c[1]

    def case(self, meta: Any, c: list[Any]) -> n.Case:
        arms = tuple(x for x in c if isinstance(x, tuple))
        other = c[-1] if not isinstance(c[-1], tuple) else None
        return n.Case(self._span(meta), arms, other)

    def let(self, meta: Any, c: list[Any]) -> n.Let:
        return n.Let(self._span(meta), tuple(c[:-1]), c[-1])

    def quant(self, meta: Any, c: list[Any]) -> n.Quant:
        op = "forall" if c[0].type == "FORALL" else "exists"
        return n.Quant(self._span(meta), op, c[1], c[2])

    def choose(self, meta: Any, c: list[Any]) -> n.Choose:
        return n.Choose(self._span(meta), str(c[0]), c[2], c[3])

    def box_action(self, meta: Any, c: list[n.Expr]) -> n.BoxAction:
        return n.BoxAction(self._span(meta), "box", c[0], c[1])

    def angle_action(self, meta: Any, c: list[n.Expr]) -> n.BoxAction:
        return n.BoxAction(self._span(meta), "angle", c[0], c[1])

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.file, 0, 0, 0, 0)
        return Span(self.file, meta.line, meta.column, meta.start_pos, meta.end_pos)

    def _text(self, meta: Any) -> str:
        return self.text[meta.start_pos : meta.end_pos].split("\n", 1)[0][:60]
