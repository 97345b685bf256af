"""Who votes, who only listens, and whether we are in a joint configuration.

A ``Membership`` is the configuration a node has *applied* (changes take
effect when their entry is applied, as in etcd-io/raft; see confchange.py).
Node sets are sorted tuples rather than sets so that every iteration over them
is in the same order on every machine and under every PYTHONHASHSEED.

Invariants (checked by ``validate``):
- ``voters`` and ``outgoing`` hold voters; ``outgoing`` is non-empty only in a
  joint configuration, where decisions need a majority of *both*.
- ``learners`` receive the log but never vote or count toward a quorum; a
  learner is never also a voter of either half.
- ``learners_next`` are voters of ``outgoing`` that become learners when the
  joint configuration is left (a demotion cannot make a voter a learner while
  the outgoing half still needs its vote).
"""

from __future__ import annotations

from dataclasses import dataclass

from consensus.errors import ConfChangeError


@dataclass(slots=True, frozen=True)
class Membership:
    voters: tuple[int, ...] = ()
    outgoing: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()
    learners_next: tuple[int, ...] = ()
    auto_leave: bool = False

    @property
    def joint(self) -> bool:
        return bool(self.outgoing)

    def is_voter(self, node: int) -> bool:
        """A voter of either half: may vote, may campaign, counts for quorums."""
        return node in self.voters or node in self.outgoing

    def is_learner(self, node: int) -> bool:
        return node in self.learners or node in self.learners_next

    def all_voters(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.voters) | set(self.outgoing)))

    def members(self) -> tuple[int, ...]:
        """Every node that receives the log, in ascending order."""
        return tuple(
            sorted(
                set(self.voters) | set(self.outgoing) | set(self.learners) | set(self.learners_next)
            )
        )

    def validate(self) -> None:
        for name, group in (
            ("voters", self.voters),
            ("outgoing", self.outgoing),
            ("learners", self.learners),
            ("learners_next", self.learners_next),
        ):
            if list(group) != sorted(set(group)):
                raise ConfChangeError(f"{name} must be sorted and unique, got {group}")
        both = (set(self.voters) | set(self.outgoing)) & set(self.learners)
        if both:
            raise ConfChangeError(f"nodes {sorted(both)} are voters and learners at once")
        if set(self.learners_next) - set(self.outgoing):
            raise ConfChangeError("learners_next must be voters of the outgoing configuration")
        if not self.voters:
            raise ConfChangeError("a configuration needs at least one voter")

    def describe(self) -> str:
        """Short human form, e.g. ``voters 1,2,3 & 1,2,4 learners 5``."""
        text = "voters " + ",".join(map(str, self.voters))
        if self.outgoing:
            text += " & " + ",".join(map(str, self.outgoing))
        if self.learners:
            text += " learners " + ",".join(map(str, self.learners))
        if self.learners_next:
            text += (
                " (learners after leaving joint: " + ",".join(map(str, self.learners_next)) + ")"
            )
        return text

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"voters": list(self.voters)}
        if self.outgoing:
            out["outgoing"] = list(self.outgoing)
        if self.learners:
            out["learners"] = list(self.learners)
        if self.learners_next:
            out["learners_next"] = list(self.learners_next)
        if self.auto_leave:
            out["auto_leave"] = True
        return out

    @staticmethod
    def from_json(obj: dict[str, object]) -> Membership:
        def ids(key: str) -> tuple[int, ...]:
            raw = obj.get(key, [])
            if not isinstance(raw, list) or not all(isinstance(x, int) for x in raw):
                raise ConfChangeError(f"membership field {key!r} must be a list of node ids")
            return tuple(raw)

        return Membership(
            voters=ids("voters"),
            outgoing=ids("outgoing"),
            learners=ids("learners"),
            learners_next=ids("learners_next"),
            auto_leave=bool(obj.get("auto_leave", False)),
        )
