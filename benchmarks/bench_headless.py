"""Every built-in scenario headless, side by side with the bare PyTorch loop of its lab.

    python benchmarks/bench_headless.py [--repeats 5] [--threads 1] [--scale 1] [--only xor,gd]
                                        [--clock wall|cpu]

For each scenario, steps/s of
  bare      the lab's loop as students write it: the same model, data, optimizer and seed, no
            metrics beyond what the lab prints (the loops of bench_core, bench_gd,
            bench_vanishing, bench_optimizers and bench_mnist, imported from there);
  headless  what `dltui run NAME --headless` does: `Runner(load(NAME), params, device="cpu",
            limit=N)`, `runner.step(N)`, `runner.record()` at the end (every step's metrics read
            for divergence detection; lazy display-only metrics computed once, for the record).
Only the training loop is timed: building the model and loading the data are outside on both
sides, as is the one view() that the CLI checks after step 1. The two sides alternate (A B, then
B A) in one process. Reported: the medians over `--repeats` and their ratio, and the median
and range of the ratios of adjacent pairs (a pair shares the machine's load of the moment, so
on a busy machine its median is the steadier figure). mnist runs on scikit-learn's 8×8 digits
(`--set dataset=digits`, 15 batches of 100 an epoch): the real MNIST is not on these machines
(bench_mnist.py measures it).

Both sides run with the same `torch.set_num_threads` (default 1: the models here are tiny, and
on a 2-core machine shared with other work torch's second thread makes them many times slower;
`--threads 2` to measure what a quiet machine gives by default). `--clock cpu` times by this
process's CPU time instead of the wall clock; `--split` adds the scenario's step() alone, to
tell the scenario's share of a gap from the engine's. The load average is printed before and after:
compare ratios from quiet runs only.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import bench_core
import bench_gd
import bench_mnist
import bench_optimizers
import bench_vanishing
import torch

from dltui.engine.runner import Runner
from dltui.registry import load
from dltui.scenario.params import Params

GOAL = {"xor": 0.95, "gd": 0.95, "vanishing": 0.95}  # issue 10
MNIST_SETS = ("dataset=digits",)
Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}
CPU = torch.device("cpu")


@dataclass(frozen=True)
class Case:
    name: str
    steps: int
    """Steps per timed run at --scale 1 (~0.2–1 s a side on a 2-core CPU)."""
    bare: Callable[..., float]
    """The lab's loop: (steps, clock=...) -> steps/s."""
    sets: tuple[str, ...] = ()
    """`--set` assignments for the headless run (the bare loop matches them)."""


def gate(name: str) -> Callable[..., float]:
    """The perceptron labs: one neuron for and/or/nand, the 2-2-1 MLP for xor."""
    cls = load(name)
    hidden = next(p.default for p in cls.params if p.name == "hidden")
    return lambda n, clock: bench_core.bare_lab_loop(n, cls.targets, hidden, clock=clock)


def optimizers_bare(steps: int, clock: Clock) -> float:
    """Six torch.optim racers on the scenario's default landscape."""
    landscape = next(p.default for p in load("optimizers").params if p.name == "landscape")
    return 1 / bench_optimizers.bare_steps(landscape, steps, clock=clock)


@cache
def mnist_batches() -> int:
    """Batches per epoch of the mnist scenario on digits."""
    args = argparse.Namespace(dataset="digits", epochs=1, amp="off")
    return bench_mnist.make_runner(args, CPU).scenario.batches_per_epoch


