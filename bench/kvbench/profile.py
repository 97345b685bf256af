"""Where a node's time goes under load: py-spy samples of one process, folded.

``bench/kv.py --profile`` attaches py-spy (``pip install py-spy``; an
optional tool, not a dependency) to the leader for the length of one load
row, without pausing it (``--nonblocking``). py-spy samples every thread
and drops the samples of threads that are idle (blocked waiting), so what
is left is where the process is busy: running Python, or in a system call
such as fsync. The raw output is one line per distinct stack,
``frame;frame;...;leaf count``, each frame ``function (file:line)``.

``fold`` turns it into the row: the share of busy samples whose innermost
frame lies in each area (the Raft core, traces, the WAL, the HTTP layer,
...), the same counted inclusively (any frame of the stack in the area),
and the top functions by their own samples. C functions (orjson,
``os.fsync``, socket calls) have no frame of their own and count where
they are called from: a WAL line that calls fsync holds the fsync's time.
``busy_threads`` is busy samples per sampling tick: 1.0 is one thread busy
all the time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

#: (area, test on a frame's file path), first match wins; order matters
#: (our packages before the stdlib, waiting before the rest of asyncio).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("consensus (Raft core)", ("consensus/",)),
    ("traces (events, encoding)", ("traces/",)),
    ("kv WAL and snapshots", ("kv/wal", "kv/groupcommit", "kv/snapshots", "kv/files")),
    ("kv peer transport", ("kv/transport", "kv/frames", "kv/netfaults")),
    ("kv HTTP API", ("kv/httpapi/",)),
    ("kv runtime and server", ("kv/",)),
    ("aiohttp", ("aiohttp/", "multidict/", "yarl/")),
    ("grpc (admin API)", ("grpc/", "grpc_")),
    ("pysyncobj", ("pysyncobj/",)),
    ("prometheus metrics", ("prometheus_client/",)),
    ("event loop polling", ("selectors.py",)),
    ("asyncio", ("asyncio/",)),
    # a pool worker's own frame: between tasks (the WAL's fsync runs in the pool but
    # counts as the WAL, its caller's file)
    ("thread pool", ("concurrent/futures/", "threading.py", "queue.py")),
)


def area_of(file: str) -> str:
    normal = "/" + file.replace("\\", "/")
    for area, needles in AREAS:
        if any("/" + n in normal for n in needles):
            return area
    return "python stdlib and other"


def _frame(text: str) -> tuple[str, str]:
    """(function, file) of one frame; unparsable text is its own function."""
    m = _FRAME.match(text.strip())
    return (m["function"], m["file"]) if m else (text.strip(), "")


def fold(raw: str, top: int = 15) -> dict[str, Any]:
    """The profile row's fields from py-spy's raw output."""
    own_area: Counter[str] = Counter()
    any_area: Counter[str] = Counter()
    own_function: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        function, file = frames[-1]
        own_area[area_of(file)] += count
        own_function[f"{function} ({file})"] += count
        for area in {area_of(f) for _, f in frames}:
            any_area[area] += count

    def shares(counter: Counter[str], n: int | None = None) -> dict[str, float]:
        return {k: round(v / total, 4) for k, v in counter.most_common(n)} if total else {}

    return {
        "samples": total,
        "self_by_area": shares(own_area),
        "inclusive_by_area": shares(any_area),
        "top_self": shares(own_function, top),
    }


@dataclass(slots=True)
class Profiler:
    """Starts recordings with one py-spy binary, each into its own file of ``directory``."""

    binary: str
    directory: Path
    rate: int = 200
    made: int = 0

    @classmethod
    def find(cls, directory: Path) -> Profiler | None:
        """py-spy on PATH or beside this Python (a venv's bin/ need not be on PATH)."""
        beside = Path(sys.executable).parent / "py-spy"
        binary = shutil.which("py-spy") or (str(beside) if beside.exists() else None)
        return None if binary is None else cls(binary, directory)

    def start(self, pid: int, seconds: float) -> Recording:
        self.made += 1
        out = self.directory / f"profile-{self.made}.txt"
        return Recording.start(self.binary, pid, seconds, out, self.rate)


@dataclass(slots=True)
class Recording:
    """One py-spy run on ``pid`` into ``out``; ``result()`` waits and folds."""

    process: subprocess.Popen[bytes]
    out: Path
    log: Path
    seconds: int  #: py-spy takes whole seconds
    rate: int  #: samples per second

    @classmethod
    def start(cls, binary: str, pid: int, seconds: float, out: Path, rate: int = 100) -> Recording:
        log = out.with_suffix(".log")
        whole = max(1, round(seconds))
        cmd = [
            binary, "record", "--pid", str(pid), "--duration", str(whole),
            "--rate", str(rate), "--format", "raw", "--nonblocking", "-o", str(out),
        ]  # fmt: skip
        with log.open("wb") as sink:
            process = subprocess.Popen(cmd, stdout=sink, stderr=sink)
        return cls(process, out, log, whole, rate)

    def result(self, timeout: float) -> dict[str, Any]:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return {"error": f"py-spy did not finish in {timeout:g} s; see {self.log}"}
        if self.process.returncode != 0 or not self.out.exists():
            tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
            return {"error": f"py-spy exited with {self.process.returncode}: {tail[0]}"}
        folded = fold(self.out.read_text(errors="replace"))
        return {"busy_threads": round(folded["samples"] / (self.seconds * self.rate), 3), **folded}
