"""Invariants of membership changes (Ongaro's thesis, chapter 4).

These catch the classic mistakes: two changes in flight at once (the
single-server change bug), a new leader changing the configuration before
it committed an entry of its own term (the same bug's other half, raft-dev
2015), decisions taken in a joint configuration with
only one of its majorities, learners voting or counting toward a quorum,
and a node campaigning while it has committed but unapplied changes.
"""

from __future__ import annotations

from typing import Any

from checkers.base import InvariantChecker, NeedsDurability
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


class ConfAfterOwnCommit(InvariantChecker):
    """A leader appends a configuration change only once its commit index
    holds an entry of its own term: until then its log may end in a change
    of an earlier term that a later leader overwrites, and a change built on
    it can leave two configurations whose majorities do not overlap (the
    single-server change bug, raft-dev 2015). Leaving a joint configuration
    is exempt: the joint configuration it leaves is itself applied."""

    name = "conf-after-own-commit"
    invariant = "Leaders change the configuration only after committing in their term"
    actions = frozenset({"append"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        if node.role != "leader" or node.config.joint:
            return
        changes = [index for index, _, _, conf in model.appended if conf]
        if not changes:
            return
        commit_term = node.log.term_at(node.commit)
        if commit_term is None or commit_term == node.term:
            return
        self.found.add(
            (event["seq"],),
            f"{actor}, leader of term {node.term}, appended a configuration change at index "
            f"{changes[0]} while its commit index {node.commit} holds an entry of term "
            f"{commit_term}: no entry of its own term was committed yet, so the configuration "
            "it changes may not be the one that survives.",
            (model.describe(actor),),
        )


class JointQuorum(NeedsDurability):
    """Every election and every commit decision is backed by a majority of
    the voters, and in a joint configuration by a majority of *both* the
    incoming and the outgoing voters; learners never count.

    The backing is rebuilt from the trace, never read from the core's
    ``support`` or ``votes`` lists: a commit of index i by the leader of
    term T counts each node whose successful ``append_resp`` of term T with
    index >= i was delivered to the leader (a ``recv``), and the leader
    itself if index i is on its disk (its own log counts only once durable);
    an election to term T counts each granted, non-PreVote ``vote_resp`` of
    term T delivered to the candidate, and the candidate itself."""

    name = "joint-quorum"
    invariant = "Decisions need a majority of every voter set"
    actions = frozenset({"recv:append_resp", "recv:vote_resp", "commit", "become_leader"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: (leader, term) -> follower -> highest index acknowledged to it.
        self.acks: dict[tuple[str, int], dict[int, int]] = {}
        #: (candidate, term) -> voters whose grants it received.
        self.grants: dict[tuple[str, int], set[int]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        action = event["act"]
        if action == "recv":
            self._delivered(event, model)
        elif action == "commit":
            if model.node(event["n"]).role == "leader":
                self._commit(event, model)
        else:
            self._elected(event, model)

    def _delivered(self, event: Event, model: ClusterModel) -> None:
        msg = model.delivered
        if msg is None:
            return
        kind, actor = msg.get("type"), event["n"]
        if kind == "append_resp" and msg.get("success"):
            acks = self.acks.setdefault((actor, msg["term"]), {})
            src = msg["src"]
            if acks.get(src, -1) < msg["index"]:
                acks[src] = msg["index"]
        elif kind == "vote_resp" and msg.get("granted") and not msg.get("pre"):
            self.grants.setdefault((actor, msg["term"]), set()).add(msg["src"])

    def _commit(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        index = event.get("index", 0)
        acks = self.acks.get((actor, node.term), {})
        others = {f for f, matched in acks.items() if matched >= index and f != node.id}
        in_memory = node.log.term_at(index) is not None or index <= node.log.snap
        durable = index <= node.disk.snap or (
            index <= node.disk.last and node.disk.term_at(index) == node.log.term_at(index)
        )
        what = f"committed index {index} in term {node.term}"
        claimed = event.get("support")
        counted = others | ({node.id} if in_memory else set())
        if not self._judge(event, model, counted, what, claimed):
            return
        if not durable and not node.config.has_quorum(others)[0]:
            # A quorum only with the leader's own copy, which is not durable
            # yet: a violation if the trace shows durability at all.
            self.hold(
                model,
                *self._finding(event, model, others, f"{what} (its own copy not durable)", claimed),
            )

    def _elected(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        voters = self.grants.get((actor, event["term"]), set()) | {node.id}
        what = f"became leader of term {event['term']}"
        self._judge(event, model, voters, what, event.get("votes"))

    def _judge(
        self,
        event: Event,
        model: ClusterModel,
        backing: set[int],
        what: str,
        claimed: Any,
    ) -> bool:
        """Whether ``backing`` is a quorum; if not, report it."""
        config = model.node(event["n"]).config
        if config.has_quorum(backing)[0]:
            return True
        self.found.add(*self._finding(event, model, backing, what, claimed))
        return False

    def _finding(
        self, event: Event, model: ClusterModel, backing: set[int], what: str, claimed: Any
    ) -> tuple[tuple[int, ...], str, tuple[str, ...]]:
        actor = event["n"]
        config = model.node(actor).config
        _, why = config.has_quorum(backing)
        basis = "delivered votes" if "leader of term" in what else "delivered acknowledgements"
        said = counted = ""
        if isinstance(claimed, list):
            said = f" (the node counted {{{', '.join(map(str, claimed))}}})"
            learners = sorted(set(claimed) & config.learners)
            if learners:
                counted = f" It counted learner(s) {', '.join(map(str, learners))}."
        return (
            (event["seq"],),
            f"{actor} {what} backed by {basis} from {{{', '.join(map(str, sorted(backing)))}}}"
            f"{said} in configuration {config.describe()}, but {why}.{counted}",
            (model.describe(actor),),
        )


class ConfTransitions(InvariantChecker):
    """Each applied configuration is a legal step from the node's previous
    one: outside a joint configuration at most one voter changes; entering
    a joint configuration keeps the previous voters as its outgoing half;
    a joint configuration is only ever left, to its incoming voters, with
    the nodes waiting in ``learners_next`` becoming learners; and no node is
    both a voter and a learner."""

    name = "conf-transitions"
    invariant = "Legal configuration transitions"
    actions = frozenset({"conf_apply"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: actor -> (seq of the step, configuration its last conf_apply gave)
        self.within: dict[str, tuple[int, Any]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        earlier = self.within.get(actor)
        if earlier is not None and earlier[0] == event.get("cause"):
            before = earlier[1]
        else:
            before = model.state(actor).get("conf")
        after = event.get("conf")
        self.within[actor] = (event.get("cause", 0), after)
        problem = _transition_problem(_groups(before), _groups(after))
        if problem:
            self.found.add(
                (event["seq"],),
                f"{actor} applied the configuration change at index {event.get('index')} "
                f"going from {_show(before)} to {_show(after)}: {problem}.",
                (model.describe(actor),),
            )


Groups = tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int]]


def _groups(conf: Any) -> Groups:
    """(voters, outgoing, learners, learners_next) of a configuration's JSON."""
    if not isinstance(conf, dict):
        return frozenset(), frozenset(), frozenset(), frozenset()
    return (
        frozenset(conf.get("voters", ())),
        frozenset(conf.get("outgoing", ())),
        frozenset(conf.get("learners", ())),
        frozenset(conf.get("learners_next", ())),
    )


def _transition_problem(before: Groups, after: Groups) -> str:
    voters, outgoing, _, learners_next = before
    new_voters, new_outgoing, new_learners, _ = after
    both = sorted((new_voters | new_outgoing) & new_learners)
    if both:
        return f"node(s) {_ids(both)} would be voter and learner at once"
    if not voters:
        return ""  # the node's previous configuration is unknown (it was joining)
    if outgoing:
        if new_outgoing:
            if after == before:
                return ""
            return "a joint configuration may only be left, not changed into another"
        if new_voters != voters:
            return (
                f"leaving the joint configuration must keep its incoming voters {{{_ids(voters)}}}"
            )
        missing = sorted(learners_next - new_learners)
        if missing:
            return f"leaving the joint configuration must make {_ids(missing)} learner(s)"
        return ""
    if new_outgoing:
        if new_outgoing != voters:
            return (
                f"a joint configuration's outgoing voters must be the previous voters "
                f"{{{_ids(voters)}}}"
            )
        return ""
    changed = sorted(voters ^ new_voters)
    if len(changed) > 1:
        return (
            f"voters {_ids(changed)} changed in one step without a joint configuration, "
            "so the old and new majorities need not overlap"
        )
    return ""


def _ids(nodes: Any) -> str:
    return ",".join(map(str, sorted(nodes)))


def _show(conf: Any) -> str:
    voters, outgoing, learners, learners_next = _groups(conf)
    text = "voters {" + _ids(voters) + "}"
    if outgoing:
        text += " & {" + _ids(outgoing) + "}"
    if learners:
        text += " learners {" + _ids(learners) + "}"
    if learners_next:
        text += " learners_next {" + _ids(learners_next) + "}"
    return text


class LearnersNeverVote(InvariantChecker):
    """A node that is not a voter in its own configuration (a learner, or a
    node not yet or no longer a member) never grants a vote or pre-vote.

    The node decides when the request arrives; the reply may leave later
    (after a write it waits for), when the node's configuration may have
    changed. So a grant is judged by the configuration the node had when it
    last received that candidate's request for that term and kind."""

    name = "learners-never-vote"
    invariant = "Learners never vote"
    actions = frozenset({"send:vote_resp", "recv:vote_req"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: (node, candidate, term, pre) -> whether the node was a voter when
        #: that request last reached it.
        self.asked_as_voter: dict[tuple[str, Any, Any, bool], bool] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node_id = actor_node(actor)
        if event["act"] == "recv":
            request = model.delivered
            if request is not None and node_id is not None:
                key = (actor, request.get("src"), request.get("term"), bool(request.get("pre")))
                self.asked_as_voter[key] = model.node(actor).config.is_voter(node_id)
            return
        msg = event.get("msg")
        if not msg or msg.get("type") != "vote_resp" or not msg.get("granted"):
            return
        config = model.node(actor).config
        if node_id is None or config.is_voter(node_id):
            return
        key = (actor, msg.get("dst"), msg.get("term"), bool(msg.get("pre")))
        if self.asked_as_voter.get(key):
            return  # decided as a voter; the reply left after the change
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
