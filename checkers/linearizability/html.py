"""A self-contained HTML page that shows a history and its verdict.

One lane per client, one bar per operation from invocation to completion,
a dot at each operation's linearization point (numbered in linearization
order), the first operation that cannot be linearized in red with the
anchor ``#violation``, and the candidates that could not go next in amber.
The page has no external resources (inline CSS and a few lines of JS), so it
can be attached to a bug report or opened from a CI artifact.

The x axis is the *rank* of event times, not the times themselves: bars stay
readable when a few operations take far longer than the rest.  Large
histories are cut to a window of operations around the violation (or the
first operations, when there is none), and the page says so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.linearizability.history import Operation, client_sort_key
from checkers.linearizability.result import ILLEGAL

if TYPE_CHECKING:
    from checkers.linearizability.checker import LinResult

WINDOW = 300
LANE = 30
STEP = 26
LEFT = 90


@dataclass(slots=True, frozen=True)
class _Shown:
    ops: list[Operation]
    points: dict[int, tuple[float, int]]  # op id -> (x rank, step number)
    blocked: int | None
    candidates: set[int]
    needer: int | None
    dropped: dict[int, str]
    note: str


def _select(result: LinResult) -> _Shown:
    """Pick the operations to draw and where their linearization points go."""
    ops = list(result.history.ops)
    violation = next(
        ((p, r) for p, r in zip(result.parts, result.results, strict=True) if r.verdict == ILLEGAL),
        None,
    )
    by_id = {op.id: op for op in ops}
    dropped: dict[int, str] = {}
    for p in result.parts:
        for op, why in p.dropped:
            dropped[op.id] = why
    orders: list[tuple[int, ...]] = []
    blocked: int | None = None
    candidates: set[int] = set()
    needer: int | None = None
    note = ""
    if violation is not None:
        part, res = violation
        blocked = res.blocked
        orders.append(res.prefix)
        for v in result.violations():
            if v.blocked.id == blocked:
                candidates = {c.op.id for c in v.candidates}
                needer = v.needer.id if v.needer is not None else None
        pool = sorted((by_id[op.id] for op in part.ops), key=lambda o: (o.call, o.id))
        pool += [op for op, _ in part.dropped]
        pool.sort(key=lambda o: (o.call, o.id))
        if len(pool) > WINDOW:
            idx = next(i for i, o in enumerate(pool) if o.id == blocked)
            lo = max(0, idx - WINDOW * 2 // 3)
            pool = pool[lo : lo + WINDOW]
            note = (
                f"Showing {len(pool)} operations of {_label(part.key)} around the violation "
                f"(of {part.total:,} on it, {len(ops):,} in the history)."
            )
        elif len(result.parts) > 1:
            note = (
                f"Showing the {len(pool)} operations of {_label(part.key)}, where the violation is."
            )
        shown = pool
    else:
        shown = sorted(ops, key=lambda o: (o.call, o.id))
        if len(shown) > WINDOW:
            shown = shown[:WINDOW]
            note = f"Showing the first {WINDOW} of {len(ops):,} operations."
        orders = [r.order for r in result.results if r.order]
    ids = {o.id for o in shown}
    times = sorted({o.call for o in shown} | {o.ret for o in shown if o.ret is not None})
    rank = {t: float(i) for i, t in enumerate(times)}
    end = float(len(times))
    points: dict[int, tuple[float, int]] = {}
    for order in orders:
        last = -1.0
        for k, oid in enumerate(order, start=1):
            op = by_id[oid]
            call = rank.get(op.call)
            if call is None:
                continue  # outside the window
            x = max(call + 0.1, last + 0.12)
            hi = rank.get(op.ret, end) if op.ret is not None else end
            x = min(x, hi - 0.05) if hi > call else x
            last = x
            if oid in ids:
                points[oid] = (x, k)
    return _Shown(shown, points, blocked, candidates, needer, dropped, note)


def _fit(text: str, width: float) -> str:
    """Cut a label to the bar's width (11px monospace: about 6.6px a character)."""
    room = int(width / 6.6)
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)] + "…" if room > 1 else ""


def _label(key: str) -> str:
    return f"key {key!r}" if key else "the register"


