"""Network faults injected by the transport, per peer, decided without I/O.

Called by ``kv.transport`` for every message it sends or receives; the
admin API (a later piece) sets the table at run time. Faults act on
messages, never on connections, so a partition is exact: from the moment
it is set, the blocked direction delivers nothing, and healing it needs no
reconnect. No root and no packet filter are involved.

The probabilistic parts (drop, delay jitter) draw from a ``random.Random``
that the caller seeds, so a run's fault decisions are reproducible given
the same sequence of messages.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FIELDS = ("drop", "delay_ms", "jitter_ms", "block_out", "block_in")


@dataclass(slots=True, frozen=True)
class LinkFaults:
    """What happens to messages between this node and one peer.

    ``drop`` is the probability that an outbound message is discarded;
    ``delay_ms`` plus a uniform draw from ``[0, jitter_ms]`` holds each
    outbound message back before it is queued for the wire (order per peer
    is kept, as on a TCP link: a message never overtakes an earlier one).
    ``block_out`` cuts the direction to the peer, ``block_in`` the
    direction from it; both together are a two-way partition.
    """

    drop: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    block_out: bool = False
    block_in: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop <= 1.0:
            raise ValueError(f"drop must be a probability in [0, 1], got {self.drop!r}")
        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ValueError(
                f"delay_ms and jitter_ms must not be negative, got {self.delay_ms!r}, "
                f"{self.jitter_ms!r}"
            )

    @property
    def clear(self) -> bool:
        return self == NO_FAULTS

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LinkFaults:
        """Build from a JSON object such as the admin API's; unknown fields
        are an error, so that a typo does not silently inject nothing."""
        unknown = sorted(set(raw) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown fault fields {unknown}; known: {list(_FIELDS)}")
        for name in ("block_out", "block_in"):
            if name in raw and not isinstance(raw[name], bool):
                raise ValueError(f"fault field {name!r} must be true or false")
        for name in ("drop", "delay_ms", "jitter_ms"):
            value = raw.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"fault field {name!r} must be a number, got {value!r}")
        return cls(**raw)


NO_FAULTS = LinkFaults()
PARTITIONED = LinkFaults(block_out=True, block_in=True)


class FaultTable:
    """The faults for every peer, and the per-message decisions.

    Peers without an entry have no faults. ``outbound`` returns the reason a
    message to ``peer`` is lost (``"blocked"`` or ``"dropped"``), or the
    delay in seconds (0.0 for none) before it may go on the wire.
    """

    __slots__ = ("_links", "rng")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._links: dict[int, LinkFaults] = {}

    def get(self, peer: int) -> LinkFaults:
        return self._links.get(peer, NO_FAULTS)

    def set(self, peer: int, faults: LinkFaults) -> None:
        if faults.clear:
            self._links.pop(peer, None)
        else:
            self._links[peer] = faults

    def heal(self) -> None:
        self._links.clear()

    def snapshot(self) -> dict[int, LinkFaults]:
        return dict(sorted(self._links.items()))

    def outbound(self, peer: int) -> str | float:
        link = self._links.get(peer)
        if link is None:
            return 0.0
        if link.block_out:
            return "blocked"
        if link.drop and self.rng.random() < link.drop:
            return "dropped"
        delay = link.delay_ms
        if link.jitter_ms:
            delay += self.rng.uniform(0.0, link.jitter_ms)
        return delay / 1000.0

    def blocks_out(self, peer: int) -> bool:
        link = self._links.get(peer)
        return link is not None and link.block_out

    def blocks_in(self, peer: int) -> bool:
        link = self._links.get(peer)
        return link is not None and link.block_in
