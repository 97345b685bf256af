"""Tunables of the core. Durations are in ticks, the core's only unit of time."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum

from consensus.errors import CoreMisuse
from consensus.unsafe import MODES, unknown_modes


class ReadMode(StrEnum):
    #: Confirm leadership with a heartbeat round per read (always safe).
    INDEX = "index"
    #: Serve reads while a lease holds: a quorum acknowledged a heartbeat sent
    #: less than an election timeout ago, so (with CheckQuorum) no other
    #: leader can exist yet. Assumes bounded clock drift; the rules that make
    #: it safe are in docs/reads.md.
    LEASE = "lease"


@dataclass(slots=True, frozen=True)
class RaftConfig:
    election_ticks: int = 10
    """Minimum election timeout; the actual one is drawn from
    ``[election_ticks, 2 * election_ticks)`` after every reset."""
    heartbeat_ticks: int = 1
    pre_vote: bool = True
    """Campaign only after a pre-vote majority says we could win, so that a
    node rejoining from a partition does not disrupt a healthy leader."""
    check_quorum: bool = True
    """A leader that heard from no quorum within an election timeout steps
    down, and followers ignore vote requests while they hear from a leader."""
    max_entries_per_msg: int = 64
    max_bytes_per_msg: int = 64 * 1024
    max_inflight: int = 16
    """Unacknowledged appends per follower in the replicate state."""
    read_mode: ReadMode = ReadMode.INDEX
    lease_margin_ticks: int = 1
    """Lease shortened by this much to absorb tick quantization and drift
    between the nodes' clocks. Zero is accepted only with
    ``lockstep_clocks``."""
    lockstep_clocks: bool = False
    """Declares that every node's ticks come from one clock (a simulator
    driving all cores from one virtual time), so a lease needs no margin for
    drift. Its only effect is to allow ``lease_margin_ticks = 0``: with real
    clocks a zero margin lets a leader serve a lease read after a follower,
    whose clock runs slightly fast, has already voted a new leader in."""
    unsafe: tuple[str, ...] = ()
    """Names of unsafe modes switched on (``consensus.unsafe.MODES``): each
    plants a known consensus bug so that the checkers can be shown to catch
    it. Empty, the default, for a correct core."""

    def validate(self) -> None:
        self._validate_unsafe()
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            lowest = 0 if f.name == "lease_margin_ticks" else 1
            if value < lowest:
                raise CoreMisuse(f"{f.name} must be at least {lowest}, got {value}")
        if self.heartbeat_ticks >= self.election_ticks:
            raise CoreMisuse(
                f"heartbeat_ticks ({self.heartbeat_ticks}) must be below "
                f"election_ticks ({self.election_ticks})"
            )
        if self.read_mode is ReadMode.LEASE and not self.check_quorum:
            raise CoreMisuse("lease-based reads are only safe with check_quorum on")
        if self.lease_margin_ticks >= self.election_ticks:
            raise CoreMisuse("lease_margin_ticks must be below election_ticks")
        if self.lease_margin_ticks == 0 and not self.lockstep_clocks:
            raise CoreMisuse(
                "lease_margin_ticks = 0 leaves no room for clock drift between nodes; "
                "use at least 1, or set lockstep_clocks = true if all nodes share one clock"
            )

    def _validate_unsafe(self) -> None:
        if not isinstance(self.unsafe, tuple) or not all(isinstance(n, str) for n in self.unsafe):
            raise CoreMisuse(f"unsafe must be a tuple of mode names, got {self.unsafe!r}")
        bad = unknown_modes(self.unsafe)
        if bad:
            raise CoreMisuse(
                f"unknown unsafe mode(s): {', '.join(bad)} (known: {', '.join(MODES)})"
            )
        twice = sorted({n for n in self.unsafe if self.unsafe.count(n) > 1})
        if twice:
            raise CoreMisuse(f"unsafe mode(s) named twice: {', '.join(twice)}")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in asdict(self).items():
            if k == "unsafe":
                # Left out when empty, so that a correct core's trace headers
                # are what they were before unsafe modes existed.
                if v:
                    out[k] = list(v)
            else:
                out[k] = v.value if isinstance(v, StrEnum) else v
        return out

    @staticmethod
    def from_json(obj: dict[str, object]) -> RaftConfig:
        known = {f.name for f in fields(RaftConfig)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise CoreMisuse(f"unknown raft config option(s): {', '.join(unknown)}")
        values = dict(obj)
        if "read_mode" in values:
            values["read_mode"] = ReadMode(str(values["read_mode"]))
        if "unsafe" in values:
            raw = values["unsafe"]
            if not isinstance(raw, list | tuple):
                raise CoreMisuse(f"raft config 'unsafe' must be a list of mode names, got {raw!r}")
            values["unsafe"] = tuple(raw)
        config = RaftConfig(**values)  # type: ignore[arg-type]
        config.validate()
        return config
