"""A node's live state as a fold over its events.

Node input events carry the spec-visible state after the step as a delta
(``st``); folding the deltas gives every node's current state at any point of
a trace. A (re)start event carries the full state, so it resets the fold.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


class Projection:
    __slots__ = ("nodes",)

    def __init__(self) -> None:
        #: actor ("n1") -> field -> value, for every node seen so far.
        self.nodes: dict[str, dict[str, Any]] = {}

    def apply(self, event: Event) -> None:
        delta = event.get("st")
        if delta is None:
            return
        actor = event["n"]
        state = self.nodes.get(actor)
        if state is None or event["act"] in ("boot", "restart"):
            state = self.nodes[actor] = {}
        state.update(delta)

    def state(self, actor: str) -> dict[str, Any]:
        return self.nodes.get(actor, {})