def render_html(result: LinResult) -> str:
    """The page as a string."""
    model = result.model
    sel = _select(result)
    shown = sel.ops
    times = sorted({o.call for o in shown} | {o.ret for o in shown if o.ret is not None})
    rank = {t: i for i, t in enumerate(times)}
    end = len(times)
    clients = sorted({o.client for o in shown}, key=client_sort_key)
    lane = {c: i for i, c in enumerate(clients)}
    width = LEFT + (end + 2) * STEP
    height = 20 + len(clients) * LANE
    parts: list[str] = []
    for c in clients:
        y = 20 + lane[c] * LANE
        parts.append(
            f'<text x="6" y="{y + 18}" class="lane">client {html.escape(str(c))}</text>'
            f'<line x1="{LEFT}" y1="{y + LANE - 2}" x2="{width}" y2="{y + LANE - 2}" '
            'class="grid"/>'
        )
    # An unknown-outcome op stays open for ever, but its client moves on:
    # draw its bar up to the client's next call, and a thin dashed tail after.
    next_call: dict[int, int] = {}
    last_of: dict[int | str, Operation] = {}
    for o in sorted(shown, key=lambda o: (o.call, o.id)):
        prev = last_of.get(o.client)
        if prev is not None and prev.ret is None:
            next_call[prev.id] = o.call
        last_of[o.client] = o
    for o in shown:
        x1 = LEFT + rank[o.call] * STEP
        x2 = LEFT + (rank[o.ret] if o.ret is not None else end + 1) * STEP
        y = 20 + lane[o.client] * LANE
        if o.id in next_call:
            parts.append(
                f'<line x1="{x1}" y1="{y + LANE // 2}" x2="{x2}" y2="{y + LANE // 2}" '
                'class="tail"/>'
            )
            x2 = LEFT + rank[next_call[o.id]] * STEP - 2
        cls = "op"
        if o.id == sel.blocked:
            cls += " blocked"
        elif o.id == sel.needer:
            cls += " needer"
        elif o.id in sel.candidates:
            cls += " candidate"
        elif o.id in sel.dropped:
            cls += " dropped"
        elif o.id in sel.points:
            cls += " placed"
        if o.ret is None:
            cls += " open"
        anchor = ' id="violation"' if o.id == sel.blocked else f' id="op{o.id}"'
        tip = [
            f"#{o.id} client {o.client}: {model.describe_op(o)}",
            f"status {o.status}; lines {o.call_line}-{o.ret_line or '?'}",
            f"time {o.call} .. {o.ret if o.ret is not None else 'open'}",
        ]
        if o.id in sel.dropped:
            tip.append(f"set aside: {sel.dropped[o.id]}")
        if o.id in sel.points:
            tip.append(f"linearization step {sel.points[o.id][1]}")
        label = html.escape(_fit(model.describe_op(o), max(4, x2 - x1) - 4))
        parts.append(
            f'<g class="{cls}"{anchor}><title>{html.escape(chr(10).join(tip))}</title>'
            f'<rect x="{x1}" y="{y + 4}" width="{max(4, x2 - x1)}" height="{LANE - 10}" rx="3"/>'
            f'<text x="{x1 + 3}" y="{y + 17}" class="lbl">{label}</text></g>'
        )
        if o.id in sel.points:
            px, k = sel.points[o.id]
            cx = LEFT + px * STEP
            parts.append(
                f'<g class="pt"><circle cx="{cx:.1f}" cy="{y + 4}" r="3.5"/>'
                f'<text x="{cx + 4:.1f}" y="{y + 2}">{k}</text></g>'
            )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        + "".join(parts)
        + "</svg>"
    )
    verdict = result.verdict
    jump = (
        '<p><a href="#violation" id="jump">jump to violation</a></p>'
        if sel.blocked is not None
        else ""
    )
    rows = "".join(
        f"<tr class='{r.verdict}'><td>{html.escape(repr(r.key))}</td><td>{r.verdict}</td>"
        f"<td>{p.total:,}</td><td>{len(p.dropped):,}</td><td>{r.algorithm}</td>"
        f"<td>{r.elapsed:.2f} s</td><td>{html.escape(r.reason)}</td></tr>"
        for p, r in sorted(
            zip(result.parts, result.results, strict=True),
            key=lambda pr: (pr[1].verdict != ILLEGAL, pr[0].key),
        )[:200]
    )
    note = f"<p class='note'>{html.escape(sel.note)}</p>" if sel.note else ""
    return _PAGE.format(
        title=html.escape(f"Linearizability: {result.history.source}"),
        source=html.escape(result.history.source),
        verdict=verdict,
        verdict_upper=verdict.upper(),
        model=html.escape(model.name),
        nops=f"{len(result.history):,}",
        elapsed=f"{result.elapsed:.2f}",
        jump=jump,
        note=note,
        svg=svg,
        rows=rows,
        report=html.escape(result.explain()),
    )


