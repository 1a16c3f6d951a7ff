"""Bytes the live UI writes to its terminal, how often its screen changes, and training's speed.

    python benchmarks/bench_bandwidth.py [--seconds 8] [--repeats 3] [--src DIR] [--before DIR]
                                         [--fps N] [--bandwidth KBPS] [--speed N|max]
                                         [--steps N] [NAME ...]

Each scenario's real `dltui run NAME` runs in a 120×40 pty (`benchmarks/ptyrun.py`:
TERM=xterm-256color, COLORTERM=truecolor) for `--seconds` after its first frame; this side reads
everything it writes, as a fast local terminal would, and answers its queries (synchronized
output: yes; dltui's cursor-position probes). Every screen update arrives between
ESC[?2026h … ESC[?2026l: updates/s counts those, "changed/s" the updates after which a `pyte`
screen of the stream looks different, frames/s those that show a new step (pictures of
training, not a header's ⇣ link coming and going), steps/s the header's step counter from the
first update to the last (training's speed under the UI: with `--speed max --steps
1000000000`). Medians of `--repeats`, the scenarios interleaved. `--src DIR`: run the dltui
source tree in DIR instead of this one; `--before DIR`: run DIR's too, each run next to this
one's (a "before": `git archive COMMIT | tar -x -C DIR`, then `ln -s ../scenarios
DIR/dltui/scenarios`). Every built-in scenario by default (MNIST on the 8×8 digits dltui
ships).
"""

from __future__ import annotations

import argparse
import os
import re
import select
import statistics
import time
from itertools import pairwise

import pyte
from ptyrun import SIZE, SYNC_END, answers, spawn, stop

from dltui.registry import builtins

STEP = re.compile(r"step ([\d,]+)/")


def run_once(name: str, seconds: float, src: str | None, extra: list[str]) -> tuple[float, ...]:
    """(KB/s, updates/s, changed screens/s, frames/s, steps/s) of one live run."""
    proc, master = spawn(name, extra, src)
    chunks: list[tuple[float, bytes]] = []
    start = None
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            now = time.monotonic()
            if reply := answers(data):
                os.write(master, reply)
            chunks.append((now, data))
            if start is None and b"step " in data:  # the first frame's header
                start = now + 1.0  # let the first full paint and torch's start settle
                deadline = start + seconds
    finally:
        stop(proc, master)
    if start is None:
        raise RuntimeError(f"{name}: no frame within 60 s")
    screen = pyte.Screen(*SIZE)
    stream = pyte.ByteStream(screen)
    total = updates = changed = 0
    last = None
    steps: list[int] = []  # the step the header shows after each update
    for t, data in chunks:
        inside = start <= t <= deadline
        parts = data.split(SYNC_END)
        for i, part in enumerate(parts):
            stream.feed(part + (SYNC_END if i < len(parts) - 1 else b""))
            if i < len(parts) - 1:
                shown = "\n".join(screen.display)
                if inside:
                    updates += 1
                    changed += shown != last
                    if m := STEP.search(screen.display[0]):
                        steps.append(int(m.group(1).replace(",", "")))
                last = shown
        if inside:
            total += len(data)
    rate = (steps[-1] - steps[0]) / seconds if len(steps) > 1 else 0.0
    frames = sum(a != b for a, b in pairwise(steps))
    return total / seconds / 1024, updates / seconds, changed / seconds, frames / seconds, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(builtins()))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--src", help="a dltui source tree to run instead of this one")
    parser.add_argument("--before", help="also run this dltui source tree, interleaved")
    parser.add_argument("--fps", help="pass --fps N to dltui run")
    parser.add_argument("--bandwidth", help="pass --bandwidth KBPS to dltui run")
    parser.add_argument("--speed", help="pass --speed N|max to dltui run")
    parser.add_argument("--steps", help="pass --steps N to dltui run (with --speed max)")
    args = parser.parse_args()
    extra = []
    for option in ("fps", "bandwidth", "speed", "steps"):
        if getattr(args, option):
            extra += [f"--{option}", getattr(args, option)]
    trees = {"before": args.before, "after": args.src} if args.before else {"": args.src}
    load = os.getloadavg()[0]
    runs: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    for _ in range(args.repeats):
        for name in args.names:
            for tree, src in trees.items():
                runs.setdefault((name, tree), []).append(run_once(name, args.seconds, src, extra))
    print(
        f"load {load:.2f} → {os.getloadavg()[0]:.2f}; {args.seconds:g} s each, medians of "
        f"{args.repeats}{', trees interleaved' if args.before else ''}"
    )
    print(
        f"{'scenario':<12} {'tree':<7} {'KB/s':>7} {'updates/s':>10} {'changed/s':>10} "
        f"{'frames/s':>9} {'KB/update':>10} {'steps/s':>8}"
    )
    for name in args.names:
        for tree in trees:
            kb, ups, changed, frames, rate = (
                statistics.median(c) for c in zip(*runs[(name, tree)])
            )
            per = kb / ups if ups else float("nan")
            print(
                f"{name:<12} {tree:<7} {kb:7.1f} {ups:10.1f} {changed:10.1f} {frames:9.1f} "
                f"{per:10.2f} {rate:8.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
