"""Just-in-time linearization over a set of configurations (after Lowe, 2017).

Theory of operation
-------------------
Walk the history's timeline once.  Keep the set of *configurations* that
explain the prefix seen so far: a configuration is the object's state plus
the set of pending operations (invoked, not yet returned) that it has
already linearized.  Completed operations are always linearized, so they
need not be stored.  The set is a dict keyed by ``(state, mask)`` where the
mask has one bit per pending operation (bits are slots reused when an
operation returns), so duplicates collapse for free.

- At an invocation nothing has to happen: the new operation is pending.
- At the return of operation ``o``, every configuration must have placed
  ``o``.  Those that have keep going (with ``o``'s bit cleared); each one
  that has not is expanded by linearizing pending operations one at a time,
  in every order, until ``o`` is placed ("just in time": nothing is placed
  before it is needed).  If no configuration survives, ``o`` is the first
  operation that cannot be linearized, and the configurations from just
  before are the longest explanations of the prefix.

Three prunings keep the set small; each replaces a configuration by one
that can do everything it can (it *dominates* it):

1. Read-only operations are placed as soon as they are legal (the model's
   ``readonly``/``required_state``): placing a read changes nothing, so the
   configuration that has placed it dominates the one that has not.
2. Invisible operations (completed writes whose value nobody observes, see
   :mod:`.normalize`) are absorbed just before any blind write; and a state
   produced by an invisible write is replaced by :data:`UNSEEN`, since no
   operation in the partition can tell such states apart.
3. Open-forever operations (unknown outcome) that every configuration has
   placed are retired, and a configuration that placed one is dropped when
   the same configuration without it exists ("never" is always allowed).

Each configuration carries a *trail*, a shared linked list of the
operations it placed, so that a witness linearization or the longest
linearizable prefix can be reported without a second search.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Final

from checkers.linearizability.model import ANY, Model, State
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, LINEARIZABLE, UNKNOWN, PartitionResult
from checkers.linearizability.timeline import CALL, timeline

# (local op index, depth, parent) or None: a linked list of placed operations.
Trail = tuple[int, int, "Trail"] | None

DEFAULT_MAX_CONFIGS: Final = 1_500_000


class _Unseen:
    """A state that no operation of the partition can observe."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unseen)

    def __hash__(self) -> int:
        return 0x5EED

    def __repr__(self) -> str:
        return "UNSEEN"

    def __reduce__(self) -> str:
        return "UNSEEN"


#: The state after an invisible write: equal only to itself.
UNSEEN: Final = _Unseen()


def _unwind(trail: Trail) -> list[int]:
    out: list[int] = []
    while trail is not None:
        out.append(trail[0])
        trail = trail[2]
    out.reverse()
    return out


