"""Frames per second of the optimizer race at full speed, against a bare torch.optim loop.

One "race frame" = Runner.step() (all six racers) + Runner.frame() + the field2d, line, table
and text renderers at the sizes the 120×40 screen gives them. The reference is the same six
torch.optim optimizers stepped on the same landscape in a plain loop, no scenario, no frames.
Reported: medians over several runs, and their ratio (how many bare steps one frame costs).

    python benchmarks/bench_optimizers.py [--landscape ravine] [--frames 300] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from dltui.engine.runner import Runner
from dltui.registry import load
from dltui.render import render
from dltui.scenario.params import Params
from dltui.scenarios.landscapes import LANDSCAPES
from dltui.scenarios.optimizers import NAMES, make_optimizer

# Content sizes of the panels on a 120×40 screen (field2d 2 rows tall; table 2 columns wide).
SIZES = {"field2d": (62, 22), "line": (56, 9), "text": (56, 9), "table": (116, 9)}


def race_frames(landscape: str, frames: int) -> float:
    """Seconds per frame: step, capture, render every panel."""
    race = load("optimizers")
    params = Params(race.params)
    params["landscape"] = landscape
    run = Runner(race, params, device="cpu", limit=10**9)
    panels = run.scenario.layout()
    t0 = time.perf_counter()
    for _ in range(frames):
        run.step(1)
        frame = run.frame()
        for panel in panels:
            render(panel.kind, frame.panels[panel.key], *SIZES[panel.kind], panel.options)
    return (time.perf_counter() - t0) / frames


def bare_steps(landscape: str, steps: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds per step of the six optimizers in a plain torch loop."""
    ls = LANDSCAPES[landscape]
    ws = [torch.tensor(ls.start, dtype=torch.float64, requires_grad=True) for _ in NAMES]
    opts = [make_optimizer(n, w, ls.lrs[n]) for n, w in zip(NAMES, ws)]
    t0 = clock()
    for _ in range(steps):
        for w, opt in zip(ws, opts):
            opt.zero_grad()
            ls(w[0], w[1]).backward()
            opt.step()
    return (clock() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landscape", default="ravine", choices=tuple(LANDSCAPES))
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    race_frames(args.landscape, 20)  # warm up (imports, plotext, grid cache)
    bare_steps(args.landscape, 20)
    frame_s = statistics.median(race_frames(args.landscape, args.frames) for _ in range(args.runs))
    bare_s = statistics.median(bare_steps(args.landscape, args.frames) for _ in range(args.runs))
    print(f"landscape {args.landscape}, {args.frames} frames × {args.runs} runs (medians)")
    print(
        f"race, step + frame + render at 120×40: {frame_s * 1e3:7.2f} ms  = "
        f"{1 / frame_s:7.1f} frames/s"
    )
    print(
        f"bare torch.optim loop, 6 optimizers:   {bare_s * 1e3:7.3f} ms  = "
        f"{1 / bare_s:7.1f} steps/s"
    )
    print(f"ratio frame / bare step: {frame_s / bare_s:.1f}×")


if __name__ == "__main__":
    main()
