"""The replicated KV state machine: a map of keys plus per-client sessions.

Every replica applies the same committed entries in the same order, so
everything here is deterministic: no wall clock, no randomness, and no
iteration whose order depends on hashing (listings walk a sorted key index,
snapshots sort their keys).

Sessions (exactly-once retries)
-------------------------------
A write that carries a client id (non-zero) and a sequence number is
deduplicated against that client's session: the sequence number of the last
request applied for it and that request's result. The table is part of the
replicated state (it is in every snapshot), so a retry is recognised by any
replica, after leader changes and after restarts from a snapshot.

For a command from client ``c`` with sequence number ``s``, where ``last`` is
the sequence number the session holds (none for a new client):

- ``s == last`` (a repeated request, e.g. retried after a timeout or a leader
  change): not executed again; ``apply`` returns the cached result of the
  first execution.
- ``s < last`` (an older request, overtaken by a newer one from the same
  client): not executed; ``apply`` returns None. Its result is no longer
  known -- the session keeps only the latest -- so a caller must not report
  it as a success.
- ``s > last``, including a gap (``s > last + 1``): executed, and becomes the
  session's latest. Numbers need only increase: a client that gave up on a
  request (outcome unknown) moves on to a new number, and the state machine
  cannot wait for a request that may never be committed.

So a client keeps at most one request outstanding and reuses its number for
every retry of it. Commands without a client id (``client == 0``) are
executed every time.

Session expiry
--------------
Clients pick random ids, so without a bound the table grows with every
client that ever wrote. It holds at most ``max_sessions`` sessions: when a
new client's first write would exceed that, the session used longest ago
(by the log index of its last write, so every replica picks the same one)
is dropped. A client whose session was dropped is unknown again: a retry of
its last request would be executed a second time, so the bound should be
far above the number of clients writing at once. Snapshots carry each
session's last index, so a replica restored from a snapshot drops the same
sessions later as one that applied every entry.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass
from typing import Any

import orjson

from kv.commands import Command, CommandError, decode_command

#: Version of the snapshot encoding written by :meth:`KVStateMachine.snapshot_bytes`
#: (2 added each session's last index; version 1 snapshots are still read).
SNAPSHOT_VERSION = 2
READABLE_SNAPSHOT_VERSIONS = (1, 2)

#: Sessions kept at most (see "Session expiry" above).
MAX_SESSIONS = 100_000


class SnapshotError(ValueError):
    """Snapshot data that this state machine cannot restore."""


@dataclass(slots=True, frozen=True)
class Result:
    """``ok`` is False only for a compare-and-set whose expectation failed."""

    ok: bool
    value: str | None = None


class SessionCheck(enum.Enum):
    """What ``apply`` would do with a client's request (see the module docstring)."""

    NEW = "new"  # no session request with this number yet: it will be executed
    REPEAT = "repeat"  # already applied: the cached result is returned
    STALE = "stale"  # older than the session's latest: skipped, result unknown


