from consensus import Role
from tests.harness import Harness


def test_three_nodes_elect_and_replicate() -> None:
    h = Harness()
    h.elect(1)
    h.propose(1, "a")
    h.propose(1, "b")
    h.stabilize()
    for node in (1, 2, 3):
        assert h.data_applied(node) == ["a", "b"]
    assert h.cores[2].role is Role.FOLLOWER
