"""The in-memory Raft log: a snapshot followed by entries.

Indexes are 1-based as in the paper; index ``snapshot.index`` is the last
compacted entry and still has a known term and prefix hash. Field invariants:

    snapshot.index <= applied <= committed <= last_index

Alongside every entry the log keeps its content CRC and the chain hash of the
prefix ending there, so that state digests, Log Matching checks and trace
notes cost O(1) per entry instead of rehashing the log.
"""

from __future__ import annotations

from consensus.errors import CoreMisuse, PeerError
from consensus.records import Entry, Snapshot, chain_hash


class RaftLog:
    __slots__ = ("applied", "committed", "crcs", "entries", "hashes", "snapshot")

    def __init__(self, snapshot: Snapshot, entries: list[Entry] | None = None) -> None:
        self.snapshot = snapshot
        self.entries: list[Entry] = []
        self.crcs: list[int] = []
        self.hashes: list[int] = []
        self.committed = snapshot.index
        self.applied = snapshot.index
        if entries:
            self.append(entries)

    # -- queries -----------------------------------------------------------

    @property
    def first_index(self) -> int:
        return self.snapshot.index + 1

    @property
    def last_index(self) -> int:
        return self.snapshot.index + len(self.entries)

    @property
    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snapshot.term

    def term(self, index: int) -> int | None:
        """The term of entry ``index``, or None if compacted away or not there."""
        offset = index - self.snapshot.index
        if offset == 0:
            return self.snapshot.term
        if 0 < offset <= len(self.entries):
            return self.entries[offset - 1].term
        return None

    def entry(self, index: int) -> Entry:
        return self.entries[index - self.snapshot.index - 1]

    def crc(self, index: int) -> int:
        return self.crcs[index - self.snapshot.index - 1]

    def hash_at(self, index: int) -> int:
        """Chain hash of the prefix ending at ``index`` (must not be compacted)."""
        offset = index - self.snapshot.index
        return self.snapshot.log_hash if offset == 0 else self.hashes[offset - 1]

    def match_term(self, index: int, term: int) -> bool:
        return self.term(index) == term

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """Whether a log ending at (last_index, last_term) is at least as
        up-to-date as ours (section 5.4.1)."""
        mine = self.last_term
        return last_term > mine or (last_term == mine and last_index >= self.last_index)

    def slice(self, lo: int, max_count: int, max_bytes: int) -> list[Entry]:
        """Entries from ``lo`` on, at most ``max_count`` and about ``max_bytes``
        (always at least one entry if any exists, so progress is guaranteed)."""
        start = lo - self.snapshot.index - 1
        if start < 0:
            raise CoreMisuse(f"entry {lo} is compacted (snapshot at {self.snapshot.index})")
        batch = self.entries[start : start + max_count]
        total = 0
        for n, entry in enumerate(batch):
            total += entry.size
            if total > max_bytes and n > 0:
                return batch[:n]
        return batch

    def between(self, lo: int, hi: int) -> list[Entry]:
        """Entries ``lo..hi`` inclusive."""
        base = self.snapshot.index + 1
        return self.entries[lo - base : hi - base + 1]

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The largest index <= ``index`` whose term is <= ``term``, and its term.

        A follower returns this as its rejection hint so the leader can skip a
        whole term of mismatching entries per round trip instead of one entry.
        """
        index = min(index, self.last_index)
        while index > self.snapshot.index:
            entry_term = self.entries[index - self.snapshot.index - 1].term
            if entry_term <= term:
                return index, entry_term
            index -= 1
        return self.snapshot.index, self.snapshot.term

    # -- mutation ----------------------------------------------------------

    def append(self, entries: list[Entry]) -> None:
        """Append entries that continue the log exactly."""
        for entry in entries:
            if entry.index != self.last_index + 1:
                raise CoreMisuse(f"entry {entry.index} does not follow {self.last_index}")
            crc = entry.content_crc()
            self.hashes.append(chain_hash(self.hash_at(self.last_index), entry.term, crc))
            self.crcs.append(crc)
            self.entries.append(entry)

    def truncate_after(self, index: int) -> None:
        if index < self.committed:
            raise PeerError(f"refusing to truncate committed entries after {index}")
        keep = index - self.snapshot.index
        del self.entries[keep:], self.crcs[keep:], self.hashes[keep:]

    def merge(self, entries: tuple[Entry, ...]) -> tuple[list[Entry], int]:
        """Merge a leader's entries whose predecessor is already matched.

        Returns the entries actually added and the index truncation started at
        (0 if nothing was truncated). Entries we already hold are skipped, so a
        duplicated or reordered old message cannot truncate newer entries.
        """
        for n, entry in enumerate(entries):
            mine = self.term(entry.index)
            if mine == entry.term:
                continue
            if entry.index <= self.snapshot.index:
                continue  # compacted, hence committed, hence matching
            truncated = 0
            if mine is not None:
                if entry.index <= self.committed:
                    raise PeerError(
                        f"leader sent entry {entry.index} (term {entry.term}) conflicting "
                        f"with committed entry of term {mine}"
                    )
                self.truncate_after(entry.index - 1)
                truncated = entry.index
            fresh = list(entries[n:])
            self.append(fresh)
            return fresh, truncated
        return [], 0

    def commit_to(self, index: int) -> bool:
        if index <= self.committed:
            return False
        if index > self.last_index:
            raise CoreMisuse(f"commit {index} beyond last index {self.last_index}")
        self.committed = index
        return True

    def restore(self, snapshot: Snapshot) -> None:
        """Replace the whole log by a snapshot received from the leader."""
        self.snapshot = snapshot
        self.entries, self.crcs, self.hashes = [], [], []
        self.committed = self.applied = snapshot.index

    def compact(self, snapshot: Snapshot) -> None:
        """Drop entries covered by a snapshot of our own applied state."""
        if snapshot.index > self.applied:
            raise CoreMisuse(f"cannot compact to {snapshot.index}, applied is {self.applied}")
        drop = snapshot.index - self.snapshot.index
        if drop <= 0:
            return
        del self.entries[:drop], self.crcs[:drop], self.hashes[:drop]
        self.snapshot = snapshot
