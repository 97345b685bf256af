"""Snapshots agree with what was committed and applied.

A snapshot stands for a committed prefix of the log: its last index must be
committed, its last term must be the term of the committed entry there, and
the entries a node folds into its own snapshot must be the ones the state
machines applied at those indexes. Otherwise a node that installs it builds
on a prefix nobody agreed on, and the other checkers, which see only the
snapshot's index and term, would follow it.
"""

from __future__ import annotations

from typing import Any

from checkers.base import InvariantChecker
from checkers.model import ClusterModel

Event = dict[str, Any]


class SnapshotAgreement(InvariantChecker):
    """Every snapshot taken or installed covers only committed entries, its
    ``last_term`` is the term of the committed entry at its index, and the
    entries folded into a snapshot are those applied at the same indexes."""

    name = "snapshot-agreement"
    invariant = "Snapshots agree with committed entries"
    actions = frozenset({"apply", "snapshot_take", "snapshot_install"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: index -> (term, crc, who applied it first, seq)
        self.applied: dict[int, tuple[int, int, str, int]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        action, actor = event["act"], event["n"]
        if action == "apply":
            applied = self.applied
            for raw in event.get("entries", ()):
                if raw[0] not in applied:
                    applied[raw[0]] = (raw[1], raw[2], actor, event["seq"])
            return
        index, term = event.get("index", 0), event.get("last_term", 0)
        what = "took" if action == "snapshot_take" else f"installed (from n{event.get('src')})"
        problem = self._against_commits(model, index, term)
        if not problem and action == "snapshot_take":
            problem = self._against_applies(model)
        if problem:
            self.found.add(
                (event["seq"],),
                f"{actor} {what} a snapshot up to index {index} with last term {term}, but "
                f"{problem}. A snapshot must be a prefix of the committed log.",
                (model.describe(actor),),
            )

    def _against_commits(self, model: ClusterModel, index: int, term: int) -> str:
        if index > model.max_committed:
            return f"nothing beyond index {model.max_committed} was ever committed"
        committed = model.committed.get(index)
        if committed is not None and committed[0] != term:
            return f"the entry committed at index {index} has term {committed[0]}"
        first = self.applied.get(index)
        if first is not None and first[0] != term:
            return f"{first[2]} applied entry {index} of term {first[0]} (seq {first[3]})"
        return ""

    def _against_applies(self, model: ClusterModel) -> str:
        for index, term, crc in model.folded:
            first = self.applied.get(index)
            if first is not None and (first[0], first[1]) != (term, crc):
                return (
                    f"it folded in entry {index} of term {term} (crc {crc:08x}) where "
                    f"{first[2]} applied entry {index} of term {first[0]} (crc {first[1]:08x}, "
                    f"seq {first[3]})"
                )
        return ""
