"""Invariants of membership changes (Ongaro's thesis, chapter 4).

These catch the classic mistakes: two changes in flight at once (the
single-server change bug), decisions taken in a joint configuration with
only one of its majorities, learners voting or counting toward a quorum,
and a node campaigning while it has committed but unapplied changes.
"""

from __future__ import annotations

from typing import Any

from checkers.base import InvariantChecker
from checkers.model import ClusterModel
from traces.schema import actor_node

Event = dict[str, Any]


class SingleChangePending(InvariantChecker):
    """A leader appends a configuration change only when every earlier change
    in its log is applied: at most one change is ever pending."""

    name = "single-change-pending"
    invariant = "At most one configuration change pending"
    actions = frozenset({"append"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        if node.role != "leader":
            return
        # The step that appends may itself have applied the previous change
        # (automatic leave of a joint configuration), so read it after the step.
        applied = model.after_step(actor, "applied") or 0
        log = node.log
        for index, _, _, conf in model.appended:
            if not conf:
                continue
            for earlier in range(max(applied, log.snap) + 1, index):
                if log.is_conf(earlier):
                    self.found.add(
                        (event["seq"],),
                        f"leader {actor} appended a configuration change at index {index} "
                        f"while the change at index {earlier} was not yet applied (applied "
                        f"index {applied}). With two changes in flight, two configurations "
                        "whose majorities need not overlap can both decide.",
                        (model.describe(actor),),
                    )
                    return


class JointQuorum(InvariantChecker):
    """Every election and every commit decision is backed by a majority of
    the voters, and in a joint configuration by a majority of *both* the
    incoming and the outgoing voters; learners never count."""

    name = "joint-quorum"
    invariant = "Decisions need a majority of every voter set"
    actions = frozenset({"become_leader", "commit"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        if event["act"] == "commit":
            if "support" not in event:
                return  # a follower learning the commit index from its leader
            support, what = event["support"], f"committed index {event.get('index')}"
            basis = "acknowledged by"
        else:
            support, what = event.get("votes", []), f"became leader of term {event['term']}"
            basis = "with votes from"
        actor = event["n"]
        config = model.node(actor).config
        ok, why = config.has_quorum(support)
        if ok:
            return
        learners = sorted(set(support) & config.learners)
        counted = f" It counted learner(s) {', '.join(map(str, learners))}." if learners else ""
        self.found.add(
            (event["seq"],),
            f"{actor} {what} {basis} {{{', '.join(map(str, support))}}} in configuration "
            f"{config.describe()}, but {why}.{counted}",
            (model.describe(actor),),
        )


class LearnersNeverVote(InvariantChecker):
    """A node that is not a voter in its own configuration (a learner, or a
    node not yet or no longer a member) never grants a vote or pre-vote."""

    name = "learners-never-vote"
    invariant = "Learners never vote"
    actions = frozenset({"send"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        msg = event.get("msg")
        if not msg or msg.get("type") != "vote_resp" or not msg.get("granted"):
            return
        actor = event["n"]
        node_id = actor_node(actor)
        config = model.node(actor).config
        if node_id is None or config.is_voter(node_id):
            return
        kind = "pre-vote" if msg.get("pre") else "vote"
        status = "a learner" if node_id in config.learners else "not a voter"
        self.found.add(
            (event["seq"],),
            f"{actor} granted its {kind} to n{msg.get('dst')} for term {msg.get('term')} "
            f"although it is {status} in its configuration ({config.describe()}). A vote "
            "from outside the voter set can complete a majority that does not exist.",
            (model.describe(actor),),
        )


class NoCampaignWithUnappliedChanges(InvariantChecker):
    """A node does not start an election while a configuration change at or
    below its commit index is not yet applied: it would campaign under a
    configuration that is already superseded."""

    name = "no-campaign-unapplied-conf"
    invariant = "No campaign with unapplied configuration changes"
    actions = frozenset({"become_precandidate", "become_candidate"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        st = model.state(actor)
        commit, applied = st.get("commit", 0), st.get("applied", 0)
        log = model.node(actor).log
        for index in range(max(applied, log.snap) + 1, min(commit, log.last) + 1):
            if log.is_conf(index):
                self.found.add(
                    (event["seq"],),
                    f"{actor} started an election ({event['act'].removeprefix('become_')}) "
                    f"while the configuration change at index {index} was committed (commit "
                    f"{commit}) but not applied (applied {applied}).",
                    (model.describe(actor),),
                )
                return
