"""The models shipped with the checker, by name (``kv``, ``register``).

``register`` loads on first use (its class costs start-up that a ``kv``
check does not need to pay).
"""

from __future__ import annotations

from checkers.linearizability.history import Value
from checkers.linearizability.model import Model
from checkers.linearizability.models.kv import KV_FUNCTIONS, KVModel

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from checkers.linearizability.models.register import REGISTER_FUNCTIONS, RegisterModel

__all__ = ["KV_FUNCTIONS", "MODELS", "REGISTER_FUNCTIONS", "KVModel", "RegisterModel", "get_model"]

MODELS = ("kv", "register")


def get_model(name: str, initial: Value = None) -> Model:
    """The model called ``name``; ``initial`` is what an unwritten key reads as."""
    if name == "kv":
        return KVModel(initial=initial)
    if name == "register":
        from checkers.linearizability.models.register import RegisterModel

        return RegisterModel(initial=initial)
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def __getattr__(name: str) -> object:
    if name in ("REGISTER_FUNCTIONS", "RegisterModel"):
        from checkers.linearizability.models import register

        return getattr(register, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
