"""The counterexample report: text, and a self-contained HTML timeline.

Both show the same selection of the (shrunk) trace, because a full trace is
mostly heartbeats: the moments that explain a consensus bug are elections,
commits (by leaders), configuration changes, crashes, pauses, partitions, and the
violation's own witness events. The window runs from shortly before the
first witness to the last one (the whole run when the failure has no
witness events, as for a non-linearizable history); messages are drawn as
arrows from send to delivery, except heartbeats and their replies.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sim.hunt.judge import Judgement
from sim.schedule import Schedule

Event = dict[str, Any]

#: Node actions worth a mark on the timeline, with their short label.
MARKS = {
    "boot": "boot",
    "restart": "restart",
    "become_candidate": "candidate",
    "become_leader": "LEADER",
    "step_down": "step down",
    "truncate": "truncate",
    "commit": "commit",
    "enter_joint": "enter joint",
    "leave_joint": "leave joint",
    "conf_apply": "conf",
    "snapshot_install": "snapshot",
    "read_ready": "read",
    "lease_read": "lease read",
}
QUIET_MESSAGES = {"heartbeat", "heartbeat_resp", "append_resp"}
#: How far before the first witness the window opens, in microseconds.
LEAD_US = 1_500_000
MAX_ARROWS = 300
#: Listed client operations the report spells out.
MAX_OPERATIONS = 40


@dataclass(slots=True, frozen=True)
class Mark:
    t: int
    seq: int
    lane: int
    """Node id; 0 for the cluster-wide lane (network, controller)."""
    label: str
    kind: str
    witness: bool


def _lane(event: Event) -> int:
    actor = str(event["n"])
    if actor.startswith("n") and actor[1:].isdigit():
        return int(actor[1:])
    node = event.get("node")
    return node if isinstance(node, int) else 0


def _label(event: Event) -> str:
    act = event["act"]
    if act == "become_leader":
        return f"LEADER t{event.get('term')}"
    if act == "commit":
        return f"commit {event.get('index')}"
    if act == "truncate":
        return f"truncate >{event.get('after')}"
    if act == "partition":
        return f"partition {event.get('groups') or (event.get('from'), event.get('to'))}"
    if act == "act":
        return f"ctrl {event.get('do')} {event.get('change') or event.get('node') or ''}"
    if act == "send":
        msg = event.get("msg", {})
        return f"send {msg.get('type')} to n{msg.get('dst')}"
    if act == "recv":
        return f"recv {event.get('in', {}).get('type')}"
    return str(MARKS.get(act, act))


def window(judgement: Judgement) -> tuple[int, int, set[int]]:
    witnesses = {s for v in judgement.violations for s in v.witnesses}
    events = judgement.events
    end_t = int(events[-1]["t"]) if events else 0
    if not witnesses:
        return 0, end_t, witnesses
    times = [int(events[s - 1]["t"]) for s in witnesses if 0 < s <= len(events)]
    return max(0, min(times) - LEAD_US), max(times) + 50_000, witnesses


def marks(judgement: Judgement) -> list[Mark]:
    start, end, witnesses = window(judgement)
    out: list[Mark] = []
    last_commit: dict[int, int] = {}
    for event in judgement.events:
        t, act, seq = int(event["t"]), event["act"], int(event["seq"])
        if not start <= t <= end:
            continue
        witness = seq in witnesses
        if act == "commit" and not witness:
            if "support" not in event:
                continue  # a follower learning a commit: the leader's mark says it
            lane = _lane(event)
            if t - last_commit.get(lane, -(10**9)) < 100_000:
                continue  # one commit mark per node per 100 ms
            last_commit[lane] = t
        notable = act in MARKS or act in ("crash", "pause", "resume", "partition", "heal")
        if act == "act" and event["n"] == "ctrl":
            notable = True
        if notable or witness:
            out.append(Mark(t, seq, _lane(event), _label(event), act, witness))
    return out


def lanes(judgement: Judgement) -> list[int]:
    nodes = {_lane(e) for e in judgement.events if str(e["n"]).startswith("n")}
    return sorted(n for n in nodes if n)


# --------------------------------------------------------------------- text


def text_report(
    judgement: Judgement, prop: str, origin: Schedule, index: int, seed: int, runs: int
) -> str:
    s = judgement.schedule
    modes = "".join(f" --mode {m}" for m in origin.unsafe)
    lines = [
        f"COUNTEREXAMPLE: {prop}",
        "",
        f"Found as schedule {index} of `raftlab hunt --seed {seed}{modes}` "
        f"(shape {origin.shape}); "
        f"shrunk in {runs} runs from weight {origin.weight()} to {s.weight()} "
        f"(faults, membership steps, nodes, clients, client operations, duration: "
        f"{origin.size()} -> {s.size()}); the trace has {len(judgement.events)} events.",
        "",
        "What failed:",
    ]
    for v in judgement.violations:
        if v.invariant == prop:
            lines.append("  " + v.describe().replace("\n", "\n  "))
            break
    if judgement.crash:
        lines.append(f"  {judgement.crash}")
    if judgement.lin_explanation and prop == "linearizability":
        lines.append("  " + judgement.lin_explanation.strip().replace("\n", "\n  "))
    lines += ["", "The schedule:", *("  " + line for line in describe_schedule(s)), ""]
    lines += ["Timeline (per node; !! marks the violation's witness events):"]
    lines += timeline_text(judgement)
    return "\n".join(lines) + "\n"


def describe_schedule(s: Schedule) -> list[str]:
    w = s.workload
    unsafe = f", unsafe modes {', '.join(s.unsafe)}" if s.unsafe else ""
    out = [
        f"{s.nodes} nodes, seed {s.seed}, {s.duration_s:g} s, {s.read_mode} reads{unsafe}",
        f"network: {s.faults.summary()}",
    ]
    if s.operations is None:
        out.append(
            f"clients: {w.clients} at {w.rate:g} ops/s on {w.keys} keys, mix "
            + ", ".join(f"{op} {weight:g}" for op, weight in w.mix)
        )
    else:
        out.append(f"clients: {w.clients}, {len(s.operations)} listed operations")
        out += [f"operation {op.describe()}" for op in s.operations[:MAX_OPERATIONS]]
        if len(s.operations) > MAX_OPERATIONS:
            out.append(f"... {len(s.operations) - MAX_OPERATIONS} more (schedule.json)")
    out += [f"fault {e.describe()}" for e in s.events] or ["no fault events"]
    out += [f"membership {step}" for step in s.membership]
    return out


def timeline_text(judgement: Judgement) -> list[str]:
    nodes = lanes(judgement)
    columns = [0, *nodes]
    width = 26
    head = "  time (s) | " + " | ".join(
        f"{'cluster' if c == 0 else f'n{c}':<{width}}" for c in columns
    )
    rows = [head, "  " + "-" * (len(head) - 2)]
    for mark in marks(judgement):
        cells = [""] * len(columns)
        label = ("!! " if mark.witness else "") + mark.label
        cells[columns.index(mark.lane) if mark.lane in columns else 0] = label[:width]
        rows.append(
            f"  {mark.t / 1e6:8.3f} | " + " | ".join(f"{c:<{width}}" for c in cells).rstrip()
        )
    return rows


# --------------------------------------------------------------------- HTML

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap}
.violation{background:#fee;border-left:4px solid #c00;padding:.5em 1em}
svg text{font-size:11px}
.lane{stroke:#bbb}
.arrow{stroke:#48c;stroke-width:1;marker-end:url(#head);opacity:.6}
.arrow.vote_req,.arrow.vote_resp{stroke:#a5c}
.arrow.snapshot,.arrow.install_snapshot{stroke:#c80}
.mark circle{fill:#555}
.mark.become_leader circle{fill:#2a2}
.mark.crash circle,.mark.pause circle{fill:#000}
.mark.commit circle{fill:#48c}
.mark.conf_apply circle,.mark.enter_joint circle,.mark.leave_joint circle{fill:#c80}
.mark.act circle{fill:#c80}
.mark.witness circle{fill:#d00;r:7}
.mark.witness text{fill:#d00;font-weight:bold}
"""


