"""Profiles of the bot process while a benchmark drives it (``python -m bench --profile DIR``).

py-spy samples the running bot from outside (no code change, no restart) and writes collapsed
stacks; :func:`top_functions` turns them into "where did the acknowledgement path spend its time",
which is what the performance notes quote.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# the frames of a Slack request, from waitress's thread to the listener's acknowledgement
ACK_PATH = "SlackRequestHandler.dispatch"
LISTENER = "run_ack_function_asynchronously"


@dataclass(frozen=True)
class Share:
    function: str
    samples: int
    percent: float


def _label(frame: str) -> str:
    """``name (path/file.py:123)`` → ``name (file.py)``: one entry per function, whatever the line."""
    name, sep, where = frame.partition(" (")
    if not sep:
        return frame
    location = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({location.rsplit('/', 1)[-1]})"


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """Collapsed stacks (``frame;frame;… count`` per line, root first) as (frames, samples)."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def top_functions(text: str, *, focus: str | None = None, limit: int = 15) -> list[Share]:
    """Functions by inclusive samples, as a share of the stacks that pass through ``focus``
    (a substring of a frame), or of all stacks."""
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, count in parse_collapsed(text):
        if focus is not None:
            at = next((i for i, f in enumerate(frames) if focus in f), None)
            if at is None:
                continue
            frames = frames[at:]
        total += count
        for label in {_label(f) for f in frames}:
            inclusive[label] += count
    if not total:
        return []
    return [Share(name, n, 100 * n / total) for name, n in inclusive.most_common(limit)]


def render(shares: list[Share], title: str) -> str:
    lines = [title]
    lines += [f"  {s.percent:5.1f}%  {s.function}" for s in shares]
    return "\n".join(lines)


@contextlib.contextmanager
def sampling(pid: int, output: Path, *, rate: int = 100) -> Iterator[None]:
    """Sample ``pid`` with py-spy into ``output`` (collapsed stacks) while the block runs."""
    beside = Path(sys.executable).with_name("py-spy")  # the venv's, when its bin/ is not on PATH
    binary = str(beside) if beside.exists() else shutil.which("py-spy")
    if binary is None:
        log.warning("py-spy is not installed (pip install -e '.[dev]'); no profile taken")
        yield
        return
    cmd = [binary, "record", "-p", str(pid), "-o", str(output), "-f", "raw", "-r", str(rate), "--nonblocking"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
