"""TLA+'s aligned junction lists, as tokens a context-free grammar can parse.

A ``/\\`` or ``\\/`` that stands where an operand must start opens a bullet
list; the list's column is the bullet's column.  Each later bullet of the
same kind in exactly that column starts the next item; the list ends at the
first token that is not right of that column, or at a token that closes
something opened before the list began (a bracket, ``THEN``/``ELSE`` of an
enclosing ``IF``, ``IN`` of an enclosing ``LET``, the ``:`` of a quantifier,
a ``,`` ...).  This pass rewrites the lexer's tokens accordingly: list start
``_JAND_BEGIN``/``_JOR_BEGIN``, item bullet ``_JAND_SEP``/``_JOR_SEP``, list
end ``_JEND``.  A token inside a bracket that is not right of the bullet
column of the list around the bracket is an error, as in SANY.

The pass keeps a stack of what is open: junction lists (with their column),
brackets, and the keywords whose matching token may close lists (``IF``,
``LET``, ``CASE``, ``\\A``, ``\\E``, ``CHOOSE``).  It is used by
:mod:`checkers.spec.parser` as lark's ``postlex`` stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lark import Token

from checkers.spec.errors import SpecError

__all__ = ["Layout"]

#: Tokens after which an operand has just ended: a bullet after one of these
#: is the infix operator, anywhere else it starts a list.
OPERAND_END = frozenset(
    {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "AT", "_RPAR", "_RSQB", "_RBRACE"}
    | {"_RANGLE", "_PRIME"}
)

#: Bracket openers and the tokens that close them.
BRACKETS = {
    "_LPAR": ("_RPAR",),
    "_LSQB": ("_RSQB", "_RSQB_SUB"),
    "_LBRACE": ("_RBRACE",),
    "_LANGLE": ("_RANGLE", "_RANGLE_SUB"),
}
CLOSERS = {closer: opener for opener, closers in BRACKETS.items() for closer in closers}

#: Keywords pushed on the stack so that their partner tokens close the lists
#: inside them.
KEYWORDS = frozenset({"_IF", "_LET", "_CASE", "FORALL", "EXISTS", "_CHOOSE"})
QUANTIFIERS = frozenset({"FORALL", "EXISTS", "_CHOOSE"})
ANY_BRACKET = frozenset(BRACKETS)

#: token -> the stack entries it belongs to.  ELSE closes its IF, IN its
#: LET, ``:`` its quantifier; a closing bracket closes its opener.
PARTNERS: dict[str, frozenset[str]] = {
    "_THEN": frozenset({"_IF"}),
    "_ELSE": frozenset({"_IF"}),
    "_IN": frozenset({"_LET"}),
    "_ARROW": frozenset({"_CASE", "_LSQB"}),
    "_BOX": frozenset({"_CASE"}),
    "_OTHER": frozenset({"_CASE"}),
    "_COLON": QUANTIFIERS | {"_LBRACE", "_LSQB"},
    "_COMMA": QUANTIFIERS | ANY_BRACKET,
    "_MAPSTO": frozenset({"_LSQB"}),
    "_EXCEPT": frozenset({"_LSQB"}),
    "_DEFEQ": frozenset({"_LET"}),
}

JUNCTIONS = {"AND": ("_JAND_BEGIN", "_JAND_SEP"), "OR": ("_JOR_BEGIN", "_JOR_SEP")}


@dataclass(slots=True)
class _Open:
    """One open thing: a junction list (kind AND/OR), a bracket or a keyword."""

    kind: str
    column: int
    line: int
    junction: bool


class Layout:
    """lark ``postlex`` stage: inserts the junction-list tokens (module docstring)."""

    always_accept: tuple[str, ...] = ()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        """The token stream with junction lists made explicit."""
        stack: list[_Open] = []
        junctions: list[_Open] = []  # the junction entries of ``stack``, innermost last
        previous = ""
        last = Token("_JEND", "", 0, 1, 1, 1, 1, 0)
        for token in stream:
            kind = token.type
            yield from self._by_column(token, last, stack, junctions)
            if junctions and stack[-1] is junctions[-1]:
                entry = junctions[-1]
                if token.column == entry.column and kind == entry.kind:
                    yield Token.new_borrow_pos(JUNCTIONS[kind][1], token.value, token)
                    previous, last = "_SEP", token
                    continue
            yield from self._by_partner(token, last, stack, junctions)
            if kind in JUNCTIONS and previous not in OPERAND_END:
                entry = _Open(kind, token.column or 0, token.line or 0, True)
                stack.append(entry)
                junctions.append(entry)
                yield Token.new_borrow_pos(JUNCTIONS[kind][0], token.value, token)
            else:
                if kind in BRACKETS or kind in KEYWORDS:
                    stack.append(_Open(kind, token.column or 0, token.line or 0, False))
                yield token
            previous, last = kind, token
        for _ in junctions:
            yield _end(last)

    def _by_column(
        self, token: Token, last: Token, stack: list[_Open], junctions: list[_Open]
    ) -> Iterator[Token]:
        """Close the lists that ``token`` is not right of (the alignment rule)."""
        column = token.column or 0
        while junctions and column <= junctions[-1].column:
            entry = junctions[-1]
            while stack[-1] is not entry:
                top = stack.pop()
                if top.kind in BRACKETS:
                    raise SpecError(
                        f"not right of the bullet at line {entry.line}, column {entry.column}, "
                        f"though inside the bracket opened at line {top.line}, "
                        f"column {top.column}",
                        "",  # the parser puts the file name in
                        token.line or 0,
                        column,
                        str(token.value),
                    )
            if column == entry.column and token.type == entry.kind:
                return  # the bullet of the list's next item
            stack.pop()
            junctions.pop()
            yield _end(last)

    def _by_partner(
        self, token: Token, last: Token, stack: list[_Open], junctions: list[_Open]
    ) -> Iterator[Token]:
        """Close what is open inside the bracket or keyword that ``token`` belongs to."""
        kind = token.type
        if kind in CLOSERS:
            owners = frozenset({CLOSERS[kind]})
        elif kind in PARTNERS:
            owners = PARTNERS[kind]
        else:
            return
        depth = len(stack)
        while depth and stack[depth - 1].kind not in owners:
            if not (stack[depth - 1].junction or stack[depth - 1].kind == "_CASE"):
                break
            depth -= 1
        top_level = kind == "_DEFEQ" and depth == 0
        if not top_level and not (depth and stack[depth - 1].kind in owners):
            return  # unmatched: the parser reports it
        while len(stack) > depth:
            if stack.pop().junction:
                junctions.pop()
                yield _end(last)
        if not stack:
            return
        owner = stack[-1].kind
        if (
            kind in CLOSERS
            or kind in ("_ELSE", "_IN")
            or (kind == "_COLON" and owner in QUANTIFIERS)
        ):
            stack.pop()


def _end(last: Token) -> Token:
    """A list end, placed right after the list's last token (so spans end there)."""
    return Token(
        "_JEND",
        "",
        last.end_pos,
        last.end_line,
        last.end_column,
        last.end_line,
        last.end_column,
        last.end_pos,
    )
