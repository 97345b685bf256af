"""Counterexample search: draw schedules, judge them, shrink what fails.

Public API::

    result = hunt(HuntConfig(seed=1, budget_s=60, workers=2, unsafe=("no-joint",)))
    if result.found:
        small = shrink(result.found, result.prop, judge)

shapes.py draws the schedules (swarm draws and schedule shapes), judge.py runs
one and names the property it fails, search.py tries them in order across
worker processes, shrink.py makes a failing one small, report.py writes the
counterexample report (text and HTML). docs/hunting.md explains the whole.
"""

from sim.hunt.judge import LINEARIZABILITY, Judgement, judge
from sim.hunt.report import html_report, text_report
from sim.hunt.search import HuntConfig, HuntResult, hunt
from sim.hunt.shapes import SHAPES, draw
from sim.hunt.shrink import Shrunk, shrink

__all__ = [
    "LINEARIZABILITY",
    "SHAPES",
    "HuntConfig",
    "HuntResult",
    "Judgement",
    "Shrunk",
    "draw",
    "html_report",
    "hunt",
    "judge",
    "shrink",
    "text_report",
]
