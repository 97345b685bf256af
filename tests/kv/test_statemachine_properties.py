"""Properties of the state machine: snapshots lose nothing, retries run once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kv import Command, KVStateMachine, encode_command

KEYS = st.sampled_from(["a", "a/1", "a/2", "b", "b/x", "c"])
VALUES = st.text(alphabet="xyz", max_size=3)


@st.composite
def commands(draw: st.DrawFn, client: int = 0, seq: int = 0) -> Command:
    op = draw(st.sampled_from(["put", "get", "delete", "cas", "append"]))
    key = draw(KEYS)
    if op in ("put", "append"):
        value: object = draw(VALUES)
    elif op == "cas":
        value = [draw(st.none() | VALUES), draw(st.none() | VALUES)]
    else:
        value = None
    return Command(op, key, value, client, seq)


@st.composite
def client_commands(draw: st.DrawFn) -> list[Command]:
    """Commands from a few clients with increasing (sometimes gapped) numbers."""
    out = []
    seqs = {1: 0, 2: 0, 3: 0}
    for _ in range(draw(st.integers(0, 30))):
        client = draw(st.sampled_from([0, 1, 2, 3]))
        seq = 0
        if client:
            seqs[client] += draw(st.integers(1, 2))
            seq = seqs[client]
        out.append(draw(commands(client, seq)))
    return out


def run(sm: KVStateMachine, cmds: list[Command], first_index: int) -> list[object]:
    return [sm.apply(first_index + i, encode_command(c)) for i, c in enumerate(cmds)]


@settings(max_examples=150, deadline=None)
@given(client_commands(), st.data())
def test_a_restored_snapshot_has_the_same_state_and_answers(
    cmds: list[Command], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(cmds)))
    original = KVStateMachine()
    run(original, cmds[:cut], 1)
    copy = KVStateMachine()
    copy.restore(original.snapshot_bytes(), cut)
    assert copy.snapshot_bytes() == original.snapshot_bytes()
    assert copy.range() == original.range() and copy.sessions == original.sessions
    # The rest of the log, retries of everything included, answers the same on both.
    rest = cmds[cut:] + cmds
    assert run(copy, rest, cut + 1) == run(original, rest, cut + 1)
    assert copy.snapshot_bytes() == original.snapshot_bytes()


@settings(max_examples=150, deadline=None)
@given(client_commands(), st.randoms(use_true_random=False))
def test_snapshot_bytes_depend_on_the_state_only(cmds: list[Command], rnd: object) -> None:
    """Two replicas holding the same keys, inserted in different orders,
    write the same bytes."""
    sm = KVStateMachine()
    run(sm, cmds, 1)
    items = sorted(sm.data.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    other = KVStateMachine()
    run(other, [Command("put", k, v) for k, v in items], 1)
    other.sessions = dict(reversed(sm.sessions.items()))
    other.last_used = dict(reversed(sm.last_used.items()))
    other.applied = sm.applied
    assert other.snapshot_bytes() == sm.snapshot_bytes()


@settings(max_examples=150, deadline=None)
@given(client_commands(), st.data())
def test_retries_are_applied_exactly_once(cmds: list[Command], data: st.DataObject) -> None:
    """Duplicating session commands right after themselves (a retry landing
    in the log twice) changes nothing and answers with the first result;
    duplicates from before a newer request are skipped."""
    once = KVStateMachine()
    expected = run(once, cmds, 1)
    log: list[Command] = []
    first_result_at: list[int] = []
    for cmd in cmds:
        first_result_at.append(len(log))
        log.append(cmd)
        if cmd.client and data.draw(st.booleans()):
            log.extend([cmd] * data.draw(st.integers(1, 3)))
    retried = KVStateMachine()
    answers = run(retried, log, 1)
    assert retried.data == once.data and retried.sessions == once.sessions
    assert [answers[i] for i in first_result_at] == expected
    for i, cmd in enumerate(log):
        if cmd.client and i not in first_result_at:
            assert answers[i] == answers[first_result_at[cmds.index(cmd)]]
    # An old request replayed after everything else is stale: nothing changes.
    stale = [c for c in cmds if c.client and c.seq < retried.sessions[c.client][0]]
    data_before, sessions_before = dict(retried.data), dict(retried.sessions)
    assert all(a is None for a in run(retried, stale, len(log) + 1))
    assert retried.data == data_before and retried.sessions == sessions_before


@settings(max_examples=100, deadline=None)
@given(client_commands(), st.sampled_from(["", "a", "a/", "b", "c", "z"]), st.integers(0, 3))
def test_listings_match_a_sorted_filter(cmds: list[Command], prefix: str, limit: int) -> None:
    sm = KVStateMachine()
    run(sm, cmds, 1)
    everything = sorted(sm.data.items())
    want = [kv for kv in everything if kv[0].startswith(prefix)]
    assert sm.prefix(prefix, limit) == (want[:limit] if limit else want)
    bounded = [kv for kv in everything if prefix <= kv[0] < "b/"]
    assert sm.range(prefix, "b/", limit) == (bounded[:limit] if limit else bounded)
