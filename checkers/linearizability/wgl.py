"""Wing & Gong depth-first search with Lowe's memo cache and Zobrist hashing.

Theory of operation
-------------------
The history becomes a doubly linked list of invocation and return entries
in timeline order.  The search repeatedly takes the first invocation that
can be linearized next (its step is legal, and the resulting configuration
is not known to fail), removes it and its return from the list, and starts
again from the head.  Meeting a return entry means that operation should
have been placed by now, so the last choice is undone (entries are relinked
in place, as in dancing links) and the search moves on to the next
candidate.  It succeeds when no return entry is left: every completed
operation is placed, and open-forever operations left over are the ones
that never took effect.

A configuration is ``(hash of the linearized set, state)``.  Porcupine
keys its cache by a bitset of the linearized operations, copied at every
step; here the set is a 128-bit Zobrist hash (the XOR of one random number
per placed operation), updated in O(1) when an operation is placed or
undone.  A configuration reached and a different cached one collide with
probability about ``k**2 / 2**128`` for ``k`` configurations reached (below
1e-20 for a billion), and a collision could only prune a branch, so the
search stays sound for verdicts of ``linearizable``.  The numbers come from
a seeded generator, so results do not depend on ``PYTHONHASHSEED``.

The memo cache holds every configuration the search has backed out of:
every way on from it failed.  Lowe's cache holds every configuration
reached, but one still on the search's path needs no entry, as it cannot be
met again while it is there: the path holds one configuration per number of
placed operations, and below it the search only places more.  So the search
takes the same steps, while the cache, its memory and the time to free it
shrink to one entry per backtrack (a tenth of the configurations on a
100k-operation history with 10 keys); ``configurations`` still counts every
configuration reached, and the cap applies to that count.

DFS tends to find a linearization of a correct history quickly, which is
why :mod:`.portfolio` races it against the configuration-set search.
"""

from __future__ import annotations

import time
from _random import Random  # the C generator behind ``random.Random``, without its imports

from checkers.linearizability.history import Operation
from checkers.linearizability.model import Model, State
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, LINEARIZABLE, UNKNOWN, PartitionResult
from checkers.linearizability.timeline import timeline

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Any, Final

    # (call entry, parent, state before the op) or None. The parent is typed
    # Any, not "Trail": mypyc (make accel) crashes on a recursive alias. For
    # the type checker only.
    Trail = tuple["_Entry", Any, State] | None

DEFAULT_MAX_CACHE: Final = 2_000_000
_ZOBRIST_SEED: Final = 0x11EA5AB1E


class _Entry:
    """An invocation or a return in the search's doubly linked list.

    Entries link to each other, where they were indices into lists: compiled
    (``make accel``), storing an object in a field is a plain pointer store,
    whereas every index stored into a list of ints is boxed, an allocation,
    and the search relinks four times per step.  The links form cycles, so
    :func:`_unlink` breaks them when the search ends: reference counting then
    frees the entries, with the cyclic collector paused (see gcpause.py).
    """

    __slots__ = ("code", "match", "next", "prev", "zob")

    def __init__(self, code: int, zob: int, prev: _Entry | None) -> None:
        self.code = code  # i: the invocation of op i; ~i: its return
        self.zob = zob  # an invocation's Zobrist number (0 for a return)
        self.match: _Entry | None = None  # an invocation's return entry, if it has one
        self.prev = self if prev is None else prev
        self.next = self.prev  # (until the next entry is linked after it)


#: Where the links of a finished search point (see :func:`_unlink`): the one
#: entry in no list, linked to itself and never relinked, a constant whose
#: cycle lives as long as the module.
_NOWHERE: Final = _Entry(-1, 0, None)


def zobrist(n: int) -> list[int]:
    """``n`` Zobrist numbers, from the seeded generator: the first ``k`` are the
    same for every ``n >= k``, so one list serves every partition up to ``n``
    operations (:mod:`.portfolio` draws it once per check: a 128-bit draw per
    operation and per search was a tenth of the compiled search)."""
    getrandbits = Random(_ZOBRIST_SEED).getrandbits  # (one look-up, not one per number)
    return [getrandbits(128) for _ in range(n)]


def _entries(part: Partition, zob: list[int]) -> tuple[_Entry, list[_Entry]]:
    """The timeline as a circular list behind a head entry, and every entry in order."""
    n = len(part.ops)
    head = _Entry(-1, 0, _NOWHERE)
    calls = [head] * n  # op -> its invocation entry
    out: list[_Entry] = []
    last = head
    # An operation's invocation comes before its return in the timeline
    # (invocations sort before returns at equal times).
    for x in timeline(part):
        if x >= 0:
            e = _Entry(x, zob[x], last)
            calls[x] = e
        else:
            e = _Entry(x, 0, last)
            calls[~x].match = e
        last.next = e
        last = e
        out.append(e)
    last.next = head
    head.prev = last
    return head, out


