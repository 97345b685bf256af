"""One node of the PySyncObj comparison peer: the HTTP API over PySyncObj.

Run ``python -m kv.reference.pysyncobj_server --raft HOST:PORT --peer
HOST:PORT --peer HOST:PORT``; it prints ``listening <url>`` on stdout once
the HTTP API is up (``--http-port 0``, the default, takes a free port).

The replicated state is raftlab's own ``KVStateMachine``, inside a PySyncObj
consumer whose single ``@replicated`` method applies one ``kv.commands``
command. So the peer runs the same commands, the same results and the same
session table (exactly-once retries) as raftlab; only the consensus differs.

PySyncObj's quirks, and what this peer does about them
------------------------------------------------------
- It keeps its log in memory and never fsyncs (no ``journalFile`` is set;
  even with one it does not fsync): a node that crashes loses its log. The
  comparison is against a store that does less work per write.
- Its reads of replicated state are local, so a deposed leader or a lagging
  follower can answer stale. Here a linearizable read (``get``, ``list``
  without ``stale``) goes *through the log* like a write: it is applied at
  its place in the order and answers from the state at that point. That
  costs a log entry per read. ``stale=true`` reads the local copy.
- A follower forwards a command to the leader itself (PySyncObj does so
  internally), so this service never raises ``NotLeader``: every node
  serves every request.
- Its callbacks run on PySyncObj's tick thread; results are handed to the
  asyncio loop with ``call_soon_threadsafe``.
- Errors: ``MISSING_LEADER``, ``QUEUE_FULL`` and ``REQUEST_DENIED`` mean the
  command was never appended (``Unavailable``); ``NOT_LEADER``,
  ``LEADER_CHANGED``, ``DISCARDED`` and anything else may hide an append
  that a later leader still commits, so they are ``Timeout(outcome_unknown)``.
- A follower that is sent entries it already holds (a leader resending
  after a lost or late answer) truncates its log from there and appends
  them again, logging at CRITICAL "truncating already-applied log entries
  ... may have diverged". Raft truncates only on a conflicting term; here
  the entries are the leader's own, so the state does not diverge (the
  peer tests check convergence and linearizability after such runs), but
  the message shows up in node logs under load.
- It compacts the log by pickling the consumer (``KVStateMachine`` and its
  sessions) after ``--compact-entries`` entries (default 5000) and ships
  that pickle to lagging followers.
- By default PySyncObj batches appends every 100 ms; this peer sets
  ``appendEntriesUseBatch=False`` (``--batch`` restores batching, every
  40 ms here) so that each command is sent at once, PySyncObj's
  low-latency setting.
- Its default election timeout is 0.4-1.4 s; this peer uses 150-300 ms, the
  range raftlab is measured at, with heartbeats every 40 ms (PySyncObj
  requires the minimum timeout to exceed three heartbeat periods).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from typing import Any

from pysyncobj import (  # type: ignore[import-untyped]
    FAIL_REASON,
    SyncObj,
    SyncObjConf,
    SyncObjConsumer,
    replicated,
)

from kv.commands import Command, encode_command
from kv.httpapi import Health, LogService, Timeout, Unavailable, make_app
from kv.httpapi.logservice import list_pairs
from kv.httpapi.serve import start
from kv.statemachine import KVStateMachine, Result

#: failures that mean the command was never put in the log
NOT_SUBMITTED = {FAIL_REASON.MISSING_LEADER, FAIL_REASON.QUEUE_FULL, FAIL_REASON.REQUEST_DENIED}


class ReplicatedKV(SyncObjConsumer):  # type: ignore[misc]
    """The replicated part: a ``KVStateMachine`` fed by the log.

    Attributes set after ``SyncObjConsumer.__init__`` are the state that
    PySyncObj snapshots (pickles) at log compaction.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sm = KVStateMachine()
        self.entries = 0  #: commands applied: the log position in our own count

    @replicated  # type: ignore[untyped-decorator]
    def apply(self, text: str) -> Result | None:
        self.entries += 1
        return self.sm.apply(self.entries, text)

    @replicated  # type: ignore[untyped-decorator]
    def read_list(
        self, start: str, end: str | None, prefix: str | None, limit: int
    ) -> list[tuple[str, str]]:
        """A listing at its place in the log (a linearizable read)."""
        return list_pairs(self.sm, start, end, prefix, limit)


