"""Unsafe modes: named switches that plant a classic consensus bug in the core.

They exist so that raftlab can show, not just claim, that its checkers catch
real bugs: each mode reproduces one mistake that implementations have made
or that the literature warns about, and one checker (judging from the
trace's evidence, never from the core's word) must flag it. Every mode is off
by default; ``RaftConfig.unsafe`` names the ones switched on, and the trace
header records them, so a trace says whether it was made by a sabotaged core.

The core reads ``config.unsafe`` once, in ``RaftCore.__init__``, into plain
booleans; with no mode on it behaves exactly as without this module.
docs/unsafe-modes.md gives each mode's reference and the command that shows
the checker catching it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class UnsafeMode:
    name: str
    bug: str
    """What the core does wrong with this mode on."""
    reference: str
    caught_by: str
    """The checker that flags it (``linearizability`` for stale reads)."""


LEARNER_EARLY_VOTE = UnsafeMode(
    "learner-early-vote",
    "Learners are treated as voters for elections and commits: a candidate asks them for "
    "votes, they grant them, and their acknowledgements count toward the commit quorum, "
    "before they have caught up and before any promotion of theirs is committed.",
    "Ongaro's thesis, section 4.2.1 (non-voting members); etcd-io/raft learners",
    "learners-never-vote",
)
NO_JOINT = UnsafeMode(
    "no-joint",
    "A change of several voters with transition 'auto' is applied directly, with no joint "
    "configuration in between: the old and new majorities need not overlap.",
    "Raft paper (Ongaro and Ousterhout 2014), section 6 and Figure 10",
    "conf-transitions",
)
COMMIT_OLD_TERM = UnsafeMode(
    "commit-old-term",
    "A leader commits an entry of an earlier term as soon as a majority holds it, "
    "instead of only entries of its own term; such an entry can still be overwritten.",
    "Raft paper, section 5.4.2 and Figure 8",
    "own-term-commit",
)
VOLATILE_VOTE = UnsafeMode(
    "volatile-vote",
    "The vote is never written to disk (the hard state is persisted with no vote), and "
    "a vote response is not held back for it: a node that restarts has forgotten whom "
    "it voted for and can vote a second time in the same term.",
    "Raft paper, Figure 2 (votedFor is persistent state)",
    "vote-once",
)
CONFIG_BEFORE_NOOP = UnsafeMode(
    "config-before-noop",
    "A new leader accepts a membership change before it has committed an entry of its own "
    "term, so the change can be based on a configuration that a later leader overwrites.",
    "Diego Ongaro, 'bug in single-server membership changes', raft-dev, July 2015",
    "conf-after-own-commit",
)
LEASE_WITHOUT_CHECKQUORUM = UnsafeMode(
    "lease-without-checkquorum",
    "Lease reads are served by a leader that does not check its quorum: the core behaves "
    "as without CheckQuorum (a leader never steps down for lack of a quorum, followers "
    "keep no promise to a leader they just heard from) yet, like a lease read that counts "
    "on CheckQuorum to bound the lease, takes being leader for holding the lease. A "
    "deposed leader cut off from the cluster goes on answering reads from its own state, "
    "and they are stale.",
    "Ongaro's thesis, section 6.4.1; etcd-io/raft ReadOnlyLeaseBased requires CheckQuorum",
    "linearizability",
)

CATALOG: tuple[UnsafeMode, ...] = (
    LEARNER_EARLY_VOTE,
    NO_JOINT,
    COMMIT_OLD_TERM,
    VOLATILE_VOTE,
    CONFIG_BEFORE_NOOP,
    LEASE_WITHOUT_CHECKQUORUM,
)

#: The names of every unsafe mode, in documentation order.
MODES: tuple[str, ...] = tuple(mode.name for mode in CATALOG)


def unknown_modes(names: tuple[str, ...]) -> list[str]:
    """The names in ``names`` that are not unsafe modes, in the order given."""
    return [name for name in names if name not in MODES]
