"""Scenario tests as data (etcd-io/raft's testdata/*.txt style).

A scenario file is a sequence of blocks::

    # comments: what this checks and which paper/thesis section it cites
    command arg arg
    ----
    expected output, exactly

Blocks are separated by blank lines; comment lines belong to the block that
follows them. ``run_file`` runs every command on one ``Harness`` and returns
the blocks with the output actually observed; ``render_file`` turns them back
into text (which is how ``--rewrite-scenarios`` regenerates expectations).

Commands (node ids are integers):

    add-nodes N [voters=1,2,3] [learners=4,5] [option=value ...]
        a cluster of founders; options: election, heartbeat, prevote,
        checkquorum, inflight, maxents, maxbytes, read (index|lease), seed
    add-node ID                 a joiner, with no configuration yet
    campaign ID                 start an election now
    tick ID [N]                 N single ticks on one node (default 1)
    tick-all [N]                N rounds of one tick per node, in id order
    rounds [N]                  N times: tick-all, then stabilize (clocks in
                                lockstep, every message delivered between)
    propose ID DATA             a client command
    conf ID CHANGE              e.g. ``add_learner 4``, ``add_voter 4 remove 3
                                joint_explicit``, ``leave``
    transfer ID TARGET          leader transfer
    read ID CTX                 ReadIndex (or a lease read)
    compact ID                  snapshot the node's state machine
    crash ID                    crash and restart from the node's disk
    cut A B / isolate A / heal  partitions (messages across are dropped)
    hold A B / release A B      a slow link: messages from A to B wait aside
                                until release puts them in the queue
    clocks                      every node's logical clock
    deliver [N]                 deliver the first N queued messages (all)
    drop [N]                    lose the first N queued messages (all)
    stabilize                   deliver until no message is left
    status                      one line per node

Output: one line per node step that did something, ``<node> <input>``,
followed by its effects indented (sends, writes, applies, answers and the
core's notes; ``append``/``apply`` notes are left out as they repeat the
write and apply lines). Steps that changed nothing are not shown. A read
answered at an index below a data entry that some node had applied before
the read was asked is flagged with a ``STALE READ`` line (see
``Harness.stale_reads``): the lease scenarios show it before their fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from consensus import (
    Accepted,
    AppendRequest,
    AppendResponse,
    Applied,
    ApplyEntries,
    Campaign,
    Compact,
    Effect,
    Entry,
    Heartbeat,
    HeartbeatResponse,
    Input,
    InstallSnapshot,
    Message,
    Note,
    Persist,
    Persisted,
    Propose,
    ProposeConfChange,
    RaftConfig,
    ReadIndex,
    ReadMode,
    ReadReady,
    ReadRefused,
    Receive,
    Refused,
    RestoreSnapshot,
    Send,
    Tick,
    TimeoutNow,
    TransferLeader,
    VoteRequest,
    VoteResponse,
)
from tests.harness import Harness, change

SEPARATOR = "----"
QUIET_NOTES = {"append", "apply"}


@dataclass
class Block:
    comments: list[str]
    command: str
    expected: list[str]
    line: int
    actual: list[str] = field(default_factory=list)


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    comments: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            if comments:
                comments.append("")  # keeps a blank line under a header comment
            i += 1
            continue
        if line.startswith("#"):
            comments.append(line)
            i += 1
            continue
        command, start = line.strip(), i + 1
        if i + 1 >= len(lines) or lines[i + 1] != SEPARATOR:
            raise ValueError(f"line {start}: expected {SEPARATOR!r} after command {command!r}")
        i += 2
        expected = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i])
            i += 1
        blocks.append(Block(comments, command, expected, start))
        comments = []
    return blocks


def render_file(blocks: list[Block], use_actual: bool = True) -> str:
    parts = []
    for block in blocks:
        out = block.actual if use_actual else block.expected
        parts.append("\n".join([*block.comments, block.command, SEPARATOR, *out]))
    return "\n\n".join(parts) + "\n"


def run_file(path: Path) -> list[Block]:
    blocks = parse(path.read_text())
    runner = Runner()
    for block in blocks:
        try:
            block.actual = runner.run(block.command)
        except Exception as err:  # shown in the diff rather than aborting the file
            block.actual = [f"error: {type(err).__name__}: {err}"]
    return blocks


# -- rendering ------------------------------------------------------------------------------


def entry_text(e: Entry) -> str:
    body = "noop" if e.conf is None and not e.data else repr(e.data)
    if e.conf is not None:
        body = f"conf({e.conf.describe()})"
    return f"{e.index}/{e.term} {body}"


def message_text(m: Message) -> str:
    head = f"{m.src}->{m.dst} {m.KIND} t{m.term}"
    if isinstance(m, VoteRequest):
        flags = (" pre" if m.pre else "") + (" transfer" if m.transfer else "")
        return f"{head}{flags} last={m.last_index}/{m.last_term}"
    if isinstance(m, VoteResponse):
        return f"{head}{' pre' if m.pre else ''} {'granted' if m.granted else 'rejected'}"
    if isinstance(m, AppendRequest):
        ents = ", ".join(entry_text(e) for e in m.entries)
        return f"{head} prev={m.prev_index}/{m.prev_term} commit={m.commit} [{ents}]"
    if isinstance(m, AppendResponse):
        if m.success:
            return f"{head} ok index={m.index}"
        return f"{head} rejected index={m.index} hint={m.hint_index}/{m.hint_term}"
    if isinstance(m, Heartbeat):
        return f"{head} commit={m.commit} round={m.round}"
    if isinstance(m, HeartbeatResponse):
        return f"{head} round={m.round}"
    if isinstance(m, InstallSnapshot):
        s = m.snapshot
        return f"{head} snap={s.index}/{s.term} {s.membership.describe()}"
    assert isinstance(m, TimeoutNow)
    return head


def input_text(inp: Input, now: int) -> str:
    if isinstance(inp, Tick):
        return f"tick @{now}"
    if isinstance(inp, Receive):
        return f"recv {inp.msg.KIND} from {inp.msg.src}"
    if isinstance(inp, Propose):
        return f"propose {inp.data!r}"
    if isinstance(inp, ProposeConfChange):
        return f"propose conf {inp.change.describe()}"
    if isinstance(inp, TransferLeader):
        return f"transfer to {inp.target}"
    if isinstance(inp, ReadIndex):
        return f"read ctx={inp.ctx}"
    if isinstance(inp, Persisted):
        return f"persisted #{inp.id}"
    if isinstance(inp, Applied):
        return f"applied {inp.index}"
    if isinstance(inp, Compact):
        return f"compact at {inp.index}"
    assert isinstance(inp, Campaign)
    return "campaign"


def value_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ",".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{value_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def effect_text(effect: Effect, fate: Callable[[Message], str]) -> str | None:
    """``fate`` says what the network does with a message: "" (queued),
    " (cut)" or " (held)"."""
    if isinstance(effect, Send):
        return f"send {message_text(effect.msg)}{fate(effect.msg)}"
    if isinstance(effect, Persist):
        hs = effect.hard_state
        text = f"persist #{effect.id} term={hs.term} vote={hs.vote} commit={hs.commit}"
        if effect.entries:
            text += f" entries={effect.entries[0].index}..{effect.entries[-1].index}"
        if effect.snapshot is not None:
            text += f" snap={effect.snapshot.index}/{effect.snapshot.term}"
        return text
    if isinstance(effect, ApplyEntries):
        return "apply " + ", ".join(entry_text(e) for e in effect.entries)
    if isinstance(effect, RestoreSnapshot):
        s = effect.snapshot
        return f"restore snap={s.index}/{s.term} {s.membership.describe()}"
    if isinstance(effect, Accepted):
        return f"accepted {effect.index}/{effect.term}"
    if isinstance(effect, Refused):
        return f"refused: {effect.reason} (leader {effect.leader})"
    if isinstance(effect, ReadReady):
        return f"read ready ctx={effect.ctx} index={effect.index}"
    if isinstance(effect, ReadRefused):
        return f"read refused ctx={effect.ctx}: {effect.reason} (leader {effect.leader})"
    assert isinstance(effect, Note)
    if effect.action in QUIET_NOTES:
        return None
    detail = " ".join(f"{k}={value_text(v)}" for k, v in effect.detail.items())
    return f"{effect.action} {detail}".rstrip()


# -- running --------------------------------------------------------------------------------

CONFIG_KEYS = {
    "election": "election_ticks",
    "heartbeat": "heartbeat_ticks",
    "prevote": "pre_vote",
    "checkquorum": "check_quorum",
    "inflight": "max_inflight",
    "maxents": "max_entries_per_msg",
    "maxbytes": "max_bytes_per_msg",
    "read": "read_mode",
}


def id_list(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


class Runner:
    def __init__(self) -> None:
        self.h: Harness | None = None
        self.now_at: dict[int, int] = {}

    @property
    def harness(self) -> Harness:
        if self.h is None:
            raise ValueError("no cluster yet: start with add-nodes")
        return self.h

    def run(self, command: str) -> list[str]:
        name, *args = command.split()
        handler = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if handler is None:
            raise ValueError(f"unknown command {name!r}")
        start = len(self.h.events) if self.h else 0
        stale = len(self.h.stale_reads) if self.h else 0
        extra: list[str] | None = handler(*args)
        lines = self.render(start) if self.h else []
        flagged = [s.describe() for s in self.h.stale_reads[stale:]] if self.h else []
        return [*lines, *(extra or []), *flagged] or ["ok"]

    def render(self, start: int) -> list[str]:
        h = self.harness
        lines: list[str] = []
        step: list[str] = []
        header = ""

        def flush() -> None:
            if step:
                lines.append(header)
                lines.extend("  " + s for s in step)

        def fate(m: Message) -> str:
            link = (m.src, m.dst)
            if link in h.holds:
                return " (held)"
            return " (cut)" if link in h.cuts else ""

        for node, item in h.events[start:]:
            if isinstance(item, Tick | Receive | Propose | ProposeConfChange | TransferLeader
                          | ReadIndex | Persisted | Applied | Compact | Campaign):  # fmt: skip
                flush()
                step = []
                header = f"{node} {input_text(item, self.now_at.get(id(item), 0))}"
            else:
                text = effect_text(item, fate)
                if text is not None:
                    step.append(text)
        flush()
        return lines

    # -- commands ------------------------------------------------------------------------

    def cmd_add_nodes(self, count: str, *options: str) -> None:
        voters = tuple(range(1, int(count) + 1))
        learners: tuple[int, ...] = ()
        values: dict[str, object] = {"election_ticks": 10, "heartbeat_ticks": 1}
        seed = 1
        for option in options:
            key, _, value = option.partition("=")
            if key == "voters":
                voters = id_list(value)
            elif key == "learners":
                learners = id_list(value)
            elif key == "seed":
                seed = int(value)
            elif key in ("prevote", "checkquorum"):
                values[CONFIG_KEYS[key]] = value == "true"
            elif key == "read":
                values["read_mode"] = ReadMode(value)
            elif key in CONFIG_KEYS:
                values[CONFIG_KEYS[key]] = int(value)
            else:
                raise ValueError(f"unknown option {key!r}")
        config = RaftConfig(**values)  # type: ignore[arg-type]
        self.h = Harness(voters, learners, config, seed)
        original = self.h.step

        def timed_step(node: int, inp: Input) -> list[Effect]:
            self.now_at[id(inp)] = self.harness.now[node]
            return original(node, inp)

        self.h.step = timed_step  # type: ignore[method-assign]

    def cmd_add_node(self, node: str) -> None:
        self.harness.add_node(int(node))

    def cmd_campaign(self, node: str) -> None:
        self.harness.campaign(int(node))

    def cmd_tick(self, node: str, count: str = "1") -> None:
        for _ in range(int(count)):
            self.harness.tick(int(node))

    def cmd_tick_all(self, count: str = "1") -> None:
        for _ in range(int(count)):
            self.harness.tick_all()

    def cmd_rounds(self, count: str = "1") -> None:
        for _ in range(int(count)):
            self.harness.tick_all()
            self.harness.stabilize()

    def cmd_propose(self, node: str, data: str) -> None:
        self.harness.propose(int(node), data)

    def cmd_conf(self, node: str, *spec: str) -> None:
        self.harness.propose_conf(int(node), change(" ".join(spec)))

    def cmd_transfer(self, node: str, target: str) -> None:
        self.harness.transfer(int(node), int(target))

    def cmd_read(self, node: str, ctx: str) -> None:
        self.harness.read(int(node), int(ctx))

    def cmd_compact(self, node: str) -> None:
        self.harness.compact(int(node))

    def cmd_crash(self, node: str) -> list[str]:
        self.harness.crash(int(node))
        return [f"{node} restarted from disk"]

    def cmd_cut(self, a: str, b: str) -> None:
        self.harness.cut(int(a), int(b))

    def cmd_isolate(self, node: str) -> None:
        self.harness.isolate(int(node))

    def cmd_heal(self) -> None:
        self.harness.heal()

    def cmd_hold(self, src: str, dst: str) -> None:
        self.harness.hold(int(src), int(dst))

    def cmd_release(self, src: str, dst: str) -> list[str]:
        count = self.harness.release(int(src), int(dst))
        return [f"released {count} message(s) from {src} to {dst}"]

    def cmd_clocks(self) -> list[str]:
        h = self.harness
        return [" ".join(f"{node}@{h.now[node]}" for node in sorted(h.cores))]

    def cmd_deliver(self, count: str = "") -> None:
        self.harness.deliver(int(count) if count else None)

    def cmd_drop(self, count: str = "") -> list[str]:
        h = self.harness
        n = int(count) if count else len(h.mailbox)
        dropped, h.mailbox = h.mailbox[:n], h.mailbox[n:]
        return [f"dropped {message_text(m)}" for m in dropped]

    def cmd_stabilize(self) -> None:
        self.harness.stabilize()

    def cmd_status(self) -> list[str]:
        h = self.harness
        lines = []
        for node in sorted(h.cores):
            c = h.cores[node]
            log = c.log
            lines.append(
                f"{node} {c.role.value:<12} term={c.term} vote={c.vote} lead={c.lead} "
                f"commit={log.committed} applied={log.applied} "
                f"last={log.last_index}/{log.last_term} snap={log.snapshot.index} "
                f"| {c.membership.describe() if c.membership.voters else 'no configuration'}"
            )
            data = h.data_applied(node)
            if data:
                lines.append(f"  applied data: {' '.join(data)}")
        return lines
