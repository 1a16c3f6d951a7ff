"""The live UI over a simulated slow link: how long a key takes to show, and whether a backlog grows.

    python benchmarks/bench_slowlink.py [--seconds 60] [--kbit 1000] [--delay-ms 100]
                                        [--key-delay-ms 0] [--src DIR] [--bandwidth KBPS] [NAME ...]

Each scenario's real `dltui run NAME --steps 1000000000` runs in a 120×40 pty
(`benchmarks/ptyrun.py`). A relay reads everything it writes, at once, as sshd would, and
passes it on over a simulated line: `--kbit` kbit/s (1 Mbit/s), then `--delay-ms` (100 ms) of
delay, to a `pyte` terminal. The terminal's answers (to Textual's synchronized-output question
and to dltui's cursor-position probes) and the keys go back after `--key-delay-ms` (0: the
delay is on the output, as the issue describes it; 100 for a round trip of 200 ms).

Every 2 s of training the benchmark presses space and waits until the header reads paused,
presses n and waits until the step counter moves on by one, and presses space again and waits
until it reads running: the time from each key press to the update (a synchronized update, as
a terminal that supports them shows it) that shows the new state. It reports the median and
p90 of all three, and every 10 s the bytes queued in the relay (written by the app, not yet
sent over the line): a growing backlog shows there. Also: KB/s and screen updates/s over the line.
`--src DIR` runs another dltui source tree (a "before", see bench_bandwidth.py).
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import select
import statistics
import time
from collections.abc import Callable
from functools import partial

import pyte
from ptyrun import SIZE, SYNC_END, answers, spawn, stop

STEP = re.compile(r"step ([\d,]+)/")


class Line:
    """A FIFO line of `rate` bytes/s and `delay` s: each piece written is delivered once the
    line has sent everything before it and it, plus the delay."""

    def __init__(self, rate: float, delay: float) -> None:
        self.rate, self.delay = rate, delay
        self.free_at = 0.0  # when the line has sent everything given to it
        self.pieces: list[tuple[float, int, bytes]] = []  # (deliver at, order, bytes)
        self._order = 0

    def send(self, data: bytes, now: float) -> None:
        for i in range(0, len(data), 1024):
            piece = data[i : i + 1024]
            self.free_at = max(self.free_at, now) + len(piece) / self.rate
            self._order += 1
            heapq.heappush(self.pieces, (self.free_at + self.delay, self._order, piece))

    def queued(self, now: float) -> int:
        """Bytes not yet sent over the line."""
        return int(max(0.0, self.free_at - now) * self.rate)

    def due(self, now: float) -> bytes:
        out = b""
        while self.pieces and self.pieces[0][0] <= now:
            out += heapq.heappop(self.pieces)[2]
        return out

    def next_at(self) -> float | None:
        return self.pieces[0][0] if self.pieces else None


class Terminal:
    """A pyte screen that shows a synchronized update when it ends."""

    def __init__(self) -> None:
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.ByteStream(self.screen)
        self.replies = b""
        self.screen.write_process_input = lambda data: None  # pyte's answers: see ptyrun
        self.header = ""
        self.updates = 0
        self.bytes = 0

    def feed(self, data: bytes) -> list[str]:
        """Feed delivered bytes; the header line after each update that ended in them."""
        self.bytes += len(data)
        self.replies += answers(data)
        seen = []
        parts = data.split(SYNC_END)
        for i, part in enumerate(parts):
            self.stream.feed(part + (SYNC_END if i < len(parts) - 1 else b""))
            if i < len(parts) - 1:
                self.updates += 1
                self.header = self.screen.display[0]
                seen.append(self.header)
        return seen


def step_of(header: str) -> int | None:
    m = STEP.search(header)
    return int(m.group(1).replace(",", "")) if m else None


def run_once(name: str, args: argparse.Namespace) -> dict:
    extra = ["--steps", "1000000000"]
    if args.bandwidth is not None:
        extra += ["--bandwidth", args.bandwidth]
    proc, master = spawn(name, extra, args.src)
    line = Line(args.kbit * 1000 / 8, args.delay_ms / 1000)
    up: list[tuple[float, bytes]] = []  # (arrives at the app, bytes): keys and answers
    term = Terminal()
    latencies: dict[str, list[float]] = {"pause": [], "step": [], "resume": []}
    queued: list[tuple[float, int]] = []
    start = time.monotonic()
    first = None  # the first update that shows a step
    plan: list[tuple[str, Callable[[str], bool]]] = []
    waiting: tuple[str, float, Callable[[str], bool]] | None = None
    next_key = next_sample = 0.0
    try:
        while True:
            now = time.monotonic()
            if first is not None and now - first > args.seconds + 3:
                break
            if first is None and now - start > 60:
                raise RuntimeError(f"{name}: no frame within 60 s")
            ready, _, _ = select.select([master], [], [], 0.005)
            now = time.monotonic()
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:
                    break
                line.send(data, now)
            for header in term.feed(line.due(now)):
                if first is None and step_of(header) is not None:
                    first = now
                    next_key = next_sample = now + 3  # let the first paint and torch settle
                if waiting and waiting[2](header):
                    latencies[waiting[0]].append(now - waiting[1])
                    waiting = None
            if term.replies:
                up.append((now + args.key_delay_ms / 1000, term.replies))
                term.replies = b""
            while up and up[0][0] <= now:
                os.write(master, up.pop(0)[1])
            if first is None:
                continue
            if now >= next_sample:
                queued.append((now - first, line.queued(now)))
                next_sample += 1.0
            if waiting and now - waiting[1] > 5:
                latencies[waiting[0]].append(float("inf"))  # never showed
                waiting = None
            if waiting is None and now >= next_key and now - first < args.seconds:
                if not plan:
                    plan = cycle(term.header)
                kind, key, test = plan.pop(0)
                waiting = (kind, now, test(term.header))
                up.append((now + args.key_delay_ms / 1000, key))
                next_key = now + (2.0 if not plan else 0.5)
    finally:
        stop(proc, master)
    seconds = max(time.monotonic() - first - 3, 1e-9) if first else 1.0
    return {
        "latencies": latencies,
        "queued": queued,
        "kbps": term.bytes / seconds / 1024,
        "ups": term.updates / seconds,
    }


def cycle(header: str) -> list[tuple[str, bytes, Callable[[str], Callable[[str], bool]]]]:
    """Pause, one step, resume (resume first if the run shows paused): each key, and what
    makes the test its update must pass, from the header shown when the key is pressed."""
    pause = ("pause", b" ", lambda _: lambda h: "paused" in h)
    step = ("step", b"n", lambda now: partial(_moved, base=step_of(now)))
    resume = ("resume", b" ", lambda _: lambda h: "running" in h)
    return [resume, pause, step] if "paused" in header else [pause, step, resume]


def _moved(header: str, base: int | None) -> bool:
    step = step_of(header)
    return step is not None and base is not None and step == base + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["xor", "optimizers", "mnist"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kbit", type=float, default=1000.0)
    parser.add_argument("--delay-ms", type=float, default=100.0)
    parser.add_argument("--key-delay-ms", type=float, default=0.0)
    parser.add_argument("--bandwidth", help="pass --bandwidth KBPS to dltui run")
    parser.add_argument("--src", help="a dltui source tree to run instead of this one")
    args = parser.parse_args()
    print(
        f"line {args.kbit:g} kbit/s, output delay {args.delay_ms:g} ms, keys and answers "
        f"{args.key_delay_ms:g} ms; {args.seconds:g} s each; load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'scenario':<12} {'KB/s':>6} {'upd/s':>6} {'keys':>5} {'p50 ms':>7} {'p90 ms':>7} "
        f"{'max ms':>7}  queued KB every 10 s (max)"
    )
    for name in args.names:
        r = run_once(name, args)
        lat = sorted(v * 1000 for vs in r["latencies"].values() for v in vs)
        p50 = statistics.median(lat) if lat else float("nan")
        p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))] if lat else float("nan")
        series = [q for _, q in r["queued"][9::10]]
        top = max((q for _, q in r["queued"]), default=0)
        trend = " ".join(f"{q / 1024:.0f}" for q in series)
        print(
            f"{name:<12} {r['kbps']:6.1f} {r['ups']:6.1f} {len(lat):5d} {p50:7.0f} {p90:7.0f} "
            f"{lat[-1] if lat else float('nan'):7.0f}  {trend} ({top / 1024:.0f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
