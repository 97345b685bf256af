"""The one error the spec package raises: :class:`SpecError`.

Parse errors and evaluation errors alike name the file, the line and the
column (both 1-based) and quote the offending text, so that a person writing
a spec can go straight to the spot.  Nothing else escapes the package's
public functions on bad input (a fuzz test in tests/spec/ holds this).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Span", "SpecError"]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of source text is: its file, 1-based line and column,
    0-based offsets into the file's text."""

    file: str
    line: int
    column: int
    start: int
    end: int


#: A span for values and errors that come from no source text.
NOWHERE = Span("", 0, 0, 0, 0)


class SpecError(Exception):
    """A spec that cannot be read or an expression that cannot be evaluated.

    ``str(error)`` is one line: ``FILE:LINE:COL: MESSAGE: TEXT`` (the text
    part only when there is source text to quote).
    """

    def __init__(
        self, message: str, file: str = "<spec>", line: int = 0, column: int = 0, text: str = ""
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.text = text
        super().__init__(self.describe())

    def describe(self) -> str:
        """The one-line form, as ``str`` gives it."""
        where = self.file if self.line == 0 else f"{self.file}:{self.line}:{self.column}"
        quoted = f": {self.text}" if self.text else ""
        return f"{where}: {self.message}{quoted}"


def quote(source: str, span: Span, limit: int = 60) -> str:
    """The first line of the text at ``span``, cut to ``limit`` characters."""
    text = source[span.start : span.end].split("\n", 1)[0].strip()
    if span.end > span.start and not text:
        text = source[span.start : span.end].strip().split("\n", 1)[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."