def _unlink(head: _Entry, entries: list[_Entry]) -> None:
    """Break the reference cycles of the list (see :class:`_Entry`)."""
    head.prev = head.next = _NOWHERE
    for e in entries:
        e.prev = e.next = _NOWHERE


def _placed(trail: Trail, ops: tuple[Operation, ...]) -> tuple[int, ...]:
    """The ids of the operations on ``trail``, first placed first."""
    out: list[int] = []
    while trail is not None:
        e, trail, _ = trail
        out.append(ops[e.code].id)
    out.reverse()
    return tuple(out)


def search_wgl(
    part: Partition,
    model: Model,
    deadline: float | None = None,
    max_cache: int = DEFAULT_MAX_CACHE,
    zob: list[int] | None = None,
) -> PartitionResult:
    """Decide one partition by depth-first search; ``unknown`` past ``deadline``.

    ``zob``: :func:`zobrist` numbers, at least one per operation, when the
    caller draws them once for several searches (else they are drawn here).
    """
    started = time.monotonic()
    if zob is None or len(zob) < len(part.ops):
        zob = zobrist(len(part.ops))
    head, entries = _entries(part, zob)
    try:
        return _search(part, model, deadline, max_cache, started, head, len(entries))
    finally:
        _unlink(head, entries)


def _search(
    part: Partition,
    model: Model,
    deadline: float | None,
    max_cache: int,
    started: float,
    head: _Entry,
    size: int,
) -> PartitionResult:
    """:func:`search_wgl` on the linked timeline of ``size`` entries behind ``head``."""
    ops = part.ops
    n = len(ops)
    remaining = size - n  # return entries

    def done(verdict: str, **kw: object) -> PartitionResult:
        return PartitionResult(
            key=part.key,
            verdict=verdict,  # type: ignore[arg-type]
            algorithm="wgl",
            elapsed=time.monotonic() - started,
            searched=n,
            **kw,  # type: ignore[arg-type]
        )

    state: State = model.init()
    h = 0
    cache: set[tuple[int, State]] = set()  # configurations known to fail
    # Their linearized sets' hashes: a first test that builds no pair (most
    # steps reach a set never backed out of, whatever the state).
    failed: set[int] = set()
    configurations = 0  # reached by a step (what Lowe's cache would hold)
    # The placed operations, last first, each with the state before it: the
    # search's stack and its witness in one (a backtrack takes the head off).
    trail: Trail = None
    depth = 0
    best_depth = -1  # the deepest prefix met at a return entry
    best_trail: Trail = None
    best_blocked = -1
    ticks = 0
    e = head.next
    while remaining:
        ticks += 1
        if not ticks & 4095:
            if deadline is not None and time.monotonic() > deadline:
                return done(UNKNOWN, reason="time budget exhausted", configurations=configurations)
            if configurations > max_cache:
                return done(
                    UNKNOWN,
                    reason=f"more than {max_cache:,} cached configurations",
                    configurations=configurations,
                )
        o = e.code
        if o >= 0:
            # Called on the model, not a bound method kept in a local: compiled,
            # that is a native call returning an unboxed pair.
            ok, s2 = model.step(state, ops[o])
            if ok:
                h2 = h ^ e.zob
                if h2 not in failed or (h2, s2) not in cache:
                    trail = (e, trail, state)
                    depth += 1
                    configurations += 1
                    state = s2
                    h = h2
                    # Lift the call entry and its return entry out of the list.
                    p = e.prev
                    q = e.next
                    p.next = q
                    q.prev = p
                    r = e.match
                    if r is not None:
                        p = r.prev
                        q = r.next
                        p.next = q
                        q.prev = p
                        remaining -= 1
                    e = head.next
                    continue
            e = e.next
            continue
        # A return entry: its operation should have been placed by now.
        if depth > best_depth:
            best_depth = depth
            best_trail = trail
            best_blocked = ~o
        if trail is None:
            return done(
                ILLEGAL,
                blocked=ops[best_blocked].id,
                prefix=_placed(best_trail, ops),
                configurations=configurations,
            )
        cache.add((h, state))  # the configuration backed out of: it fails
        failed.add(h)
        e, trail, state = trail
        depth -= 1
        h ^= e.zob
        # Put it and its return entry back where they were (dancing links).
        r = e.match
        if r is not None:
            r.next.prev = r
            r.prev.next = r
            remaining += 1
        e.next.prev = e
        e.prev.next = e
        e = e.next
    return done(LINEARIZABLE, order=_placed(trail, ops), configurations=configurations)
