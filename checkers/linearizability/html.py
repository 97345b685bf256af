"""A self-contained HTML page that shows a history and its verdict.

One lane per client, one bar per operation from invocation to completion,
a dot at each operation's linearization point (numbered in linearization
order), the first operation that cannot be linearized in red with the
anchor ``#violation``, and the candidates that could not go next in amber.
The page has no external resources, so it can be attached to a bug report
or opened from a CI artifact.

Why the drawing is done by a few lines of JavaScript from embedded JSON:
every operation must stay reachable (a 100k-operation history drawn as SVG
up front is tens of megabytes), so the page holds the operations as data,
one *view* per key (every failing key first, and an all-keys view coloured
by key for small histories), and draws one page of a view at a time.  A key
selector, page buttons and a zoom choose what is drawn; client names stay
pinned at the left while the timeline scrolls; labels are never cut short
(a bar too narrow for its label shows it on hover, and zooming widens
bars); hovering an operation shows the value before and after its
linearization point, or why a candidate could not go next.  The x axis is
the *rank* of event times (long operations do not squash the rest), with
the real times written along the top.  What the page draws is decided
here, in Python, and tested; the script only lays it out.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.linearizability.history import Operation, client_sort_key
from checkers.linearizability.report import plural
from checkers.linearizability.result import ILLEGAL, SKIPPED

if TYPE_CHECKING:
    from checkers.linearizability.checker import LinResult
    from checkers.linearizability.model import Model

#: Operations drawn at once (one page of a view).
PAGE = 300
#: The all-keys view is offered up to this many operations.
ALL_KEYS_LIMIT = 3000


@dataclass(slots=True, frozen=True)
class View:
    """One selectable drawing: a key's operations (or all keys'), in call order."""

    key: str | None  # None: every key
    title: str
    verdict: str
    ops: list[list[object]]  # see _op_row
    start_page: int


def _label(key: str) -> str:
    return f"key {key!r}" if key else "the register"


def _op_row(
    op: Operation,
    model: Model,
    cls: str,
    tip: list[str],
    step: int,
    key_index: int,
) -> list[object]:
    """``[id, client, call, ret, label, class, tooltip, step, key index]`` (ret -1: open)."""
    return [
        op.id,
        str(op.client),
        op.call,
        -1 if op.ret is None else op.ret,
        model.describe_op(op),
        cls,
        "\n".join(tip),
        step,
        key_index,
    ]


def views(result: LinResult) -> list[View]:
    """What the page can draw: failing keys first, then the others, then all keys."""
    model = result.model
    by_id = {op.id: op for op in result.history.ops}
    violations = {v.key: v for v in result.violations()}
    keys = [p.key for p in result.parts]
    key_index = {k: i for i, k in enumerate(keys)}
    out: list[View] = []
    rows_all: list[tuple[Operation, list[object]]] = []
    order = sorted(
        zip(result.parts, result.results, strict=True),
        key=lambda pr: (pr[1].verdict != ILLEGAL, pr[0].key),
    )
    for part, res in order:
        v = violations.get(part.key)
        placed = res.prefix if v is not None else (res.order or ())
        # The value before and after each placed operation, replaying the order.
        steps: dict[int, tuple[int, str, str]] = {}
        state = model.init()
        for k, oid in enumerate(placed, start=1):
            op = by_id[oid]
            ok, nxt = model.step(state, op)
            after = nxt if ok else state
            steps[oid] = (k, model.describe_state(state), model.describe_state(after))
            state = after
        reasons = {c.op.id: c.reason for c in v.candidates} if v is not None else {}
        dropped = {op.id: why for op, why in part.dropped}
        ops = sorted([*part.ops, *(op for op, _ in part.dropped)], key=lambda o: (o.call, o.id))
        rows: list[list[object]] = []
        start = 0
        for i, op in enumerate(ops):
            tip = [
                f"#{op.id} client {op.client}: {model.describe_op(op)}",
                f"{op.status}; lines {op.call_line}-{op.ret_line or '?'}; "
                f"time {op.call} .. {op.ret if op.ret is not None else 'open'}",
            ]
            cls = "op"
            step = 0
            if op.id in steps:
                step, before, after = steps[op.id]
                tip.append(f"linearization step {step}: value {before} before, {after} after")
                cls += " placed"
            if v is not None and op.id == v.blocked.id:
                cls = "op blocked"
                start = i // PAGE
                tip.append(f"cannot be linearized; the value is then {v.state}")
                if op.id in reasons:
                    tip.append(reasons[op.id])
            elif v is not None and v.needer is not None and op.id == v.needer.id:
                cls = "op needer"
                tip.append(f"its result is impossible: {v.needer_why}")
            elif op.id in reasons:
                cls = "op candidate"
                tip.append(f"could not go next (the value is {v.state if v else '?'}):")
                tip.append(reasons[op.id])
            elif op.id in dropped:
                cls = "op dropped"
                tip.append(f"set aside: {dropped[op.id]}")
            if op.ret is None:
                cls += " open"
            row = _op_row(op, model, cls, tip, step, key_index[part.key])
            rows.append(row)
            rows_all.append((op, row))
        verdict = "not searched" if res.algorithm == SKIPPED else res.verdict
        out.append(
            View(
                key=part.key,
                title=f"{_label(part.key)}: {verdict}, {plural(len(ops), 'operation')}",
                verdict=verdict,
                ops=rows,
                start_page=start,
            )
        )
    if len(out) > 1 and len(rows_all) <= ALL_KEYS_LIMIT:
        rows_all.sort(key=lambda r: (r[0].call, r[0].id))
        out.append(
            View(
                key=None,
                title=f"all {plural(len(out), 'key')}, coloured by key",
                verdict=result.verdict,
                ops=[[*row[:7], 0, row[8]] for _op, row in rows_all],
                start_page=0,
            )
        )
    return out


def render_html(result: LinResult) -> str:
    """The page as a string."""
    model = result.model
    vs = views(result)
    data = {
        "views": [
            {
                "title": v.title,
                "verdict": v.verdict,
                "ops": v.ops,
                "start": v.start_page,
                "all": v.key is None,
            }
            for v in vs
        ],
        "page": PAGE,
        "clients": [str(c) for c in sorted(result.history.clients, key=client_sort_key)],
    }
    options = "".join(
        f'<option value="{i}">{html.escape(v.title)}</option>' for i, v in enumerate(vs)
    )
    violation = result.verdict == ILLEGAL
    jump = '<p><a href="#violation" id="jump">jump to violation</a></p>' if violation else ""
    rows = "".join(
        f"<tr class='{r.verdict}'><td>{html.escape(repr(r.key))}</td>"
        f"<td>{'not searched' if r.algorithm == SKIPPED else r.verdict}</td>"
        f"<td>{p.total:,}</td><td>{len(p.dropped):,}</td><td>{r.algorithm}</td>"
        f"<td>{r.elapsed:.2f} s</td><td>{html.escape(r.reason)}</td></tr>"
        for p, r in sorted(
            zip(result.parts, result.results, strict=True),
            key=lambda pr: (pr[1].verdict != ILLEGAL, pr[0].key),
        )
    )
    # JSON inside <script>: "</" must not end the element.
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return _PAGE.format(
        title=html.escape(f"Linearizability: {result.history.source}"),
        source=html.escape(result.history.source),
        verdict=result.verdict,
        verdict_upper=result.verdict.upper(),
        model=html.escape(model.name),
        nops=plural(len(result.history), "operation"),
        elapsed=f"{result.elapsed:.2f}",
        jump=jump,
        options=options,
        rows=rows,
        report=html.escape(result.explain()),
        data=payload,
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
.controls {{ margin: 0.5em 0; }}
.controls > * {{ margin-right: 0.8em; }}
.scroll {{ overflow: auto; border: 1px solid #ccc; max-height: 70vh; }}
.row {{ display: flex; width: max-content; }}
.lanes {{ position: sticky; left: 0; z-index: 2; background: #fff;
  border-right: 1px solid #ccc; font: 12px monospace; color: #555; }}
.lanes div {{ height: 30px; line-height: 30px; padding: 0 8px; white-space: nowrap; }}
.lanes .axis {{ height: 20px; line-height: 20px; }}
.grid {{ stroke: #eee; }}
.tick {{ stroke: #ddd; }}
.ticklbl {{ font: 10px monospace; fill: #777; }}
.tail {{ stroke: #bbb; stroke-dasharray: 2 3; }}
.op rect {{ fill: #cfe2ff; stroke: #6c8ebf; }}
.op.placed rect {{ fill: #b6d7a8; stroke: #6a9955; }}
.op.dropped rect {{ fill: #eee; stroke: #bbb; stroke-dasharray: 3 2; }}
.op.open rect {{ stroke-dasharray: 5 3; }}
.op.candidate rect {{ fill: #ffe599; stroke: #bf9000; }}
.op.blocked rect {{ fill: #ff9999; stroke: #c00; stroke-width: 2; }}
.op.needer rect {{ fill: #f4b6c2; stroke: #c00; stroke-dasharray: 4 2; }}
.op.hl rect {{ stroke: #000; stroke-width: 3; }}
.lbl {{ font: 11px monospace; pointer-events: none; }}
.pt circle {{ fill: #000; }}
.pt text {{ font: 9px monospace; fill: #000; }}
#tip {{ position: fixed; display: none; background: #fffbe6; border: 1px solid #999;
  padding: 4px 8px; font: 12px monospace; white-space: pre; z-index: 5; pointer-events: none; }}
table {{ border-collapse: collapse; margin: 0.6em 0; }}
td, th {{ border: 1px solid #ddd; padding: 2px 8px; font-size: 13px; }}
tr.not-linearizable td {{ background: #ffecec; }}
tr.unknown td {{ background: #fff8dc; }}
pre {{ background: #f7f7f7; padding: 0.8em; overflow: auto; }}
.legend span {{ display: inline-block; padding: 0 6px; margin-right: 6px; border: 1px solid #999; }}
</style></head><body>
<h1>Linearizability of <code>{source}</code></h1>
<p><span class="verdict {verdict}">{verdict_upper}</span>
 &nbsp; model <b>{model}</b>, {nops}, check time {elapsed} s (parsing excluded;
 the per-key times below are each key's share of it)</p>
{jump}
<p class="legend"><span style="background:#b6d7a8">linearized</span>
<span style="background:#ff9999">cannot be linearized</span>
<span style="background:#ffe599">candidate that could not go next</span>
<span style="background:#f4b6c2">operation whose result is impossible</span>
<span style="background:#eee">set aside (failed / unknown outcome, before the search)</span>
<span style="background:#cfe2ff">not reached</span>
&#9679; linearization point, numbered in order; dashed = outcome unknown;
hover a bar for its values</p>
<div class="controls">
<label>View <select id="view">{options}</select></label>
<button id="prev">&larr; earlier</button><span id="range"></span>
<button id="next">later &rarr;</button>
<label>Zoom <select id="zoom"><option>18</option><option selected>28</option>
<option>44</option><option>70</option><option>110</option></select> px per event</label>
</div>
<div class="scroll" id="timeline"><div class="row"><div class="lanes" id="lanes"></div>
<div id="canvas"></div></div></div>
<div id="tip"></div>
<h2>Per key</h2>
<table><tr><th>key</th><th>verdict</th><th>operations</th><th>set aside</th><th>search</th>
<th>search time</th><th>note</th></tr>{rows}</table>
<h2>Explanation</h2>
<pre>{report}</pre>
<script id="data" type="application/json">{data}</script>
<script>
(function () {{
  var D = JSON.parse(document.getElementById('data').textContent);
  var sel = document.getElementById('view'), zoom = document.getElementById('zoom');
  var canvas = document.getElementById('canvas'), lanes = document.getElementById('lanes');
  var tip = document.getElementById('tip'), range = document.getElementById('range');
  var LANE = 30, TOP = 20, page = 0;
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {{
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function view() {{ return D.views[+sel.value]; }}
  function draw() {{
    var v = view(), step = +zoom.value;
    var pages = Math.max(1, Math.ceil(v.ops.length / D.page));
    page = Math.max(0, Math.min(page, pages - 1));
    var ops = v.ops.slice(page * D.page, (page + 1) * D.page);
    range.textContent = ' operations ' + (ops.length ? page * D.page + 1 : 0) + '-' +
      (page * D.page + ops.length) + ' of ' + v.ops.length + ' (page ' + (page + 1) +
      ' of ' + pages + ') ';
    var ts = {{}};
    ops.forEach(function (o) {{ ts[o[2]] = 1; if (o[3] >= 0) ts[o[3]] = 1; }});
    var times = Object.keys(ts).map(Number).sort(function (a, b) {{ return a - b; }});
    var rank = {{}};
    times.forEach(function (t, i) {{ rank[t] = i; }});
    var end = times.length;
    var clients = D.clients.filter(function (c) {{
      return ops.some(function (o) {{ return o[1] === c; }});
    }});
    var lane = {{}};
    clients.forEach(function (c, i) {{ lane[c] = i; }});
    lanes.innerHTML = '<div class="axis">time</div>';
    clients.forEach(function (c) {{
      var d = document.createElement('div'); d.textContent = 'client ' + c; lanes.appendChild(d);
    }});
    var width = (end + 2) * step, height = TOP + clients.length * LANE;
    var svg = el('svg', {{width: width, height: height}});
    var every = Math.max(1, Math.ceil(60 / step));
    for (var i = 0; i < end; i += every) {{
      svg.appendChild(el('line', {{x1: i * step, y1: TOP - 4, x2: i * step, y2: height,
        'class': 'tick'}}));
      svg.appendChild(el('text', {{x: i * step + 2, y: 12, 'class': 'ticklbl'}}, times[i]));
    }}
    clients.forEach(function (c, i) {{
      var y = TOP + i * LANE + LANE - 2;
      svg.appendChild(el('line', {{x1: 0, y1: y, x2: width, y2: y, 'class': 'grid'}}));
    }});
    var nextCall = {{}}, lastOf = {{}};
    ops.forEach(function (o) {{
      var p = lastOf[o[1]];
      if (p && p[3] < 0) nextCall[p[0]] = o[2];
      lastOf[o[1]] = o;
    }});
    var pts = ops.filter(function (o) {{ return o[7] > 0; }})
      .sort(function (a, b) {{ return a[7] - b[7]; }});
    var px = {{}}, last = -1;
    pts.forEach(function (o) {{
      var call = rank[o[2]], hi = o[3] >= 0 ? rank[o[3]] : end;
      var x = Math.max(call + 0.15, last + 0.12);
      if (hi > call) x = Math.min(x, hi - 0.05);
      last = x; px[o[0]] = x;
    }});
    var found = null;
    ops.forEach(function (o) {{
      var y = TOP + lane[o[1]] * LANE;
      var x1 = rank[o[2]] * step, x2 = (o[3] >= 0 ? rank[o[3]] : end + 1) * step;
      if (o[0] in nextCall) {{
        svg.appendChild(el('line', {{x1: x1, y1: y + 15, x2: x2, y2: y + 15, 'class': 'tail'}}));
        x2 = rank[nextCall[o[0]]] * step - 2;
      }}
      var w = Math.max(4, x2 - x1);
      var g = el('g', {{'class': o[5], id: o[5].indexOf('blocked') >= 0 ? 'violation' :
        'op' + o[0]}});
      var r = el('rect', {{x: x1, y: y + 4, width: w, height: LANE - 10, rx: 3}});
      if (view().all && o[5] === 'op placed') {{
        r.setAttribute('style', 'fill:hsl(' + (o[8] * 67 % 360) + ',60%,80%)');
      }}
      g.appendChild(r);
      var room = Math.floor((w - 6) / 6.6);
      if (room >= o[4].length) g.appendChild(el('text', {{x: x1 + 3, y: y + 17,
        'class': 'lbl'}}, o[4]));
      else if (room >= 8) g.appendChild(el('text', {{x: x1 + 3, y: y + 17, 'class': 'lbl'}},
        o[4].slice(0, room - 1) + '\\u2026'));
      g.addEventListener('mousemove', function (e) {{
        tip.textContent = o[6]; tip.style.display = 'block';
        tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
      }});
      g.addEventListener('mouseleave', function () {{ tip.style.display = 'none'; }});
      g.addEventListener('click', function () {{ g.classList.toggle('hl'); }});
      svg.appendChild(g);
      if (o[0] in px) {{
        var cx = px[o[0]] * step;
        var pt = el('g', {{'class': 'pt'}});
        pt.appendChild(el('circle', {{cx: cx, cy: y + 4, r: 3.5}}));
        pt.appendChild(el('text', {{x: cx + 4, y: y + 2}}, o[7]));
        svg.appendChild(pt);
      }}
      if (o[5].indexOf('blocked') >= 0) found = g;
    }});
    canvas.innerHTML = '';
    canvas.appendChild(svg);
    return found;
  }}
  function show(i, p) {{ sel.value = i; page = p; return draw(); }}
  function toViolation() {{
    for (var i = 0; i < D.views.length; i++) {{
      if (D.views[i].verdict === 'not-linearizable') {{
        var g = show(i, D.views[i].start);
        if (g) {{ g.classList.add('hl'); g.scrollIntoView({{block: 'center', inline: 'center'}}); }}
        return;
      }}
    }}
  }}
  sel.addEventListener('change', function () {{ page = view().start; draw(); }});
  zoom.addEventListener('change', draw);
  document.getElementById('prev').addEventListener('click', function () {{ page--; draw(); }});
  document.getElementById('next').addEventListener('click', function () {{ page++; draw(); }});
  var jump = document.getElementById('jump');
  if (jump) jump.addEventListener('click', function (e) {{ e.preventDefault();
    history.replaceState(null, '', '#violation'); toViolation(); }});
  window.addEventListener('hashchange', function () {{
    if (location.hash === '#violation') toViolation();
  }});
  if (D.views.length) {{
    page = D.views[0].start; draw();
    if (location.hash === '#violation') toViolation();
  }}
}})();
</script>
</body></html>
"""
