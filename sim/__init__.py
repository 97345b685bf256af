"""Deterministic cluster simulation: virtual time, a seeded network, crashes,
clients and membership changes, all driven from one seed.

Public API::

    stats = Simulation(SimConfig(nodes=5, seed=7), sink=recorder, actor=actor).run()

See cluster.py for the theory of operation (each node is the production
node runtime, kv/runtime.py, on the ports of node.py), profiles.py for the fault
profiles, membership.py for membership actors and workload.py for clients.
"""

from sim.cluster import SimConfig, SimStats, Simulation, raft_config_for
from sim.membership import (
    ClusterView,
    MembershipActor,
    NoActor,
    RandomActor,
    ScriptedActor,
    ScriptError,
    load_script,
)
from sim.profiles import PROFILES, FaultProfile, get_profile
from sim.workload import WorkloadConfig

__all__ = [
    "PROFILES",
    "ClusterView",
    "FaultProfile",
    "MembershipActor",
    "NoActor",
    "RandomActor",
    "ScriptError",
    "ScriptedActor",
    "SimConfig",
    "SimStats",
    "Simulation",
    "WorkloadConfig",
    "get_profile",
    "load_script",
    "raft_config_for",
]