class KVStateMachine:
    __slots__ = ("_keys", "applied", "data", "last_used", "max_sessions", "sessions")

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.data: dict[str, str] = {}
        #: client -> (last request number applied, its result), least
        #: recently used first
        self.sessions: dict[int, tuple[int, Result]] = {}
        #: client -> log index of its last applied write
        self.last_used: dict[int, int] = {}
        self.max_sessions = max_sessions
        self.applied = 0
        #: every key of ``data``, sorted: listings never depend on insertion order
        self._keys: list[str] = []

    # -- applying the log ----------------------------------------------------

    def apply(self, index: int, text: str) -> Result | None:
        """Apply the entry at ``index``; None for entries that are not commands
        and for stale session requests."""
        self.applied = index
        if not text:
            return None
        try:
            cmd = decode_command(text)
        except CommandError:
            return None  # garbage in the log is skipped identically everywhere
        if cmd.client:
            last = self.sessions.get(cmd.client)
            if last is not None and last[0] >= cmd.seq:
                return last[1] if last[0] == cmd.seq else None
        result = self.execute(cmd)
        if cmd.client:
            self._remember(cmd.client, cmd.seq, result, index)
        return result

    def _remember(self, client: int, seq: int, result: Result, index: int) -> None:
        """Make ``client``'s session the most recently used, dropping the
        least recently used one if the table is full."""
        sessions = self.sessions
        if sessions.pop(client, None) is None and len(sessions) >= self.max_sessions:
            oldest = next(iter(sessions))
            del sessions[oldest], self.last_used[oldest]
        sessions[client] = (seq, result)
        self.last_used[client] = index

    def execute(self, cmd: Command) -> Result:
        """Run one command against the data, ignoring sessions."""
        current = self.data.get(cmd.key)
        if cmd.op == "put":
            self._set(cmd.key, cmd.value)
            return Result(True, cmd.value)
        if cmd.op == "delete":
            self._drop(cmd.key)
            return Result(True, current)
        if cmd.op == "append":
            self._set(cmd.key, (current or "") + cmd.value)
            return Result(True, self.data[cmd.key])
        if cmd.op == "cas":
            expected, new = cmd.value
            if current != expected:
                return Result(False, current)
            if new is None:
                self._drop(cmd.key)
            else:
                self._set(cmd.key, new)
            return Result(True, new)
        return Result(True, current)  # get

    def _set(self, key: str, value: str) -> None:
        if key not in self.data:
            bisect.insort(self._keys, key)
        self.data[key] = value

    def _drop(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]

    # -- reads ---------------------------------------------------------------

    def read(self, key: str) -> str | None:
        return self.data.get(key)

    def range(
        self, start: str = "", end: str | None = None, limit: int = 0
    ) -> list[tuple[str, str]]:
        """Pairs with ``start <= key < end`` (no upper bound if ``end`` is None),
        in code-point order of the keys; at most ``limit`` of them if positive."""
        keys = self._keys
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if end is None else max(lo, bisect.bisect_left(keys, end))
        if limit > 0:
            hi = min(hi, lo + limit)
        return [(k, self.data[k]) for k in keys[lo:hi]]

    def prefix(self, prefix: str, limit: int = 0) -> list[tuple[str, str]]:
        """Pairs whose key starts with ``prefix``, in key order (``limit`` as in
        :meth:`range`)."""
        keys = self._keys
        out: list[tuple[str, str]] = []
        for i in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[i]
            if not key.startswith(prefix) or (limit > 0 and len(out) == limit):
                break
            out.append((key, self.data[key]))
        return out

    def check_session(self, client: int, seq: int) -> SessionCheck:
        """What :meth:`apply` would do with request ``seq`` of ``client`` now;
        lets a server answer a retry of an applied request from the cache."""
        last = self.sessions.get(client) if client else None
        if last is None or seq > last[0]:
            return SessionCheck.NEW
        return SessionCheck.REPEAT if seq == last[0] else SessionCheck.STALE

    # -- snapshots -------------------------------------------------------------

    def snapshot_bytes(self) -> bytes:
        """The whole replicated state, encoded deterministically (sorted keys):
        equal states give equal bytes however they were reached."""
        body: dict[str, Any] = {
            "v": SNAPSHOT_VERSION,
            "applied": self.applied,
            "data": self.data,
            "sessions": {
                str(c): [seq, r.ok, r.value, self.last_used[c]]
                for c, (seq, r) in sorted(self.sessions.items())
            },
        }
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    def snapshot(self) -> str:
        """:meth:`snapshot_bytes` as text, the form ``Snapshot.data`` carries."""
        return self.snapshot_bytes().decode()

    def restore(self, text: str | bytes, index: int) -> None:
        """Load a snapshot taken at log index ``index`` (empty = empty state).

        Snapshots without a version field (written before versioning) have the
        version-1 layout. Raises ``SnapshotError`` for anything else malformed,
        leaving the state machine empty at ``index``.
        """
        self.data, self.sessions, self.applied, self._keys = {}, {}, index, []
        self.last_used = {}
        if not text:
            return
        data, sessions = _decode_snapshot(text)
        # Least recently used first, as applying the entries would have left them.
        ordered = sorted(sessions.items(), key=lambda item: (item[1][2], item[0]))
        self.sessions = {c: (seq, result) for c, (seq, result, _) in ordered}
        self.last_used = {c: used for c, (_, _, used) in ordered}
        self.data, self._keys = data, sorted(data)


Sessions = dict[int, tuple[int, Result, int]]


def _decode_snapshot(text: str | bytes) -> tuple[dict[str, str], Sessions]:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise SnapshotError(f"snapshot is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise SnapshotError("snapshot must be a JSON object")
    version = body.get("v", 1)
    if version not in READABLE_SNAPSHOT_VERSIONS:
        known = ", ".join(map(str, READABLE_SNAPSHOT_VERSIONS))
        raise SnapshotError(f"snapshot version {version!r} is not one of {known}")
    raw_data, raw_sessions = body.get("data"), body.get("sessions")
    if not isinstance(raw_data, dict) or not all(isinstance(v, str) for v in raw_data.values()):
        raise SnapshotError("snapshot 'data' must map keys to strings")
    if not isinstance(raw_sessions, dict):
        raise SnapshotError("snapshot 'sessions' must be an object")
    sessions: Sessions = {}
    width = 3 if version == 1 else 4
    shape = "[seq, ok, value]" if version == 1 else "[seq, ok, value, last index]"
    for client, entry in raw_sessions.items():
        if not (isinstance(entry, list) and len(entry) == width and client.isdigit()):
            raise SnapshotError(f"snapshot session {client!r} must be {shape}")
        seq, ok, value = entry[:3]
        used = entry[3] if version > 1 else 0
        if not (isinstance(seq, int) and isinstance(ok, bool) and isinstance(used, int)) or not (
            value is None or isinstance(value, str)
        ):
            raise SnapshotError(f"snapshot session {client!r} has wrong field types")
        sessions[int(client)] = (seq, Result(ok, value), used)
    return dict(raw_data), sessions
