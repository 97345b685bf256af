"""Steps from an ITF document that raftlab exported (``raftlab export --format
itf``), so that ``raftlab spec check`` reads ITF traces as well as raftlab's
own: each ITF state becomes the ``SpecStep`` the export wrote it from (the
variables of ``traces.export.itf.VARIABLES``). A round-trip test holds this:
``itf_state`` of every rebuilt step is the state read back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from traces.export.itf import NODE_FIELDS, STEP_FIELDS, VARIABLES
from traces.export.steps import NodeView, SpecStep
from traces.itf import ItfError, ItfTrace


def itf_steps(trace: ItfTrace, where: str = "<itf>") -> Iterator[SpecStep]:
    """One ``SpecStep`` per ITF state; ``ItfError`` naming the state for a
    document that is not in the shape raftlab's export writes."""
    missing = [name for name in VARIABLES if name not in trace.vars]
    if missing:
        raise ItfError(f"{where}: not a raftlab ITF export: no variable(s) {', '.join(missing)}")
    views: dict[int, NodeView] = {}
    for index, state in enumerate(trace.states):
        try:
            yield _step(state, views)
        except (KeyError, TypeError, AttributeError) as error:
            raise ItfError(
                f"{where}: at states[{index}]: not a raftlab ITF state ({error})"
            ) from None


def _step(state: Mapping[str, Any], views: dict[int, NodeView]) -> SpecStep:
    configs = state["config"]
    nodes: dict[int, NodeView] = {}
    for node in sorted(configs):
        conf = configs[node]
        fields = {field: state[name][node] for name, field in NODE_FIELDS.items()}
        rebuilt = NodeView(
            **fields,
            voters=frozenset(conf["voters"]),
            outgoing=frozenset(conf["outgoing"]),
            learners=frozenset(conf["learners"]),
            learners_next=frozenset(conf["learnersNext"]),
            auto_leave=bool(conf["autoLeave"]),
        )
        earlier = views.get(node)
        # keep the earlier object while the node's state is the same (the
        # spec check tells "unchanged" by identity)
        nodes[node] = views[node] = earlier if earlier == rebuilt else rebuilt
    step = state["step"]
    return SpecStep(
        seq=step["seq"],
        t=step["t"],
        node=step["node"],
        act=step["act"],
        msg_type=step["msgType"],
        msg_from=step["msgFrom"],
        nodes=nodes,
        running=frozenset(state["running"]),
        # an export older than the message fields has none: no message is known
        **{f: step[name] for name, f in STEP_FIELDS.items() if name in step and name in _MSG},
    )


#: The ITF step fields beyond msgType and msgFrom (which every export has).
_MSG = frozenset(STEP_FIELDS) - {"msgType", "msgFrom"}
