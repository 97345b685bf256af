"""Group commit: many threads share the WAL's fsyncs.

The node runtime may commit from several threads (or from a loop plus an
executor); each committer wants its record durable, and one fsync can cover
every record appended before it started.
"""

from __future__ import annotations

import threading
from pathlib import Path

from consensus.effects import Persist
from kv.wal import WriteAheadLog


class GroupCommit:
    """Many threads commit records; each fsync covers every record appended
    before it started.

    A committer appends its record and waits until it is durable. If no sync
    is running it becomes the syncer (fsyncs for everyone appended so far);
    otherwise it waits for the running one and, if that did not cover it,
    the next sync (started by the first waiter to wake) does. So under load
    the number of fsyncs is about the number of batches, not of records.
    """

    def __init__(self, wal: WriteAheadLog) -> None:
        self.wal = wal
        self._cond = threading.Condition(threading.Lock())
        self._syncing = False
        self._waiting = 0

    def append(self, persist: Persist) -> int:
        with self._cond:
            return self.wal.append(persist)

    def commit(self, persist: Persist) -> int:
        """Append and wait until durable; returns the record number."""
        lsn = self.append(persist)
        self.wait_durable(lsn)
        return lsn

    def wait_durable(self, lsn: int) -> None:
        with self._cond:
            self._waiting += 1
            self._cond.notify_all()
            try:
                while self.wal.durable_lsn < lsn:
                    if self._syncing:
                        self._cond.wait()
                    else:
                        self._sync_for_all()
            finally:
                self._waiting -= 1

    def _sync_for_all(self) -> None:
        """Called holding the lock; fsyncs without it so others can append."""
        self._syncing = True
        try:
            pending = self.wal.begin_sync()
            self._cond.release()
            try:
                self.wal.finish_sync(pending)
            finally:
                self._cond.acquire()
        finally:
            self._syncing = False
            self._cond.notify_all()

    def compact(self) -> list[Path]:
        with self._cond:
            while self._syncing:
                self._cond.wait()
            return self.wal.compact()

    def await_waiters(self, count: int, timeout: float) -> bool:
        """Block until ``count`` committers are waiting (for tests and
        diagnostics); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._waiting >= count, timeout)
