"""The closing record: how a trace proves it is whole and unmodified.

A trace of version 2 ends with one line that is not an event::

    {"end": "complete", "events": 5012, "digests": {"n1": "9c1f0a2b", ...},
     "block": 512, "blocks": ["1a2b3c4d", "5e6f7a8b"], "sha256": "..."}

``end`` says how the run ended (``complete``, ``interrupted`` or ``failed``,
with ``reason``), ``events`` how many events precede it, ``digests`` each
node's state digest after its last step, ``sha256`` the SHA-256 of the
header line and every event line as written (bytes and newline,
uncompressed), ``header`` the CRC-32 of the header line and ``blocks`` a
CRC-32 per ``block`` events, so that a modified file can be narrowed down
to the line or events that changed.

The writer and the reader use the same ``Summer``, so what is checked is
exactly what was written. A reader tells four cases apart:

- the closing record matches: the trace is complete and unmodified;
- there is no closing record: the file was cut (``truncated at seq N``);
- it does not match: the file was changed after it was written;
- version 1 traces have no closing record at all: nothing can be verified.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]

#: Events per integrity block.
#: Small enough to place a change among a few hundred events, large enough that
#: the closing record stays a few kilobytes for a million events.
BLOCK_EVENTS = 512

#: The key that marks the closing record (events never have it).
END_KEY = "end"

ENDINGS = ("complete", "interrupted", "failed")


class Summer:
    """Running integrity data over event lines, as the writer wrote them."""

    __slots__ = ("_header", "_lines", "_sha", "blocks", "digests", "events")

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._header = ""
        self._lines: list[bytes] = []  # the current block's lines, hashed when it is full
        self.blocks: list[str] = []
        #: actor -> state digest after its latest step.
        self.digests: dict[str, str] = {}
        self.events = 0

    def add_header(self, line: bytes) -> None:
        """The header line, with its newline (before any event)."""
        self._sha.update(line)
        self._header = f"{zlib.crc32(line):08x}"

    def add(self, line: bytes, event: Event) -> None:
        """``line`` is the event's encoding including its newline."""
        lines = self._lines
        lines.append(line)
        self.events += 1
        if len(lines) == BLOCK_EVENTS:
            self.blocks.append(self._hash_block())
        digest = event.get("dg")
        if digest is not None:
            self.digests[event["n"]] = digest

    def _hash_block(self) -> str:
        """Hash the lines of the current block (once per block: per-line
        calls would double the cost of reading a trace)."""
        data = b"".join(self._lines)
        self._lines = []
        self._sha.update(data)
        return f"{zlib.crc32(data):08x}"

    def closing(self, end: str = "complete", reason: str = "") -> Event:
        """The closing record for everything added so far."""
        if self._lines:
            self.blocks.append(self._hash_block())  # the last, partial block
        blocks = list(self.blocks)
        record: Event = {END_KEY: end}
        if reason:
            record["reason"] = reason
        record.update(
            events=self.events,
            digests=dict(sorted(self.digests.items(), key=lambda kv: _actor_key(kv[0]))),
            header=self._header,
            block=BLOCK_EVENTS,
            blocks=blocks,
            sha256=self._sha.hexdigest(),
        )
        return record


def _actor_key(actor: str) -> tuple[int, str]:
    return (int(actor[1:]), "") if actor[1:].isdigit() else (1 << 30, actor)


@dataclass(slots=True, frozen=True)
class Integrity:
    """What a reader learned about a whole trace once it read to the end.

    ``state`` is ``complete``, ``truncated``, ``tampered``, ``interrupted``
    (the writer closed it after a failure) or ``unverified`` (version 1).
    ``first_bad``/``last_bad`` bound the events that differ when tampered
    (0 when the change cannot be placed)."""

    state: str
    last_seq: int
    message: str
    closing: Event | None = None
    first_bad: int = 0
    last_bad: int = 0

    @property
    def ok(self) -> bool:
        return self.state == "complete"

    @property
    def verdict(self) -> str:
        """One word for the verdict line."""
        return {
            "truncated": f"TRUNCATED at seq {self.last_seq}",
            "tampered": "TAMPERED",
            "interrupted": f"INTERRUPTED at seq {self.last_seq}",
        }.get(self.state, "")

    def covers(self, seq: int) -> bool:
        """Whether ``seq`` lies among the events known to have changed."""
        return self.state == "tampered" and (
            self.first_bad == 0 or self.first_bad <= seq <= self.last_bad
        )

    def to_json(self) -> Event:
        doc: Event = {"state": self.state, "last_seq": self.last_seq, "message": self.message}
        if self.first_bad:
            doc["changed"] = [self.first_bad, self.last_bad]
        return doc


def judge(summer: Summer, closing: Event | None, version: int, cut: bool) -> Integrity:
    """Compare what was read (``summer``) with the closing record read, if
    any. ``cut``: the last line ended without a newline and did not parse."""
    last = summer.events
    if version == 1:
        return Integrity(
            "unverified",
            last,
            "version-1 trace: it has no closing record, so a cut or modified file "
            "cannot be detected",
        )
    if closing is None:
        how = "its last line is cut short" if cut else "it has no closing record"
        return Integrity(
            "truncated",
            last,
            f"truncated at seq {last}: {how} (the writer stopped before finishing it)",
        )
    problem = _mismatch(summer, closing)
    if problem is not None:
        message, first, last_bad = problem
        return Integrity("tampered", last, message, closing, first, last_bad)
    end = closing.get(END_KEY)
    if end != "complete":
        reason = closing.get("reason") or end
        return Integrity(
            "interrupted", last, f"the run ended early at seq {last} ({reason})", closing
        )
    return Integrity("complete", last, f"complete: {last} events, integrity verified", closing)


def _mismatch(summer: Summer, closing: Event) -> tuple[str, int, int] | None:
    """Why the events read do not match the closing record, and which events
    differ (0, 0 when that cannot be told)."""
    prefix = "the file does not match its own integrity record: "
    if closing.get(END_KEY) not in ENDINGS:
        return prefix + f"unknown ending {closing.get(END_KEY)!r}", 0, 0
    ours = summer.closing()
    if closing.get("header") != ours["header"]:
        return prefix + "the header line was modified after writing", 0, 0
    count = closing.get("events")
    if count != summer.events:
        return prefix + f"it records {count!r} events, the file holds {summer.events}", 0, 0
    recorded = closing.get("blocks")
    block = closing.get("block")
    actual = ours["blocks"]
    # Blocks of another size cannot be compared (the SHA-256 still can).
    if isinstance(recorded, list) and block == BLOCK_EVENTS:
        for k, (want, got) in enumerate(zip(recorded, actual, strict=False)):
            if want != got:
                first, last = k * block + 1, min((k + 1) * block, summer.events)
                return prefix + f"events {first}-{last} were modified after writing", first, last
    if closing.get("sha256") != ours["sha256"]:
        return prefix + "its SHA-256 differs", 0, 0
    if closing.get("digests") != ours["digests"]:
        return prefix + "the final state digests differ from the last steps'", 0, 0
    return None
