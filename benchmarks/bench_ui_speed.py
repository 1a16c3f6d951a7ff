"""Training speed under the live UI vs headless, for every built-in scenario, side by side.

    python benchmarks/bench_ui_speed.py [--seconds 4] [--repeats 3] [--threads N] [--device D]
                                        [NAME ...]

For each scenario, at `--speed max`: (a) the headless Runner in this process, steps/s over
`--seconds`; (b) the real Textual app (headless terminal, 120×40) driving the engine in its
child process, steps/s as its frames report them over the same time. The ratio (b)/(a) is what
issue 11 asks to keep ≥ 0.9×: frames must not throttle training. Medians of `--repeats`,
interleaved, and the range of the ratios of each headless/live pair. MNIST runs on the 8×8
digits dltui ships (no dataset download here).
Both sides train on the threads `dltui run` gives the scenario (its `threads`: one for the
small ones, torch's default for the CNN); `--threads N` gives torch N threads on both sides.
`--device cuda` trains on the GPU on both sides (on a CPU the CNN and the UI share the cores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from dltui.protocol import RunSpec
from dltui.registry import builtins
from dltui.ui.app import DltuiApp
from dltui.ui.link import ProcessLink

SETS = {"mnist": ("dataset=digits",)}


THREADS: int | None = None
DEVICE = "cpu"


def spec(name: str) -> RunSpec:
    return RunSpec(
        name, SETS.get(name, ()), device=DEVICE, speed=None, steps=10**9, threads=THREADS
    )


def headless(name: str, seconds: float) -> float:
    from dltui.engine.control import build_runner, threads_of

    with threads_of(spec(name)) as run:  # the threads the engine's child gives it
        runner = build_runner(run)
        return _rate(runner, seconds)


def _rate(runner, seconds: float) -> float:
    runner.step(5)  # warm up
    start, first = time.perf_counter(), runner.step_count
    while time.perf_counter() - start < seconds and not runner.done:
        runner.step(20)
    runner.record()
    return (runner.step_count - first) / (time.perf_counter() - start)


async def live(name: str, seconds: float) -> tuple[float, int, float]:
    """Steps/s the live app's frames report, how many frames it drew, and the UI process's CPU
    seconds over the same time."""
    app = DltuiApp(ProcessLink(spec(name)))
    frames = 0
    async with app.run_test(size=(120, 40)) as pilot:
        # asyncio.sleep, not pilot.pause: that walks every widget and forces a screen update,
        # which 50 times a second took 5–10 % of a core in the UI's process, the measure's own
        while app.frame is None or app.frame.step < 5:
            await asyncio.sleep(0.02)
        t0, s0, c0 = time.perf_counter(), app.frame.step, time.process_time()
        seen = app.frame
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(0.02)
            if app.frame is not seen:
                seen, frames = app.frame, frames + 1
        t1, s1, c1 = time.perf_counter(), app.frame.step, time.process_time()
        await pilot.press("q")
    return (s1 - s0) / (t1 - t0), frames, c1 - c0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=list(builtins()))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu", help="cuda: where the CNN should be measured")
    args = parser.parse_args()
    # torch only here, not at the top: the engine's spawned child imports this file as its
    # __main__ first, and should load torch where `dltui run`'s does, in child.main, after
    # anything it sets for torch's threads (OMP_WAIT_POLICY was once measured wrong this way).
    import torch

    global THREADS, DEVICE
    THREADS, DEVICE = args.threads, args.device
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.device}, threads: {args.threads or 'each scenario its own'}, "
        f"{args.seconds:g} s a measure, median of {args.repeats}"
    )
    print(
        f"{'scenario':<11} {'headless/s':>11} {'live UI/s':>10} {'ratio':>6} {'frames/s':>9} "
        f"{'UI CPU':>7} {'ratio range':>12}"
    )
    for name in args.names:
        a, b, f, c = [], [], [], []
        for _ in range(args.repeats):
            a.append(headless(name, args.seconds))
            rate, frames, cpu = asyncio.run(live(name, args.seconds))
            b.append(rate)
            f.append(frames / args.seconds)
            c.append(cpu / args.seconds)
        ha, lb = statistics.median(a), statistics.median(b)
        print(
            f"{name:<11} {ha:>11,.0f} {lb:>10,.0f} {lb / ha:>5.2f}× {statistics.median(f):>9.1f} "
            f"{statistics.median(c):>6.0%} "
            f"{min(y / x for x, y in zip(a, b)):>6.2f}–{max(y / x for x, y in zip(a, b)):.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
