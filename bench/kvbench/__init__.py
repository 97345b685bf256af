"""The pieces of ``bench/kv.py``: the stores it measures and how it measures them.

- ``targets``: a running store behind the HTTP API (docs/http-api.md) --
  raftlab's local cluster, the PySyncObj peer, or etcd behind ``etcd``'s
  adapter -- with the few controls a failover trial needs (leader, kill,
  recover) and a row of facts about it (nodes, fsync, trace level).
- ``etcd``: an adapter that serves the HTTP API over etcd's v3 JSON gateway,
  so the one load generator (``kv.loadgen``) drives etcd too; its mapping of
  requests and answers is pure and tested offline.
- ``measure``: one load row (a closed-loop run at N clients) and one
  failover trial (SIGKILL the leader, time the first acknowledged write).
- ``report``: the closing ``summary`` line and the plot.
"""