def html_report(judgement: Judgement, prop: str, text: str) -> str:
    """One page, no external resources: the report text and an SVG timeline."""
    nodes = lanes(judgement)
    columns = [0, *nodes]
    start, end, _ = window(judgement)
    span = max(1, end - start)
    width, left, lane_h = 1400, 90, 70
    height = lane_h * len(columns) + 40

    def x(t: int) -> float:
        return left + (t - start) / span * (width - left - 20)

    def y(lane: int) -> float:
        return 30 + lane_h * (columns.index(lane) if lane in columns else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        '<defs><marker id="head" markerWidth="6" markerHeight="6" refX="6" refY="3" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#48c"/></marker></defs>',
    ]
    for lane in columns:
        name = "cluster" if lane == 0 else f"n{lane}"
        parts.append(
            f'<line class="lane" x1="{left}" y1="{y(lane)}" x2="{width - 20}" y2="{y(lane)}"/>'
            f'<text x="5" y="{y(lane) + 4}">{name}</text>'
        )
    for t_send, t_recv, src, dst, kind in _arrows(judgement, start, end):
        parts.append(
            f'<line class="arrow {kind}" x1="{x(t_send):.1f}" y1="{y(src):.1f}" '
            f'x2="{x(t_recv):.1f}" y2="{y(dst):.1f}"><title>{kind} n{src}->n{dst}</title></line>'
        )
    for i, mark in enumerate(marks(judgement)):
        cls = f"mark {mark.kind}" + (" witness" if mark.witness else "")
        dy = -8 - 11 * (i % 3)
        parts.append(
            f'<g class="{cls}"><circle cx="{x(mark.t):.1f}" cy="{y(mark.lane):.1f}" r="4">'
            f"<title>event {mark.seq} at {mark.t / 1e6:.6f} s</title></circle>"
            f'<text x="{x(mark.t) + 3:.1f}" y="{y(mark.lane) + dy:.1f}">'
            f"{html.escape(mark.label)}</text></g>"
        )
    parts.append(
        f'<text x="{left}" y="{height - 5}">{start / 1e6:.3f} s</text>'
        f'<text x="{width - 90}" y="{height - 5}">{end / 1e6:.3f} s</text></svg>'
    )
    title = html.escape(f"raftlab counterexample: {prop}")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f"<div class='violation'>{html.escape(_violation_line(judgement, prop))}</div>"
        f"<h2>Timeline</h2><p>One lane per node; arrows are messages (heartbeats left out); "
        f"the violation's witness events are red.</p>{''.join(parts)}"
        f"<h2>Report</h2><pre>{html.escape(text)}</pre></body></html>\n"
    )


def _violation_line(judgement: Judgement, prop: str) -> str:
    for v in judgement.violations:
        if v.invariant == prop:
            return f"{prop}: {v.message}"
    return prop


def _arrows(judgement: Judgement, start: int, end: int) -> list[tuple[int, int, int, int, str]]:
    sends: dict[str, tuple[int, int, int, str]] = {}
    out: list[tuple[int, int, int, int, str]] = []
    for event in judgement.events:
        act, t = event["act"], int(event["t"])
        if act == "send" and start <= t <= end:
            msg = event.get("msg", {})
            kind = str(msg.get("type", ""))
            if kind not in QUIET_MESSAGES and not (kind == "append_req" and not msg.get("entries")):
                sends[str(event["mid"])] = (t, int(msg["src"]), int(msg["dst"]), kind)
        elif act == "recv":
            sent = sends.pop(str(event.get("in", {}).get("mid")), None)
            if sent is not None and t <= end:
                out.append((sent[0], t, sent[1], sent[2], sent[3]))
    return out[-MAX_ARROWS:]
