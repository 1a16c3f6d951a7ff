"""Time travel's costs: a step back, training with checkpoints on vs off, memory of a long run.

    python benchmarks/bench_timetravel.py [--repeats 3] [--only xor,gd] [--long 1000000]

For each scenario (CPU, one torch thread, as bench_headless):
  back      a step back as the UI asks for it: `Controller.handle(Back(1))` and the `frame()` that
            is sent for it (what the screen then draws), after training `N` steps, pressed 30
            times at random points of the run; p50 and p90 in ms (the UI's own drawing of that
            frame comes on top: 10-40 ms at 120x40, see bench_render.py);
  speed     steps/s of `runner.step(N)` with checkpoints (the default 256 MB budget) and with
            `checkpoint_mb=0`, alternating (A B, B A) in one process; the ratio of the medians.
`--long K`: xor for K steps with time travel on, then the checkpoints' bytes as counted and the
process's growth (resident memory), the history's bytes, and how many checkpoints are kept; then a step back from the end and a jump to step 1 (both exact).
The machine is shared: read the load average printed before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import torch

from dltui.engine.control import Controller
from dltui.engine.runner import Runner
from dltui.protocol import Back
from dltui.registry import load
from dltui.scenario.params import Params

CASES = {  # name -> (--set assignments, steps trained before going back, steps timed)
    "xor": ((), 3000, 3000),
    "gd": ((), 10, 10),
    "optimizers": ((), 300, 300),
    "vanishing": ((), 300, 300),
    "overfit": ((), 600, 600),
    "mnist": (("dataset=digits",), 150, 150),
}


def runner(name: str, sets: tuple[str, ...], mb: float = 256) -> Runner:
    cls = load(name)
    params = Params(cls.params)
    for assignment in sets:
        params.set_text(assignment)
    return Runner(cls, params, device="cpu", limit=10**7, checkpoint_mb=mb)


def back_latency(name: str, sets: tuple[str, ...], trained: int) -> tuple[float, float]:
    ctl = Controller(runner(name, sets), playing=False)
    ctl.runner.step(trained)
    rng = random.Random(0)
    times = []
    for _ in range(30):
        ctl.runner.goto(rng.randint(trained // 2, trained))  # somewhere in the run
        ctl.frame()
        start = time.perf_counter()
        ctl.handle(Back(1))
        ctl.frame()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.9 * len(times))] * 1e3


def speed(name: str, sets: tuple[str, ...], steps: int, mb: float) -> float:
    r = runner(name, sets, mb)
    r.step(5)  # warm up
    start = time.perf_counter()
    r.step(steps)
    r.record()
    return steps / (time.perf_counter() - start)


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def long_run(steps: int) -> None:
    r = runner("xor", ())
    before = rss()
    start = time.perf_counter()
    r.step(steps)
    took = time.perf_counter() - start
    print(
        f"xor {steps:,} steps in {took:.0f} s: {len(r.travel.items)} checkpoints, "
        f"{r.travel.nbytes / 2**20:.2f} MB counted (budget {r.travel.budget / 2**20:.0f} MB), "
        f"the process grew {(rss() - before) / 2**20:.1f} MB; "
        f"history {r.history.nbytes() / 2**20:.2f} MB"
    )
    end = r.record()
    t = time.perf_counter()
    r.back(1)
    back = time.perf_counter() - t
    t = time.perf_counter()
    r.goto(1)
    first = time.perf_counter() - t
    straight = runner("xor", ())
    straight.step(1)
    print(
        f"  back 1 from the end: {back * 1e3:.1f} ms; to step 1: {first * 1e3:.1f} ms, "
        f"exact: {r.record() == straight.record()}; the end's loss {end['loss']:.6g}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--long", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"load average {os.getloadavg()[0]:.2f}")
    only = [n for n in args.only.split(",") if n] or list(CASES)
    print("| scenario | back p50 | back p90 | steps/s off | steps/s on | on ÷ off |")
    print("|---|---|---|---|---|---|")
    for name in only:
        sets, trained, steps = CASES[name]
        p50, p90 = back_latency(name, sets, trained)
        off, on = [], []
        for i in range(args.repeats):
            pair = (("off", 0), ("on", 256)) if i % 2 == 0 else (("on", 256), ("off", 0))
            for label, mb in pair:
                (off if label == "off" else on).append(speed(name, sets, steps, mb))
        a, b = statistics.median(off), statistics.median(on)
        print(
            f"| {name} | {p50:.1f} ms | {p90:.1f} ms | {a:,.0f} | {b:,.0f} | **{b / a:.2f}×** |",
            flush=True,
        )
    if args.long:
        long_run(args.long)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
