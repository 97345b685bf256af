"""A frozen dataclass of the core that writes its ``__init__`` out (for the
compiled build, see consensus/messages.py) must take exactly its fields, in
order, with their defaults, and set each one: the written ``__init__`` must
not drift from the class when a field is added, renamed or given a default.
"""

from __future__ import annotations

import dataclasses
import inspect
from types import ModuleType

import pytest

import consensus.effects
import consensus.inputs
import consensus.messages
import consensus.records

MODULES = (consensus.effects, consensus.inputs, consensus.messages, consensus.records)


def _written_inits(module: ModuleType) -> list[type]:
    """The module's dataclasses whose ``__init__`` is written in the module
    (a generated one's code comes from ``<string>``)."""
    found = []
    for value in vars(module).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            init = value.__dict__.get("__init__")
            code = getattr(init, "__code__", None)
            if value.__module__ == module.__name__ and code and code.co_filename != "<string>":
                found.append(value)
    return found


WRITTEN = [cls for module in MODULES for cls in _written_inits(module)]


def test_the_hot_classes_are_among_them() -> None:
    names = {cls.__name__ for cls in WRITTEN}
    assert {"Send", "Receive", "Note", "AppendRequest", "HardState"} <= names


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_written_init_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    for param, field in zip(params, fields, strict=True):
        expected = (
            inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        )
        assert param.default == expected, field.name
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda c: c.__name__)
def test_written_init_sets_every_field_and_the_class_stays_frozen(cls: type) -> None:
    fields = dataclasses.fields(cls)
    values = {f.name: object() for f in fields}  # distinct markers: no field can take another's
    instance = cls(**values)
    for f in fields:
        assert getattr(instance, f.name) is values[f.name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, fields[0].name, None)
    assert instance == cls(**values)
