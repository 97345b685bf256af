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

Pruning 6 (growth) is for keys with appends, where pruning 4 cannot run
(an append's result depends on the state).  Profiled on 50 clients
appending to 10 keys, the set grew because every order of the concurrent
appends is a different string: up to 484,724 configurations for a
212-operation key.  But an append only extends a value, so a configuration
whose value is not a prefix of what a later read returns can never
satisfy that read, unless a put (or another reset from which the read's
value is reachable) still comes in between.  Checking the pending reads
that return soonest and the next reads not yet invoked (the model's
``may_reach``) cut that key to 24 configurations.

Each configuration carries a *trail*, a shared linked list of the
operations it placed, so that a witness linearization or the longest
linearizable prefix can be reported without a second search.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from checkers.linearizability.history import Operation
from checkers.linearizability.model import ANY, Model, State
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import ILLEGAL, LINEARIZABLE, UNKNOWN, PartitionResult
from checkers.linearizability.timeline import timeline

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Any, Final

    # (local op index, depth, parent) or None: a linked list of placed
    # operations. The parent is typed Any, not "Trail": mypyc (make accel)
    # crashes on a recursive alias. Defined for the type checker only.
    Trail = tuple[int, int, Any] | None

DEFAULT_MAX_CONFIGS: Final = 1_500_000
#: Pruning 6 looks at this many pending reads and this many not yet invoked.
WITNESS_PENDING: Final = 4
WITNESS_LOOKAHEAD: Final = 2
#: Past this many resets between now and a read's return, it is not a witness.
WITNESS_WINDOW: Final = 64


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
    # Pruning 4 bookkeeping: which states are still needed, and who can produce them.
    needs: list[object] = [
        ANY if forever[i] else model.required_state(op) for i, op in enumerate(ops)
    ]
    makes: list[object] = [
        ANY if readonly[i] else model.result_state(op) for i, op in enumerate(ops)
    ]
    track_lost = all(makes[i] is not ANY for i in range(n) if not readonly[i])
    future_needers: dict[State, int] = {}
    future_makers: dict[State, int] = {}
    if track_lost:
        for i in range(n):
            if needs[i] is not ANY:
                future_needers[needs[i]] = future_needers.get(needs[i], 0) + 1
            if makes[i] is not ANY:
                future_makers[makes[i]] = future_makers.get(makes[i], 0) + 1
    pending_needers: dict[State, int] = {}
    pending_makers: dict[State, int] = {}
    # Pruning 2b: blocks.  A blind write of a unique value that only reads
    # observe, once all those reads have been invoked, can be placed together
    # with its reads just before any blind write, like an invisible one.
    head_of: dict[State, int] = {}
    if track_lost:
        init0 = model.init()
        nonread_need: set[State] = set()
        for i, op in enumerate(ops):
            if not readonly[i]:
                x = model.required_state(op)
                if x is not ANY:
                    nonread_need.add(x)
        for i in range(n):
            y = makes[i]
            if (
                y is not ANY
                and blind[i]
                and not invisible[i]
                and future_makers[y] == 1
                and y != init0
                and y not in nonread_need
            ):
                head_of[y] = i
    block_mask = 0
    live: set[int] = set()  # block heads invoked and not yet returned
    # Pruning 6 (growth): with appends, states are not fixed values, so
    # pruning 4 is off; instead a later read whose value the state can no
    # longer grow into (model.may_reach) dooms a configuration once every
    # reset that could help (an op with a fixed result state from which the
    # read's value is reachable) has been placed.
    may_reach = model.may_reach
    fixed = [ANY if readonly[i] else model.result_state(op) for i, op in enumerate(ops)]
    wreads = [i for i in range(n) if readonly[i] and not forever[i] and required[i] is not ANY]
    grow = not track_lost and bool(wreads)
    resets = [i for i in range(n) if fixed[i] is not ANY]
    rp = 0  # wreads[rp:] not invoked yet
    zp = 0  # resets[zp:] not invoked yet
    pending_wreads: dict[int, int] = {}  # pending witness read -> its bit

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
    # Open-forever ops that are indistinguishable (same function, argument,
    # result) are interchangeable: only the first unplaced one of each class
    # is ever tried (pruning 3b), so placing k of them is one choice, not C(n, k).
    twins: dict[tuple[object, ...], list[tuple[int, int]]] = {}
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

    for x in timeline(part):
        if x >= 0:  # the invocation of op x
            o = x
            if free_bits:
                bit = free_bits.pop()
            else:
                bit = 1 << next_slot
                next_slot += 1
            slot_bit[o] = bit
            op_of_bit[bit] = o
            if grow:
                if rp < len(wreads) and wreads[rp] == o:
                    rp += 1
                    pending_wreads[o] = bit
                if zp < len(resets) and resets[zp] == o:
                    zp += 1
            if forever[o]:
                forever_mask |= bit
            if track_lost:
                x = needs[o]
                if x is not ANY:
                    future_needers[x] -= 1
                    pending_needers[x] = pending_needers.get(x, 0) | bit
                    h = head_of.get(x)
                    if h is not None and not future_needers[x] and slot_bit[h] and h in live:
                        block_mask |= slot_bit[h]
                x = makes[o]
                if x is not ANY:
                    future_makers[x] -= 1
                    pending_makers[x] = pending_makers.get(x, 0) | bit
                    if head_of.get(x) == o:
                        live.add(o)
                        if not future_needers.get(x, 0):
                            block_mask |= bit
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
                if forever[o]:
                    twins.setdefault(_twin_key(ops[o]), []).append((o, bit))
                else:
                    writers.append((o, bit))
                if invisible[o]:
                    inv_mask |= bit
            continue

        # A return: every surviving configuration must have placed o.
        o = ~x
        b = slot_bit[o]
        new: dict[tuple[State, int], Trail] = {}
        nb = ~b
        seen: set[tuple[State, int]] = set()
        minimal: dict[tuple[State, int], list[int]] = {}
        target_need = model.required_state(ops[o])
        doom = track_lost and (blind[o] or target_need is not ANY)
        witnesses: list[tuple[object, int, int]] = []
        if grow:
            witnesses = _witnesses(
                ops,
                part.ret,
                fixed,
                required,
                wreads[rp : rp + WITNESS_LOOKAHEAD],
                pending_wreads,
                writers,
                twins,
                resets,
                zp,
                may_reach,
            )
        doomed: dict[State, list[tuple[int, int]]] = {}

        def hopeless(
            cs: State,
            cm: int,
            doomed: dict[State, list[tuple[int, int]]] = doomed,
            witnesses: list[tuple[object, int, int]] = witnesses,
        ) -> bool:
            """Pruning 6: a witness read can never be satisfied from ``cs``."""
            fails = doomed.get(cs)
            if fails is None:
                fails = doomed[cs] = (
                    []
                    if cs is UNSEEN
                    else [(wb, hm) for v, wb, hm in witnesses if not may_reach(cs, v)]
                )
            return any(not cm & wb and not hm & ~cm for wb, hm in fails)

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
            if witnesses and hopeless(s, m):
                continue
            if forever_mask:
                _dominated(minimal, s, m, forever_mask)
            queue = deque([(s, m, t)])
            while queue:
                cs, cm, ct = queue.popleft()
                ticks += 1
                if deadline is not None and not ticks & 1023 and time.monotonic() > deadline:
                    return done(UNKNOWN, reason="time budget exhausted", configurations=peak)
                cands = writers
                if twins:
                    cands = writers + [_first_unplaced(cls, cm) for cls in twins.values()]
                # Pinned: the current state is still needed and nothing left can
                # bring it back, so no blind write may overwrite it (pruning 4,
                # decided once for the node instead of once per candidate).
                pinned = (
                    track_lost
                    and not future_makers.get(cs, 0)
                    and not pending_makers.get(cs, 0) & ~cm
                    and (future_needers.get(cs, 0) or pending_needers.get(cs, 0) & ~cm)
                )
                for i, pb in cands:
                    if cm & pb or (pinned and blind[i] and makes[i] != cs):
                        continue
                    if i != o and (invisible[i] or (block_mask & pb and makes[i] != target_need)):
                        # Pruning 2c: an absorbable op placed on its own is only
                        # useful as the target or to satisfy the target; anywhere
                        # else, absorbing it before the next blind write does better.
                        continue
                    if doom:
                        # Pruning 5: i would install y, which o's placement must
                        # overwrite, while a future op still needs y and nothing
                        # left can bring it back.
                        y = makes[i]
                        if (
                            i != o
                            and y is not ANY
                            and y != target_need
                            and future_needers.get(y, 0)
                            and not future_makers.get(y, 0)
                            and not pending_makers.get(y, 0) & ~(cm | pb)
                        ):
                            continue
                    ok, s2 = step(cs, ops[i])
                    if not ok or (forever[i] and s2 == cs):
                        continue
                    m2 = cm | pb
                    t2 = ct
                    d = 0 if ct is None else ct[1]
                    if blind[i]:
                        blk = block_mask & ~m2
                        while blk:
                            low = blk & -blk
                            blk ^= low
                            h = op_of_bit[low]
                            d += 1
                            t2 = (h, d, t2)
                            rd = reads_by_state.get(makes[h], 0) & ~m2
                            m2 |= low | rd
                            while rd:
                                rlow = rd & -rd
                                rd ^= rlow
                                d += 1
                                t2 = (op_of_bit[rlow], d, t2)
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
                    if (
                        track_lost
                        and s2 != cs
                        and not future_makers.get(cs, 0)
                        and not pending_makers.get(cs, 0) & ~m2
                        and (future_needers.get(cs, 0) or pending_needers.get(cs, 0) & ~m2)
                    ):
                        continue  # pruning 4: cs is gone for good but still needed
                    if generic_reads or reads_by_state.get(s2, 0) & ~m2:
                        m2, t2 = settle(s2, m2, t2)  # (only then: a call per configuration)
                    key = (s2, m2)
                    if key in seen:
                        continue
                    seen.add(key)
                    if witnesses and hopeless(s2, m2):
                        continue
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
        pending_wreads.pop(o, None)
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
        block_mask &= nb
        live.discard(o)
        if track_lost:
            _unmark(pending_needers, needs[o], b)
            _unmark(pending_makers, makes[o], b)
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
                for ck in list(twins):
                    cls = twins[ck]
                    for i, pb in cls:
                        if retired & pb and track_lost:
                            _unmark(pending_makers, makes[i], pb)
                    cls = [(i, pb) for i, pb in cls if not retired & pb]
                    if cls:
                        twins[ck] = cls
                    else:
                        del twins[ck]
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


def _witnesses(
    ops: tuple[Operation, ...],
    rets: tuple[int | None, ...],
    fixed: list[object],
    required: list[object],
    future: list[int],
    pending: dict[int, int],
    writers: list[tuple[int, int]],
    twins: dict[tuple[object, ...], list[tuple[int, int]]],
    resets: list[int],
    zp: int,
    may_reach: Callable[[State, object], bool],
) -> list[tuple[object, int, int]]:
    """Reads that pruning 6 may rely on: ``(value, own bit or 0, mask of helpers)``.

    A read ``r`` (completed, not placed) must be placed later than now, so
    the state must grow into its value unless some *helper* intervenes: an
    operation with a fixed result state from which the value is reachable,
    invoked before ``r`` returns.  Helpers not invoked yet make ``r`` useless
    as a witness; pending helpers are a mask, checked per configuration (a
    placed helper is in the past and cannot intervene any more).
    """
    pool = writers + [pair for cls in twins.values() for pair in cls]
    out: list[tuple[object, int, int]] = []
    # The pending reads that return soonest constrain soonest; any subset of
    # witnesses is sound, and each one costs a check per new configuration.
    soon = sorted(pending.items(), key=lambda rb: (rets[rb[0]] or 0, rb[0]))[:WITNESS_PENDING]
    for r, bit in [*soon, *((r, 0) for r in future)]:
        v = required[r]
        end = rets[r]
        assert end is not None
        hm = 0
        for i, pb in pool:
            y = fixed[i]
            if y is not ANY and may_reach(y, v):
                hm |= pb
        usable = True
        for k in range(zp, min(len(resets), zp + WITNESS_WINDOW + 1)):
            z = resets[k]
            if ops[z].call > end:
                break
            if k == zp + WITNESS_WINDOW or may_reach(fixed[z], v):
                usable = False
                break
        if usable:
            out.append((v, bit, hm))
    return out


def _twin_key(op: Operation) -> tuple[object, ...]:
    return (op.f, op.key, op.arg, op.result)


def _first_unplaced(cls: list[tuple[int, int]], m: int) -> tuple[int, int]:
    for pair in cls:
        if not m & pair[1]:
            return pair
    return cls[-1]


def _unmark(masks: dict[State, int], x: object, bit: int) -> None:
    if x is ANY:
        return
    left = masks.get(x, 0) & ~bit
    if left:
        masks[x] = left
    else:
        masks.pop(x, None)


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
