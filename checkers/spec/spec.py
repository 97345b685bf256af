"""A spec file read once: :class:`Spec` holds the parsed module and its text
and makes evaluators for assignments of its constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from checkers.spec import nodes as n
from checkers.spec.errors import SpecError
from checkers.spec.evaluator import Evaluator
from checkers.spec.parser import parse_module
from checkers.spec.resolve import check_module
from checkers.spec.values import Value

__all__ = ["Spec"]


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed and checked module with the text it came from."""

    module: n.Module
    source: str
    file: str

    @classmethod
    def from_text(cls, text: str, file: str = "<spec>") -> Spec:
        """Parse ``text``; every name must resolve (checked here, not at evaluation)."""
        module = parse_module(text, file)
        check_module(module, text)
        return cls(module, text, file)

    @classmethod
    def load(cls, path: str | Path) -> Spec:
        """Read and parse a ``.tla`` file (an unreadable file is a SpecError too)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise SpecError(f"cannot read the spec: {reason}", str(path)) from None
        return cls.from_text(text, str(path))

    def evaluator(self, constants: Mapping[str, Value] | None = None) -> Evaluator:
        """An evaluator with the given CONSTANT values (unset ones fail when read)."""
        return Evaluator(self.module, constants or {}, self.source, self.file)
