"""Wing & Gong depth-first search with Lowe's memo cache and Zobrist hashing.

Theory of operation
-------------------
The history becomes a doubly linked list of invocation and return entries
in timeline order.  The search repeatedly takes the first invocation that
can be linearized next (its step is legal, and the resulting configuration
is new), removes it and its return from the list, and starts again from the
head.  Meeting a return entry means that operation should have been placed
by now, so the last choice is undone (entries are relinked in place, as in
dancing links) and the search moves on to the next candidate.  It succeeds
when no return entry is left: every completed operation is placed, and
open-forever operations left over are the ones that never took effect.

The memo cache holds every configuration ever reached, as
``(hash of the linearized set, state)``.  Porcupine keys it by a bitset of
the linearized operations, copied at every step; here the set is a 128-bit
Zobrist hash (the XOR of one random number per placed operation), updated
in O(1) when an operation is placed or undone.  Two different sets collide
with probability about ``k**2 / 2**129`` for ``k`` cached configurations
(below 1e-20 for a billion), and a collision could only prune a branch, so
the search stays sound for verdicts of ``linearizable``.  The numbers come
from a seeded generator, so results do not depend on ``PYTHONHASHSEED``.

DFS tends to find a linearization of a correct history quickly, which is
why :mod:`.portfolio` races it against the configuration-set search.
"""

from __future__ import annotations

import time
from _random import Random  # the C generator behind ``random.Random``, without its imports

from checkers.linearizability.model import Model, State
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, LINEARIZABLE, UNKNOWN, PartitionResult
from checkers.linearizability.timeline import timeline

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Any, Final

    # (op index, parent, state before the op) or None. The parent is typed
    # Any, not "Trail": mypyc (make accel) crashes on a recursive alias. For
    # the type checker only.
    Trail = tuple[int, Any, State] | None

DEFAULT_MAX_CACHE: Final = 2_000_000
_ZOBRIST_SEED: Final = 0x11EA5AB1E


def _unwind(trail: Trail) -> list[int]:
    out: list[int] = []
    while trail is not None:
        out.append(trail[0])
        trail = trail[1]
    out.reverse()
    return out


def search_wgl(
    part: Partition,
    model: Model,
    deadline: float | None = None,
    max_cache: int = DEFAULT_MAX_CACHE,
) -> PartitionResult:
    """Decide one partition by depth-first search; ``unknown`` past ``deadline``."""
    started = time.monotonic()
    ops = part.ops
    n = len(ops)
    rng = Random(_ZOBRIST_SEED)
    zob = [rng.getrandbits(128) for _ in range(n)]

    evs = timeline(part)
    size = len(evs) + 1  # entry 0 is the head sentinel
    op_of = [0] * size
    # code[e] >= 0: the op of call entry e; -1: a return entry (or the head).
    code = [-1] * size
    nxt = list(range(1, size + 1))
    nxt[-1] = 0  # 0 doubles as "end of list"
    prv = list(range(-1, size - 1))
    match = [0] * size  # call entry -> its return entry (0: none)
    call_entry = [0] * n
    # One pass: an operation's call entry comes before its return entry
    # (calls sort before returns at equal times).
    for e, x in enumerate(evs, start=1):
        if x >= 0:  # the invocation of op x
            op_of[e] = x
            code[e] = x
            call_entry[x] = e
        else:  # the return of op ~x
            op_of[e] = ~x
            match[call_entry[~x]] = e
    remaining = len(evs) - n  # return entries

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
    cache: set[tuple[int, State]] = set()
    # The placed operations, last first, each with the state before it: the
    # search's stack and its witness in one (a backtrack takes the head off).
    trail: Trail = None
    depth = 0
    best_depth = -1  # the deepest prefix met at a return entry
    best_trail: Trail = None
    best_blocked = -1
    ticks = 0
    entry = nxt[0]
    while remaining:
        ticks += 1
        if not ticks & 4095:
            if deadline is not None and time.monotonic() > deadline:
                return done(UNKNOWN, reason="time budget exhausted", configurations=len(cache))
            if len(cache) > max_cache:
                return done(
                    UNKNOWN,
                    reason=f"more than {max_cache:,} cached configurations",
                    configurations=len(cache),
                )
        o = code[entry]
        if o >= 0:
            # Called on the model, not a bound method kept in a local: compiled,
            # that is a native call returning an unboxed pair.
            ok, s2 = model.step(state, ops[o])
            if ok:
                h2 = h ^ zob[o]
                seen = len(cache)
                cache.add((h2, s2))  # one hash of the pair, not two (``in``, then ``add``)
                if len(cache) != seen:
                    trail = (o, trail, state)
                    depth += 1
                    state = s2
                    h = h2
                    # Lift the call entry and its return entry out of the list.
                    p = prv[entry]
                    q = nxt[entry]
                    nxt[p] = q
                    prv[q] = p
                    r = match[entry]
                    if r:
                        p = prv[r]
                        q = nxt[r]
                        nxt[p] = q
                        prv[q] = p
                        remaining -= 1
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
            continue
        # A return entry: its operation should have been placed by now.
        if depth > best_depth:
            best_depth = depth
            best_trail = trail
            best_blocked = op_of[entry]
        if trail is None:
            return done(
                ILLEGAL,
                blocked=ops[best_blocked].id,
                prefix=tuple([ops[i].id for i in _unwind(best_trail)]),
                configurations=len(cache),
            )
        o, trail, state = trail
        depth -= 1
        entry = call_entry[o]
        h ^= zob[o]
        r = match[entry]
        if r:
            prv[nxt[r]] = r
            nxt[prv[r]] = r
            remaining += 1
        prv[nxt[entry]] = entry
        nxt[prv[entry]] = entry
        entry = nxt[entry]
    return done(
        LINEARIZABLE,
        order=tuple([ops[i].id for i in _unwind(trail)]),
        configurations=len(cache),
    )
