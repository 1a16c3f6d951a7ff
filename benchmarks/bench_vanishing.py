"""Speed of the vanishing scenario next to the bare PyTorch loop it runs.

    python benchmarks/bench_vanishing.py [--steps 1000] [--repeats 5] [--threads N]

(a) headless steps/s of the engine (Runner on the CPU, metrics read every step, as
    `dltui run vanishing --headless` does) vs the bare lab loop: 10 × Linear(32)+Sigmoid, BCE,
    SGD, batch 32 with no per-layer gradient norms or percentiles;
(b) the same with `compare=relu+init=kaiming` (two nets per step) vs two bare loops;
(c) the cost of one frame capture (view(): gradient bars, two decision boundaries, the math).
The variants are interleaved and the medians reported: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from dltui.engine.runner import Runner
from dltui.registry import load
from dltui.scenario.params import Params
from dltui.scenarios.vanishing import DATA_SEED, N_TEST, N_TRAIN, spirals


def bare_loop(steps: int, nets: int = 1, clock: Callable[[], float] = time.perf_counter) -> float:
    """The lab loop as students write it (`nets` models on the same batches); returns steps/s."""
    x, y = (
        torch.tensor(a[:N_TRAIN])
        for a in spirals(N_TRAIN + N_TEST, 0.02, np.random.default_rng(DATA_SEED))
    )
    torch.manual_seed(777)
    models, optimizers = [], []
    for _ in range(nets):
        layers: list[torch.nn.Module] = []
        for fan_in in [2] + [32] * 9:
            layers += [torch.nn.Linear(fan_in, 32), torch.nn.Sigmoid()]
        models.append(torch.nn.Sequential(*layers, torch.nn.Linear(32, 1)))
        optimizers.append(torch.optim.SGD(models[-1].parameters(), lr=0.1))
    batches = torch.Generator().manual_seed(777)
    start, done = clock(), 0
    while done < steps:
        order = torch.randperm(N_TRAIN, generator=batches)
        for i in range(0, N_TRAIN - 31, 32):
            idx = order[i : i + 32]
            for model, optimizer in zip(models, optimizers):
                loss = F.binary_cross_entropy_with_logits(model(x[idx]).squeeze(1), y[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss.item()  # students print or log it
            done += 1
            if done == steps:
                break
    return steps / (clock() - start)


def engine(steps: int, *sets: str) -> tuple[float, float]:
    """Headless engine steps/s and the ms of one frame capture."""
    cls = load("vanishing")
    params = Params(cls.params)
    for assignment in sets:
        params.set_text(assignment)
    runner = Runner(cls, params, device="cpu", limit=steps)
    start = time.perf_counter()
    runner.step(steps)
    runner.record()
    rate = steps / (time.perf_counter() - start)
    start = time.perf_counter()
    runner.frame()
    return rate, 1000 * (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows: dict[str, list[float]] = {k: [] for k in ("bare", "eng", "bare2", "cmp", "frame")}
    for _ in range(args.repeats):
        rows["bare"].append(bare_loop(args.steps))
        rate, _ = engine(args.steps)
        rows["eng"].append(rate)
        rows["bare2"].append(bare_loop(args.steps, nets=2))
        rate, ms = engine(args.steps, "compare=relu+init=kaiming")
        rows["cmp"].append(rate)
        rows["frame"].append(ms)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"torch threads {torch.get_num_threads()}, {args.steps} steps, median of {args.repeats}")
    print(
        f"(a) bare loop {med['bare']:8.0f} steps/s   engine {med['eng']:8.0f} steps/s   "
        f"ratio {med['eng'] / med['bare']:.2f}×"
    )
    print(
        f"(b) bare ×2   {med['bare2']:8.0f} steps/s   compare {med['cmp']:7.0f} steps/s   "
        f"ratio {med['cmp'] / med['bare2']:.2f}×"
    )
    print(f"(c) one frame capture with compare: {med['frame']:.1f} ms")


if __name__ == "__main__":
    main()
