"""How fast a lecture moves to its next scene, with and without a child started ahead.

    python benchmarks/bench_lecture.py [--repeats 5] [--wait 4]

The real app (headless, driven by a pilot) over the course's lecture, each scene's engine in a
child process as `dltui lecture` runs it. For each pair of scenes, PageDown is pressed `--wait`
seconds after the first scene showed (a lecturer talks that long at least), and the time to
the next scene's first frame is taken:
  cold: every scene spawns its child then (import torch, build the run, its start steps);
  warm: `ProcessLinks` as shipped, a spare child started when the scene before showed.
Also: how long the key handler itself holds the UI (switch_link; the old engine closes in a
thread), how long `ProcessLink.close()` would have held it, and a waiting spare's memory.
Cold and warm alternate within each repeat; medians over repeats. The machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from dltui.lecture import load, resolve
from dltui.ui.lecture_app import LectureApp
from dltui.ui.link import ProcessLinks

PAIRS = ((2, 3), (4, 5), (7, 8))
"""(from, to) scene numbers of the course: xor@1000 → xor, gd → gd, vanishing@200 → mnist@15."""


class ColdLinks(ProcessLinks):
    """No spare: each scene's child is spawned when the scene opens."""

    def prepare(self) -> None:
        pass


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def switch(links: ProcessLinks, first: int, wait: float) -> dict[str, float]:
    """Open scene `first` (1-based), wait, press PageDown: the times it took."""
    app = LectureApp(load(resolve("course")), links, first - 1, device="cpu")
    result: dict[str, float] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.frame is None:
                await pilot.pause(0.01)
            await pilot.pause(wait)
            if links.spare is not None:
                result["spare_mb"] = rss_mb(links.spare.process.pid)
            original = app.switch_link

            def timed(link):
                start = time.perf_counter()
                original(link)
                result["handler_ms"] = (time.perf_counter() - start) * 1000

            app.switch_link = timed
            pressed = time.perf_counter()
            await pilot.press("pagedown")
            while app.frame is None or app.index != first:  # `first` is the next, 0-based
                await pilot.pause(0.005)
            result["switch_s"] = time.perf_counter() - pressed
            await pilot.press("q")
    finally:
        app.link.close()
        links.close()
    return result


def close_cost() -> float:
    """Seconds ProcessLink.close() takes on a running xor child (what the handler would wait)."""
    from dltui.protocol import Hello, RunSpec
    from dltui.ui.link import ProcessLink

    link = ProcessLink(RunSpec("xor", device="cpu", steps=10**9))
    while not isinstance(link.recv(), Hello):
        time.sleep(0.01)
    time.sleep(0.5)
    start = time.perf_counter()
    link.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--wait", type=float, default=4.0)
    args = parser.parse_args()
    times: dict[tuple[int, str], list[float]] = {}
    handler, spare = [], []
    for _ in range(args.repeats):
        for first, _to in PAIRS:
            for mode, links in (("cold", ColdLinks()), ("warm", ProcessLinks())):
                result = asyncio.run(switch(links, first, args.wait))
                times.setdefault((first, mode), []).append(result["switch_s"])
                handler.append(result["handler_ms"])
                spare += [result["spare_mb"]] if "spare_mb" in result else []
    print(f"PageDown → the next scene's first frame, median of {args.repeats}")
    print(f"{'scenes':<10} {'cold':>8} {'warm':>8} {'warm ÷ cold':>12}")
    for first, to in PAIRS:
        cold = statistics.median(times[first, "cold"])
        warm = statistics.median(times[first, "warm"])
        print(f"{first} → {to:<5} {cold:>7.2f}s {warm:>7.2f}s {warm / cold:>11.2f}×")
    print(f"the key handler held the UI: median {statistics.median(handler):.1f} ms")
    closes = [close_cost() for _ in range(3)]
    print(f"ProcessLink.close() would have held it: median {statistics.median(closes):.2f} s")
    if spare:
        print(f"a waiting spare child: median {statistics.median(spare):.0f} MB resident")


if __name__ == "__main__":
    main()