def mnist_bare(steps: int, clock: Clock) -> float:
    """The lab's CNN loop on the same device-resident data, a test evaluation per epoch."""
    batches = mnist_batches()
    epochs = max(1, steps // batches)
    args = argparse.Namespace(dataset="digits", epochs=epochs, amp="off")
    return batches / bench_mnist.bare(args, CPU, clock=clock)


CASES = (
    *(Case(name, 2000, gate(name)) for name in ("and", "or", "nand", "xor")),
    Case("gd", 10000, bench_gd.BARE["gd"]),
    Case("linreg", 3000, bench_gd.BARE["linreg"]),
    Case("multivar", 3000, bench_gd.BARE["multivar"]),
    Case("optimizers", 300, optimizers_bare),
    Case("vanishing", 500, bench_vanishing.bare_loop),
    Case("mnist", 15, mnist_bare, MNIST_SETS),  # one epoch of digits
)


def build(case: Case, steps: int) -> Runner:
    cls = load(case.name)
    params = Params(cls.params)
    for assignment in case.sets:
        params.set_text(assignment)
    return Runner(cls, params, device="cpu", limit=steps)


def headless(case: Case, steps: int, clock: Clock) -> float:
    """Steps/s of the engine as `dltui run NAME --headless` drives it."""
    runner = build(case, steps)
    gc.collect()
    start = clock()
    runner.step(steps)
    record = runner.record()
    rate = steps / (clock() - start)
    if runner.step_count != steps or record.get("diverged"):
        raise RuntimeError(f"{case.name}: stopped at step {runner.step_count} of {steps}")
    return rate


def step_alone(case: Case, steps: int, clock: Clock) -> float:
    """Steps/s of the scenario's own step() in a plain loop: the lab code and the metrics it
    returns (tensors, or callables that nobody calls), without the engine's reads and history."""
    scenario = build(case, steps).scenario
    gc.collect()
    start = clock()
    for _ in range(steps):
        scenario.step()
    return steps / (clock() - start)


def rate(steps_per_s: float) -> str:
    return f"{steps_per_s:,.0f}" if steps_per_s >= 100 else f"{steps_per_s:.1f}"


def bare(case: Case, steps: int, clock: Clock) -> float:
    gc.collect()
    return case.bare(steps, clock=clock)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for both sides")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every step count")
    ap.add_argument("--only", default="", help="comma list of scenarios (default: all)")
    ap.add_argument(
        "--clock",
        default="wall",
        choices=tuple(CLOCKS),
        help="wall: time.perf_counter; cpu: this process's CPU time (steadier on a shared "
        "machine with --threads 1; steps per CPU-second)",
    )
    ap.add_argument(
        "--split",
        action="store_true",
        help="also time the scenario's step() alone: is the gap the scenario's or the engine's?",
    )
    args = ap.parse_args()
    clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    cases = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    if args.only and (unknown := set(args.only.split(",")) - {c.name for c in cases}):
        ap.error(f"--only: no such scenario {', '.join(sorted(unknown))}")
    batches = mnist_batches()
    steps = {
        c.name: max(batches, round(c.steps * args.scale) // batches * batches)
        if c.name == "mnist"
        else max(1, round(c.steps * args.scale))
        for c in cases
    }
    load1 = os.getloadavg()[0]
    started = time.perf_counter()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs, "
        f"{args.clock} clock, median of {args.repeats}, load average {load1:.2f} at the start"
    )
    for case in cases:  # warm-up: imports, allocator, kernels
        n = max(1, steps[case.name] // 5)
        bare(case, n, clock)
        headless(case, n, clock)
    variants = [bare, headless, step_alone] if args.split else [bare, headless]
    rates = {c.name: {v: [] for v in variants} for c in cases}
    for r in range(args.repeats):
        order = variants[::-1] if r % 2 else variants  # A B, B A, …
        for case in cases:
            for variant in order:
                rates[case.name][variant].append(variant(case, steps[case.name], clock))
    print(
        f"{'scenario':11} {'steps':>6} {'bare steps/s':>13} {'headless steps/s':>17} "
        f"{'ratio':>6}  {'pair ratios: median (range)':<27} goal"
    )
    for case in cases:
        b, h = rates[case.name][bare], rates[case.name][headless]
        pairs = [y / x for x, y in zip(b, h)]
        ratio = statistics.median(h) / statistics.median(b)
        goal = GOAL.get(case.name)
        verdict = f"≥ {goal:.2f} {'met' if ratio >= goal else 'MISSED'}" if goal else ""
        label = case.name + (" *" if case.sets else "")
        print(
            f"{label:11} {steps[case.name]:6} {rate(statistics.median(b)):>13} "
            f"{rate(statistics.median(h)):>17} {ratio:5.2f}×  {statistics.median(pairs):4.2f}× "
            f"({min(pairs):4.2f}–{max(pairs):4.2f}){'':10} {verdict}"
        )
    if args.split:
        print(
            f"\n{'scenario':11} {'step() alone/s':>14} {'step() / bare':>14} "
            f"{'headless / step()':>18}  (medians of the adjacent ratios)"
        )
        for case in cases:
            b, h, s = (rates[case.name][v] for v in variants)
            print(
                f"{case.name:11} {rate(statistics.median(s)):>14} "
                f"{statistics.median(y / x for x, y in zip(b, s)):13.2f}× "
                f"{statistics.median(y / x for x, y in zip(s, h)):17.2f}×"
            )
    if any(c.sets for c in cases):
        print(f"* mnist: --set {' '.join(MNIST_SETS)} (the real MNIST is not on disk)")
    print(
        f"load average {os.getloadavg()[0]:.2f} at the end; "
        f"{time.perf_counter() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
