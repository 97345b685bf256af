"""The mark the optional compiled build (raftlab/accel.py) needs on simulator
classes.

mypyc closes a compiled class to subclasses written in plain Python unless
the class is marked ``@mypyc_attr(allow_interpreted_subclasses=True)``: a
simulator class that interpreted code extends (sim/schedule.py's
``ScheduledSimulation``, sim/operations.py's ``ScriptedWorkload``) must carry
it, or the compiled build raises TypeError where the pure Python runs. mypyc
reads the decorator by name, so this module only gives it a fallback: without
mypy installed it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # installed without mypy: the decorator matters only to mypyc

    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        return lambda cls: cls


__all__ = ["mypyc_attr"]