def search_jit(
    part: Partition,
    model: Model,
    deadline: float | None = None,
    max_configs: int = DEFAULT_MAX_CONFIGS,
) -> PartitionResult:
    """Decide one partition; ``unknown`` past ``deadline`` (monotonic seconds)."""
    started = time.monotonic()
    ops = part.ops
    n = len(ops)
    step = model.step
    readonly = [model.readonly(op) for op in ops]
    required: list[object] = [
        model.required_state(op) if readonly[i] else ANY for i, op in enumerate(ops)
    ]
    blind = [model.blind(op) for op in ops]
    invisible = [op.id in part.invisible for op in ops]
    forever = [r is None for r in part.ret]

    def done(verdict: str, **kw: object) -> PartitionResult:
        return PartitionResult(
            key=part.key,
            verdict=verdict,  # type: ignore[arg-type]
            algorithm="jit",
            elapsed=time.monotonic() - started,
            searched=n,
            **kw,  # type: ignore[arg-type]
        )

    init = model.init()
    configs: dict[tuple[State, int], Trail] = {(init, 0): None}
    slot_bit = [0] * n
    free_bits: list[int] = []
    next_slot = 0
    op_of_bit: dict[int, int] = {}
    writers: list[tuple[int, int]] = []  # pending, not read-only: (op, bit)
    reads_by_state: dict[State, int] = {}  # required state -> mask of pending reads
    generic_reads: list[tuple[int, int]] = []  # read-only without a single required state
    inv_mask = 0
    forever_mask = 0
    peak = 1
    ticks = 0

    def settle(s: State, m: int, t: Trail) -> tuple[int, Trail]:
        """Place every pending read that is legal in ``s`` (pruning 1)."""
        rm = reads_by_state.get(s, 0) & ~m
        for i, b in generic_reads:
            if not m & b and step(s, ops[i])[0]:
                rm |= b
        if rm:
            m |= rm
            d = 0 if t is None else t[1]
            while rm:
                low = rm & -rm
                rm ^= low
                d += 1
                t = (op_of_bit[low], d, t)
        return m, t

    for _time, kind, o in timeline(part):
        if kind == CALL:
            if free_bits:
                bit = free_bits.pop()
            else:
                bit = 1 << next_slot
                next_slot += 1
            slot_bit[o] = bit
            op_of_bit[bit] = o
            if forever[o]:
                forever_mask |= bit
            if readonly[o]:
                req = required[o]
                if req is ANY:
                    generic_reads.append((o, bit))
                else:
                    reads_by_state[req] = reads_by_state.get(req, 0) | bit
                # Place the new read in every configuration where it is legal now.
                if req is ANY:
                    hit = any(step(k[0], ops[o])[0] for k in configs)
                else:
                    hit = any(k[0] == req for k in configs)
                if hit:
                    rebuilt: dict[tuple[State, int], Trail] = {}
                    for k, t in configs.items():
                        if (req is ANY and step(k[0], ops[o])[0]) or (
                            req is not ANY and k[0] == req
                        ):
                            rebuilt[(k[0], k[1] | bit)] = (o, 1 if t is None else t[1] + 1, t)
                        else:
                            rebuilt[k] = t
                    configs = rebuilt
            else:
                writers.append((o, bit))
                if invisible[o]:
                    inv_mask |= bit
            continue

        # A return: every surviving configuration must have placed o.
        b = slot_bit[o]
        new: dict[tuple[State, int], Trail] = {}
        nb = ~b
        seen: set[tuple[State, int]] = set()
        minimal: dict[tuple[State, int], list[int]] = {}
        for (s, m), t in configs.items():
            if m & b:
                k = (s, m & nb)
                if k not in new:
                    new[k] = t
                continue
            # Expand: linearize pending operations until o is placed.
            if (s, m) in seen:
                continue
            seen.add((s, m))
            if forever_mask:
                _dominated(minimal, s, m, forever_mask)
            queue = deque([(s, m, t)])
            while queue:
                cs, cm, ct = queue.popleft()
                ticks += 1
                if deadline is not None and not ticks & 1023 and time.monotonic() > deadline:
                    return done(UNKNOWN, reason="time budget exhausted", configurations=peak)
                for i, pb in writers:
                    if cm & pb:
                        continue
                    ok, s2 = step(cs, ops[i])
                    if not ok or (forever[i] and s2 == cs):
                        continue
                    m2 = cm | pb
                    t2 = ct
                    d = 0 if ct is None else ct[1]
                    if blind[i]:
                        absorb = inv_mask & ~m2
                        if absorb:
                            m2 |= absorb
                            while absorb:
                                low = absorb & -absorb
                                absorb ^= low
                                d += 1
                                t2 = (op_of_bit[low], d, t2)
                    t2 = (i, d + 1, t2)
                    if invisible[i]:
                        s2 = UNSEEN
                    m2, t2 = settle(s2, m2, t2)
                    key = (s2, m2)
                    if key in seen:
                        continue
                    seen.add(key)
                    if forever_mask and _dominated(minimal, s2, m2, forever_mask):
                        continue
                    if m2 & b:
                        k = (s2, m2 & nb)
                        if k not in new:
                            new[k] = t2
                    else:
                        queue.append((s2, m2, t2))
        if not new:
            best_t: Trail = None
            for t in configs.values():
                if t is not None and (best_t is None or t[1] > best_t[1]):
                    best_t = t
            return done(
                ILLEGAL,
                blocked=ops[o].id,
                prefix=tuple(ops[i].id for i in _unwind(best_t)),
                configurations=peak,
            )
        # Release o's slot.
        if readonly[o]:
            req = required[o]
            if req is ANY:
                generic_reads.remove((o, b))
            else:
                left = reads_by_state[req] & nb
                if left:
                    reads_by_state[req] = left
                else:
                    del reads_by_state[req]
        else:
            writers.remove((o, b))
            inv_mask &= nb
        free_bits.append(b)
        if forever_mask:
            new = _retire_forever(new, forever_mask)
            all_mask = -1
            for _s, m in new:
                all_mask &= m
            retired = all_mask & forever_mask
            if retired:
                forever_mask &= ~retired
                keep = ~retired
                new = {(s, m & keep): t for (s, m), t in new.items()}
                writers = [(i, pb) for i, pb in writers if not retired & pb]
                inv_mask &= keep
                while retired:
                    low = retired & -retired
                    retired ^= low
                    free_bits.append(low)
        configs = new
        if len(configs) > peak:
            peak = len(configs)
            if peak > max_configs:
                return done(
                    UNKNOWN,
                    reason=f"more than {max_configs:,} configurations",
                    configurations=peak,
                )
        if deadline is not None and time.monotonic() > deadline:
            return done(UNKNOWN, reason="time budget exhausted", configurations=peak)

    first = next(iter(configs.values()))
    return done(LINEARIZABLE, order=tuple(ops[i].id for i in _unwind(first)), configurations=peak)


def _dominated(
    minimal: dict[tuple[State, int], list[int]], s: State, m: int, forever_mask: int
) -> bool:
    """True if a configuration placing a subset of ``m``'s unknown-outcome ops was seen.

    Breadth-first order finds small subsets first, so this prunes the
    exponential blow-up of "placed or not" for every unknown-outcome op.
    """
    f = m & forever_mask
    group = minimal.setdefault((s, m & ~forever_mask), [])
    for k in group:
        if k & f == k:
            return True
    group.append(f)
    return False


def _retire_forever(
    configs: dict[tuple[State, int], Trail], forever_mask: int
) -> dict[tuple[State, int], Trail]:
    """Keep, among configurations that differ only in placed unknown-outcome ops, the minimal ones.

    ``(s, L)`` dominates ``(s, L + F)`` when ``F`` holds only open-forever
    operations: whatever the second can do, the first can do by leaving
    ``F`` unplaced for ever.
    """
    keep = ~forever_mask
    groups: dict[tuple[State, int], list[int]] = {}
    for s, m in configs:
        groups.setdefault((s, m & keep), []).append(m & forever_mask)
    if len(groups) == len(configs):
        return configs
    allowed: set[tuple[State, int]] = set()
    for (s, base), fs in groups.items():
        if len(fs) == 1:
            allowed.add((s, base | fs[0]))
            continue
        kept: list[int] = []
        for f in sorted(fs, key=lambda x: (x.bit_count(), x)):
            if not any(k & f == k for k in kept):
                kept.append(f)
                allowed.add((s, base | f))
    return {k: t for k, t in configs.items() if k in allowed}
