"""Bytes the live UI writes to its terminal, and how often its screen changes, per scenario.

    python benchmarks/bench_bandwidth.py [--seconds 8] [--repeats 3] [--src DIR] [--fps N]
                                         [--bandwidth KBPS] [NAME ...]

Each scenario's real `dltui run NAME` runs in a pseudo-terminal of 120×40 (TERM=xterm-256color,
COLORTERM=truecolor) for `--seconds` after its first frame; this side reads everything it writes,
as a fast terminal would. It answers Textual's query for synchronized output, so every screen
update arrives between ESC[?2026h … ESC[?2026l: updates/s counts those, and "changed/s" counts the
updates after which a `pyte` screen of the stream looks different (frames someone can see).
Medians of `--repeats`. `--src DIR`: run the dltui source tree in DIR instead of this one
(the "before": a clone at an older commit, with `dltui/scenarios` linked to its `scenarios/`).
MNIST runs on the 8×8 digits dltui ships (no download).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

import pyte

SCENARIOS = ("xor", "gd", "vanishing", "optimizers", "mnist")
SETS = {"mnist": ("--set", "dataset=digits")}
SIZE = (120, 40)
SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"
SYNC_END = b"\x1b[?2026l"


def run_once(name: str, seconds: float, src: str | None, extra: list[str]) -> tuple[float, ...]:
    """(KB/s, updates/s, changed screens/s) of one live run."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("NO_COLOR", None)
    env.pop("SSH_CONNECTION", None)
    if src:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, "-m", "dltui.cli", "run", name, "--device", "cpu", *SETS.get(name, ())]
    proc = subprocess.Popen(
        [*cmd, *extra], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    chunks: list[tuple[float, bytes]] = []
    tail = b""
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
            if SYNC_QUERY in tail + data:
                os.write(master, SYNC_REPLY)
            tail = data[-16:]
            chunks.append((now, data))
            if start is None and b"step " in data:  # the first frame's header
                start = now + 1.0  # let the first full paint and torch's start settle
                deadline = start + seconds
    finally:
        os.write(master, b"q")
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    if start is None:
        raise RuntimeError(f"{name}: no frame within 60 s")
    screen = pyte.Screen(*SIZE)
    stream = pyte.ByteStream(screen)
    total = updates = changed = 0
    last = None
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
                last = shown
        if inside:
            total += len(data)
    return total / seconds / 1024, updates / seconds, changed / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--src", help="a dltui source tree to run instead of this one")
    parser.add_argument("--fps", help="pass --fps N to dltui run")
    parser.add_argument("--bandwidth", help="pass --bandwidth KBPS to dltui run")
    args = parser.parse_args()
    extra = []
    if args.fps:
        extra += ["--fps", args.fps]
    if args.bandwidth:
        extra += ["--bandwidth", args.bandwidth]
    print(f"{'scenario':<12} {'KB/s':>8} {'updates/s':>10} {'changed/s':>10}")
    for name in args.names:
        runs = [run_once(name, args.seconds, args.src, extra) for _ in range(args.repeats)]
        kb, ups, changed = (statistics.median(col) for col in zip(*runs))
        print(f"{name:<12} {kb:8.1f} {ups:10.1f} {changed:10.1f}", flush=True)


if __name__ == "__main__":
    main()
