"""Reference stores to compare raftlab with, behind the same HTTP API.

``kv.reference.pysyncobj_server`` is one node of a PySyncObj cluster serving
docs/http-api.md; ``kv.reference.cluster`` starts and stops a local cluster
of them as OS processes (for tests and bench/kv.py).
"""
