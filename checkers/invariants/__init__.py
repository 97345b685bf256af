"""The invariant checkers: Figure 3 of the Raft paper (safety.py) and the
membership-change invariants (membership.py)."""
