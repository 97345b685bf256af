"""raftlab: run, break and verify Raft clusters.

This package is the command line and the experiment runner; it composes the
other top-level packages (``consensus``, ``traces``, ``sim``, ``checkers``)
and is the only one allowed to import all of them.
"""

__version__ = "0.1.0"
