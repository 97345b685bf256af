"""The models shipped with the checker, by name (``kv``, ``register``)."""

from __future__ import annotations

from checkers.linearizability.history import Value
from checkers.linearizability.model import Model
from checkers.linearizability.models.kv import KV_FUNCTIONS, KVModel
from checkers.linearizability.models.register import REGISTER_FUNCTIONS, RegisterModel

__all__ = ["KV_FUNCTIONS", "MODELS", "REGISTER_FUNCTIONS", "KVModel", "RegisterModel", "get_model"]

MODELS = ("kv", "register")


def get_model(name: str, initial: Value = None) -> Model:
    """The model called ``name``; ``initial`` is what an unwritten key reads as."""
    if name == "kv":
        return KVModel(initial=initial)
    if name == "register":
        return RegisterModel(initial=initial)
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
