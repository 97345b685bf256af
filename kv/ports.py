"""The node runtime's view of the world: clock, timer, disk, network, replies.

``kv.runtime.NodeRuntime`` carries out a core's effects through these five
small interfaces and nothing else, so the same runtime runs inside the
simulator (virtual time, a modelled disk, a faulty virtual network) and in a
real process (asyncio, the write-ahead log, the TCP transport). Each port is
one or two methods; a driver may implement several on one object.

Every method is called from the runtime's own thread of control (the
simulator's event loop, or the server's asyncio loop) and must not call back
into the runtime synchronously: a disk completion, a timer firing or a
message arriving is reported later, as a new call on the runtime
(``persisted``, ``on_timer``, ``receive``). That keeps each core step and its
follow-ups one uninterrupted unit, as the trace shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from consensus.effects import Persist
from consensus.traced import Envelope


class Clock(Protocol):
    """Two readings of one node's clock."""

    def now_us(self) -> int:
        """The time stamped on trace events, in microseconds (simulated time,
        or wall time in a real process)."""
        ...

    def ticks(self) -> int:
        """The node's Raft clock, in ticks (``RaftCore.step``'s ``now``)."""
        ...


class Timer(Protocol):
    """One timer per node: wake the runtime when its next deadline is due."""

    def arm(self, deadline: int) -> None:
        """Call ``runtime.on_timer()`` once the clock's ``ticks()`` reaches
        ``deadline`` (or soon after). The runtime calls this after every
        step with the core's ``next_deadline()``; a timer already due
        earlier may be kept, since ``on_timer`` re-arms when woken early."""
        ...


class Disk(Protocol):
    """Durable storage of the core's state (hard state, log, snapshot)."""

    def write(self, persist: Persist) -> None:
        """Start writing ``persist``; once it is durable, call
        ``runtime.persisted(persist.id)``. Writes complete in the order they
        were started (a write-ahead log appends and syncs in order), and a
        crash loses a suffix of them, never one in the middle."""
        ...


class Network(Protocol):
    """Fire-and-forget messages to peers (``kv.transport.PeerNetwork`` plus the
    trace identity)."""

    def send(self, envelope: Envelope) -> None:
        """Send ``envelope.msg`` to ``envelope.msg.dst``; never blocks, may lose
        it. ``envelope.mid`` and ``envelope.seq`` are its trace id and the
        sequence number of its send event; the receiver hands the envelope
        (or one rebuilt from ``mid``) to ``runtime.receive``."""
        ...


#: Reply statuses (``Reply.status``).
OK, RETRY, REDIRECT, UNKNOWN = "ok", "retry", "redirect", "unknown"


@dataclass(slots=True, frozen=True)
class Reply:
    """The runtime's answer to a client request.

    - ``ok``: done; ``ok`` is False only for a compare-and-set whose
      expectation failed, ``value`` is the result (the value read, the
      value compared against...).
    - ``retry``: the entry proposed was replaced by another one (the leader
      lost its term before it committed); the request had no effect here
      and may be sent again, with the same session number.
    - ``redirect``: this node cannot serve it; ``leader`` is the node
      believed to lead (0 if unknown).
    - ``unknown``: the session table had already moved past this request's
      number, so its outcome is no longer known (kv/statemachine.py); or,
      with ``value`` saying so, a snapshot covered the proposal's index
      before it applied here, so whether it committed is not known.
    """

    status: str
    ok: bool = True
    value: object = None
    leader: int = 0


class Replies(Protocol):
    """Where answers to client requests go."""

    def answer(self, request: object, reply: Reply) -> None:
        """Deliver ``reply`` for ``request`` (the opaque token the driver gave
        ``propose`` or ``read``)."""
        ...
