"""Event traces: the schema, the recorder, the reader and deterministic replay.

A leaf package: it imports nothing else of raftlab, so that every layer
(consensus included) may use its event types.
"""