def write_html(result: LinResult, path: str | Path) -> Path:
    """Write the page for ``result`` to ``path``; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(result), encoding="utf-8")
    return out


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.2em; color: #222; }}
h1 {{ font-size: 1.3em; }}
.verdict {{ font-weight: bold; padding: 2px 8px; border-radius: 4px; }}
.verdict.linearizable {{ background: #d8f3dc; }}
.verdict.not-linearizable {{ background: #ffd6d6; }}
.verdict.unknown {{ background: #fff1c1; }}
.scroll {{ overflow: auto; border: 1px solid #ccc; max-height: 70vh; }}
.lane {{ font: 12px monospace; fill: #555; }}
.grid {{ stroke: #eee; }}
.tail {{ stroke: #bbb; stroke-dasharray: 2 3; }}
.op rect {{ fill: #cfe2ff; stroke: #6c8ebf; }}
.op.placed rect {{ fill: #b6d7a8; stroke: #6a9955; }}
.op.dropped rect {{ fill: #eee; stroke: #bbb; stroke-dasharray: 3 2; }}
.op.open rect {{ stroke-dasharray: 5 3; }}
.op.candidate rect {{ fill: #ffe599; stroke: #bf9000; }}
.op.blocked rect {{ fill: #ff9999; stroke: #c00; stroke-width: 2; }}
.op.needer rect {{ fill: #f4b6c2; stroke: #c00; stroke-dasharray: 4 2; }}
.op.hl rect {{ stroke: #000; stroke-width: 2; }}
.lbl {{ font: 11px monospace; pointer-events: none; }}
.pt circle {{ fill: #000; }}
.pt text {{ font: 9px monospace; fill: #000; }}
table {{ border-collapse: collapse; margin: 0.6em 0; }}
td, th {{ border: 1px solid #ddd; padding: 2px 8px; font-size: 13px; }}
tr.not-linearizable td {{ background: #ffecec; }}
tr.unknown td {{ background: #fff8dc; }}
pre {{ background: #f7f7f7; padding: 0.8em; overflow: auto; }}
.legend span {{ display: inline-block; padding: 0 6px; margin-right: 6px; border: 1px solid #999; }}
</style></head><body>
<h1>Linearizability of <code>{source}</code></h1>
<p><span class="verdict {verdict}">{verdict_upper}</span>
 &nbsp; model <b>{model}</b>, {nops} operations, checked in {elapsed} s</p>
{jump}
<p class="legend"><span style="background:#b6d7a8">linearized</span>
<span style="background:#ff9999">cannot be linearized</span>
<span style="background:#ffe599">candidate that could not go next</span>
<span style="background:#f4b6c2">later operation that needs the value it would overwrite</span>
<span style="background:#eee">set aside (failed / unknown outcome)</span>
<span style="background:#cfe2ff">not reached</span>
&#9679; linearization point, numbered in order; dashed = outcome unknown</p>
{note}
<div class="scroll" id="timeline">{svg}</div>
<h2>Per key</h2>
<table><tr><th>key</th><th>verdict</th><th>ops</th><th>set aside</th><th>search</th>
<th>time</th><th>note</th></tr>{rows}</table>
<h2>Explanation</h2>
<pre>{report}</pre>
<script>
(function () {{
  var jump = document.getElementById('jump');
  var v = document.getElementById('violation');
  if (jump && v) {{
    jump.addEventListener('click', function (e) {{
      e.preventDefault();
      v.scrollIntoView({{block: 'center', inline: 'center'}});
      v.classList.add('hl');
    }});
  }}
  document.querySelectorAll('g.op').forEach(function (g) {{
    g.addEventListener('click', function () {{ g.classList.toggle('hl'); }});
  }});
}})();
</script>
</body></html>
"""
