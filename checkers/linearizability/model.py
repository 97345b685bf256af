"""The model interface: a sequential specification as a few pure functions.

The searches (:mod:`.jit`, :mod:`.wgl`) know nothing about key-value stores;
everything they need to know about the object under test comes through this
interface, as in Porcupine.  The required part is ``init``, ``step``,
``partition`` and the ``describe_*`` functions.  States must be hashable and
compare by value, because the searches deduplicate configurations with them.

The optional hints let the search prune without knowing what a "read" is.
Each has a precise meaning, and a model that leaves the defaults gets a
correct (if slower) search:

``readonly(op)``
    ``op`` never changes the state.  Such an op is linearized as soon as it is
    legal, because a configuration that has placed it dominates one that has
    not (it can still do everything the other can).
``required_state(op)``
    The one state in which ``op`` is legal, or ``ANY`` when there is no such
    single state.  Lets the search find matching reads with a dictionary
    look-up instead of calling ``step`` on each.
``result_state(op)``
    The state ``op`` leaves whenever it is legal, when that depends on the
    op alone (a write of 3 leaves 3), else ``ANY``.  With ``required_state``
    it lets the search drop a configuration that overwrote a state some
    operation still needs while nothing left can bring it back.
``blind(op)``
    ``op`` is legal in every state and its resulting state does not depend
    on the prior one (a plain write).  The search may absorb *invisible*
    operations just before a blind one (see :mod:`.normalize`).
``may_reach(state, target)``
    ``False`` only when no sequence of operations *without* a fixed result
    state (those whose ``result_state`` is ``ANY``: appends, for the
    key-value model) can turn ``state`` into ``target``.  An append can only
    grow a string, so ``"ab"`` can never become ``"ba"`` without a put.
    Lets the search drop a configuration whose state a later read can no
    longer observe, when every operation that could reset the state to one
    that reaches the read's value has already been placed.  Default: ``True``.
``reduce(ops)``
    Model-specific normalization (see :mod:`.normalize` for the proofs).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from checkers.linearizability.history import Operation

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Final

State = Hashable

# Models are a plug-in API: a model written in Python may subclass Model or a
# shipped model, which the compiled build (``make accel``, where this module
# is a C extension) allows only for classes marked so.  The marker comes from
# mypy_extensions there alone: importing it costs pure Python's start-up 2 ms.
if not __file__.endswith(".py"):
    from mypy_extensions import mypyc_attr as mypyc_attr
else:

    def mypyc_attr(*attrs: str, **kwattrs: object) -> object:  # type: ignore[misc]
        """The pure-Python stand-in: leaves the class as it is."""
        return lambda cls: cls


class _Any:
    """Sentinel type for :data:`ANY`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


#: ``required_state`` result meaning "no single required state".
ANY: Final = _Any()


@dataclass(slots=True, frozen=True)
class Reduction:
    """What a model's ``reduce`` decided about one partition.

    ``ops`` are the operations left to search; ``dropped`` pairs each removed
    operation with the reason (shown in reports); ``ret_bound`` gives an
    unknown-outcome operation a latest possible linearization time, because
    a completed operation observed its effect; ``invisible`` names
    operations whose effect no completed operation can observe.
    """

    ops: list[Operation]
    dropped: list[tuple[Operation, str]] = field(default_factory=list)
    ret_bound: dict[int, int] = field(default_factory=dict)
    invisible: frozenset[int] = frozenset()


@mypyc_attr(allow_interpreted_subclasses=True)
class Model:
    """Base class: override ``init``, ``step``, ``describe_op`` at least."""

    name: str = "model"

    def init(self) -> State:
        raise NotImplementedError

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        """Apply ``op`` in ``state``: ``(legal, next_state)``."""
        raise NotImplementedError

    def partition(self, ops: Sequence[Operation]) -> list[tuple[str, list[Operation]]]:
        """Split into independently checkable parts; one part by default."""
        return [("", list(ops))]

    def describe_op(self, op: Operation) -> str:
        return f"{op.f}({op.arg!r}) -> {op.result!r}"

    def describe_state(self, state: State) -> str:
        return repr(state)

    def why_illegal(self, state: State, op: Operation) -> str:
        """Plain words for why ``step(state, op)`` is illegal."""
        return (
            f"{self.describe_op(op)} is not possible when the state is {self.describe_state(state)}"
        )

    def readonly(self, op: Operation) -> bool:
        return False

    def required_state(self, op: Operation) -> object:
        return ANY

    def result_state(self, op: Operation) -> object:
        return ANY

    def blind(self, op: Operation) -> bool:
        return False

    def may_reach(self, state: State, target: object) -> bool:
        return True

    def unsupported(self, ops: Sequence[Operation]) -> str | None:
        """Why this model cannot judge ``ops`` (operations it does not model), else None.

        A history the model does not describe must be refused, not reported
        as a violation: the fault is in the choice of model, not the system.
        """
        return None

    def reduce(self, ops: list[Operation]) -> Reduction:
        return Reduction(ops=ops)