class PySyncObjService(LogService):
    def __init__(self, kv: ReplicatedKV, node: SyncObj) -> None:
        self.kv, self.node = kv, node
        self.url: str | None = None  #: this node's HTTP base URL, once serving

    async def _through_log(self, method: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: int) -> None:  # on PySyncObj's thread
            loop.call_soon_threadsafe(_settle, done, result, error)

        method(*args, callback=settle)
        return await done

    async def submit(self, text: str) -> Result | None:
        result: Result | None = await self._through_log(self.kv.apply, text)
        return result

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        if stale:
            return self.kv.sm.read(key)
        result: Result | None = await self._through_log(self.kv.apply, _get_command(key))
        return None if result is None else result.value

    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        if stale:
            return list_pairs(self.kv.sm, start, end, prefix, limit)
        pairs: list[tuple[str, str]] = await self._through_log(
            self.kv.read_list, start, end, prefix, limit
        )
        return [tuple(p) for p in pairs]  # type: ignore[misc]

    def health(self) -> Health:
        # only attributes PySyncObj reads atomically: getStatus() walks dicts
        # that its tick thread changes
        leader = self.node._getLeader()
        is_leader = bool(self.node._isLeader())
        return Health(
            ready=leader is not None,
            role="leader" if is_leader else "follower",
            leader=self.url if is_leader else None,
            details={
                "raft_leader": None if leader is None else str(leader),
                "term": self.node.raftCurrentTerm,
                "commit": self.node.raftCommitIndex,
                "applied": self.node.raftLastApplied,
            },
        )


def _get_command(key: str) -> str:
    return encode_command(Command("get", key))


def _settle(done: asyncio.Future[Any], result: Any, error: int) -> None:
    if done.done():
        return  # the request timed out and was cancelled
    if error == FAIL_REASON.SUCCESS:
        done.set_result(result)
    elif error in NOT_SUBMITTED:
        done.set_exception(Unavailable(f"PySyncObj did not submit the command (reason {error})"))
    else:
        done.set_exception(
            Timeout(f"PySyncObj lost track of the command (reason {error})", outcome_unknown=True)
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m kv.reference.pysyncobj_server", description=__doc__.split("\n")[0]
    )
    p.add_argument("--raft", required=True, help="this node's PySyncObj address HOST:PORT")
    p.add_argument("--peer", action="append", default=[], help="another node's HOST:PORT (repeat)")
    p.add_argument("--http-host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=0, help="0 = a free port")
    p.add_argument("--batch", action="store_true", help="PySyncObj's default batched appends")
    p.add_argument(
        "--compact-entries",
        type=int,
        default=5000,
        help="compact the log (pickle the state) past this many entries (PySyncObj's default)",
    )
    p.add_argument(
        "--request-timeout", type=float, default=5.0, help="seconds before a request answers 503"
    )
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    kv = ReplicatedKV()
    conf = SyncObjConf(
        appendEntriesUseBatch=args.batch,
        raftMinTimeout=0.15,
        raftMaxTimeout=0.3,
        appendEntriesPeriod=0.04,  # PySyncObj requires raftMinTimeout > 3x this
        connectionRetryTime=0.5,
        dynamicMembershipChange=False,
        logCompactionMinEntries=args.compact_entries,
    )
    node = SyncObj(args.raft, args.peer, conf=conf, consumers=[kv])
    service = PySyncObjService(kv, node)
    runner, url = await start(
        make_app(service, request_timeout=args.request_timeout), args.http_host, args.http_port
    )
    service.url = url
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(f"listening {url}\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        node.destroy()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
