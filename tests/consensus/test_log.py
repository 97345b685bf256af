"""The in-memory log (consensus/log.py): indexing, batching, conflict hints,
merging a leader's entries, compaction and the prefix hash chain."""

from __future__ import annotations

import pytest

from consensus import CoreMisuse, Entry, Membership, PeerError, Snapshot
from consensus.log import RaftLog

M = Membership(voters=(1, 2, 3))


def log_of(*terms: int, snapshot: Snapshot | None = None) -> RaftLog:
    snap = snapshot or Snapshot(0, 0, M)
    return RaftLog(
        snap, [Entry(snap.index + i, t, f"e{snap.index + i}") for i, t in enumerate(terms, 1)]
    )


def test_indexes_and_terms() -> None:
    log = log_of(1, 1, 2)
    assert (log.first_index, log.last_index, log.last_term) == (1, 3, 2)
    assert [log.term(i) for i in range(5)] == [0, 1, 1, 2, None]
    assert log.match_term(2, 1) and not log.match_term(2, 2)
    empty = RaftLog(Snapshot(7, 3, M))
    assert (empty.first_index, empty.last_index, empty.last_term) == (8, 7, 3)
    assert empty.term(7) == 3 and empty.term(6) is None


def test_append_must_continue_the_log() -> None:
    log = log_of(1)
    with pytest.raises(CoreMisuse):
        log.append([Entry(3, 1)])


def test_is_up_to_date_compares_last_term_then_length() -> None:
    log = log_of(1, 2, 2)  # last (3, 2)
    assert log.is_up_to_date(3, 2)
    assert log.is_up_to_date(1, 3)  # higher last term wins even if shorter
    assert not log.is_up_to_date(9, 1)
    assert not log.is_up_to_date(2, 2)


def test_slice_respects_count_and_bytes_but_returns_at_least_one() -> None:
    log = RaftLog(Snapshot(0, 0, M), [Entry(i, 1, "x" * 84) for i in range(1, 11)])  # 100 B each
    assert [e.index for e in log.slice(3, 4, 10_000)] == [3, 4, 5, 6]
    assert [e.index for e in log.slice(3, 100, 250)] == [3, 4]
    assert [e.index for e in log.slice(3, 100, 1)] == [3]  # oversized entry still goes
    assert [e.index for e in log.slice(9, 100, 10_000)] == [9, 10]
    assert log.slice(11, 5, 10_000) == []


def test_slice_of_compacted_entries_is_misuse() -> None:
    log = log_of(1, 1, 1, 1)
    log.applied = log.committed = 4
    log.compact(Snapshot(2, 1, M))
    with pytest.raises(CoreMisuse):
        log.slice(2, 10, 10_000)


def test_between() -> None:
    log = log_of(1, 1, 2, 3)
    assert [e.index for e in log.between(2, 3)] == [2, 3]
    assert log.between(3, 2) == []


def test_find_conflict_by_term() -> None:
    # Figure 7 (f): terms 1,1,1,2,2,2,3,3,3,3,3
    f = log_of(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)
    assert f.find_conflict_by_term(10, 6) == (10, 3)  # everything <= term 6
    assert f.find_conflict_by_term(10, 2) == (6, 2)  # skip the whole term-3 run
    assert f.find_conflict_by_term(20, 3) == (11, 3)  # clamped to the last index
    assert f.find_conflict_by_term(5, 0) == (0, 0)
    compacted = log_of(3, 3, snapshot=Snapshot(5, 2, M))
    assert compacted.find_conflict_by_term(7, 1) == (5, 2)  # stops at the snapshot


def test_merge_skips_duplicates_and_appends_the_rest() -> None:
    log = log_of(1, 1)
    added, truncated = log.merge((Entry(2, 1, "e2"), Entry(3, 1), Entry(4, 2)))
    assert [e.index for e in added] == [3, 4] and truncated == 0
    assert log.merge((Entry(2, 1, "e2"), Entry(3, 1))) == ([], 0)
    assert log.last_index == 4  # an old, shorter message truncates nothing


def test_merge_truncates_a_conflicting_suffix() -> None:
    log = log_of(1, 1, 2, 2)
    added, truncated = log.merge((Entry(2, 1, "e2"), Entry(3, 3, "new")))
    assert truncated == 3
    assert [e.index for e in added] == [3]
    assert [(e.index, e.term) for e in log.entries] == [(1, 1), (2, 1), (3, 3)]


def test_merge_never_truncates_committed_entries() -> None:
    log = log_of(1, 1, 2)
    log.committed = 3
    with pytest.raises(PeerError):
        log.merge((Entry(3, 3),))
    assert log.last_index == 3 and log.term(3) == 2
    with pytest.raises(PeerError):
        log.truncate_after(1)


def test_merge_skips_compacted_entries() -> None:
    log = log_of(2, snapshot=Snapshot(3, 1, M))
    assert log.merge((Entry(3, 1), Entry(4, 2, "e4"), Entry(5, 2))) == ([Entry(5, 2)], 0)


def test_commit_to() -> None:
    log = log_of(1, 1)
    assert log.commit_to(2)
    assert not log.commit_to(1)  # never backwards
    assert log.committed == 2
    with pytest.raises(CoreMisuse):
        log.commit_to(3)


def test_compact_keeps_hashes_and_refuses_unapplied() -> None:
    log = log_of(1, 1, 2, 2)
    full_hash = log.hash_at(4)
    log.committed = 4
    log.applied = 2
    with pytest.raises(CoreMisuse):
        log.compact(Snapshot(3, 2, M))
    log.compact(Snapshot(2, 1, M, log_hash=log.hash_at(2)))
    assert log.first_index == 3 and log.last_index == 4
    assert log.hash_at(4) == full_hash
    log.compact(Snapshot(1, 1, M))  # older than the current snapshot: no-op
    assert log.snapshot.index == 2


def test_restore_replaces_everything() -> None:
    log = log_of(1, 1, 2)
    log.restore(Snapshot(10, 4, M, "state", 77))
    assert (log.last_index, log.last_term, log.committed, log.applied) == (10, 4, 10, 10)
    assert log.entries == [] and log.hash_at(10) == 77


def test_chain_hash_detects_any_difference_in_the_prefix() -> None:
    a = log_of(1, 1, 2, 2)
    b = log_of(1, 1, 2, 2)
    c = RaftLog(Snapshot(0, 0, M), [Entry(1, 1, "e1"), Entry(2, 1, "other"), Entry(3, 2, "e3")])
    d = log_of(1, 2, 2, 2)
    assert a.hash_at(4) == b.hash_at(4)
    assert a.hash_at(1) == c.hash_at(1)
    assert a.hash_at(3) != c.hash_at(3)  # same terms, different payload at 2
    assert a.hash_at(4) != d.hash_at(4)  # same payloads, different term at 2
