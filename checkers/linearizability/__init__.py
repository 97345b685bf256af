"""Linearizability checking for the KV store and plain registers.

Clients see the store through histories of operations; this package decides
whether a history is linearizable and, when it is not, explains why.  It is
built like Porcupine: the searches know nothing about key-value stores, and
a model is a handful of pure functions (:class:`Model`).

Public API::

    from checkers.linearizability import check, load_history, write_html

    history = load_history("run/history.jsonl")           # or fmt="edn" / "jepsen-log"
    result = check(history, model="kv", timeout=60)        # or model="register"
    result.verdict        # "linearizable" | "not-linearizable" | "unknown"
    result.per_key        # {"x": "linearizable", "y": "not-linearizable", ...}
    print(result.explain())                                # text report
    write_html(result, "run/linearizability.html")         # self-contained page

    # Client events already in memory (the JSONL objects, e.g. from a trace):
    result = check(history_from_records(records))

Bad input raises :class:`HistoryError` (``str()`` is ``file:line: what``).
The history format is documented in ``docs/history-format.md``; how the
search works and how to read a report, in ``docs/linearizability.md``.
"""

from __future__ import annotations

from checkers.linearizability.checker import LinResult, check
from checkers.linearizability.history import History, HistoryError, Operation
from checkers.linearizability.model import Model
from checkers.linearizability.models import KVModel, get_model
from checkers.linearizability.parse import FORMATS, history_from_records, load_history, parse_text

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from checkers.linearizability.html import write_html
    from checkers.linearizability.models import RegisterModel
    from checkers.linearizability.result import Verdict


def __getattr__(name: str) -> object:
    # The HTML writer (and the stdlib ``html`` module) load on first use;
    # ``Verdict``, a ``typing.Literal``, too.
    if name == "write_html":
        from checkers.linearizability.html import write_html

        return write_html
    if name == "RegisterModel":  # loads on first use, like the register model itself
        from checkers.linearizability.models.register import RegisterModel

        return RegisterModel
    if name == "Verdict":
        from typing import Literal

        return Literal["linearizable", "not-linearizable", "unknown"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FORMATS",
    "History",
    "HistoryError",
    "KVModel",
    "LinResult",
    "Model",
    "Operation",
    "RegisterModel",
    "Verdict",
    "check",
    "get_model",
    "history_from_records",
    "load_history",
    "parse_text",
    "write_html",
]
