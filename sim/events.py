"""The kinds of event on the simulator's queue, as small ints.

Shared by the event loop (cluster.py), which dispatches on them, and the
simulated node (node.py), which schedules its own timer and disk events.
"""

DELIVER, TIMER, DISK, ARRIVE, REPLY, WAKE, FAULT, ACTOR, ACK = range(9)
