"""Speed of the gradient-descent scenarios (gd, linreg, multivar) next to their bare lab loops.

    python benchmarks/bench_gd.py [--steps 3000] [--repeats 5]

For each scenario: steps/s of the engine headless (Runner on the CPU, every step's metrics read
for divergence detection, as `dltui run NAME --headless` does) vs the lab's loop as students
write it, and the cost of one frame capture (view(): the curve, the cost surface, the math).
The variants are interleaved and the medians reported: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import optim

from dltui.engine.runner import Runner
from dltui.registry import load

X = [[1.0], [2.0], [3.0]]
QUIZ_X = [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
QUIZ_Y = [[152], [185], [180], [196], [142]]


def lab_gd(steps: int, lr: float = 0.1, clock: Callable[[], float] = time.perf_counter) -> float:
    """The gradient-descent lab, W updated by the formula; prints W and the cost every epoch.
    Returns steps/s."""
    x_train, y_train, W = torch.FloatTensor(X), torch.FloatTensor(X), torch.zeros(1)
    start = clock()
    for _ in range(steps):
        cost = torch.mean((x_train * W - y_train) ** 2)
        gradient = 2 * torch.mean((W * x_train - y_train) * x_train)
        W -= lr * gradient
        W.item(), cost.item()  # the lab prints them
    return steps / (clock() - start)


def lab_sgd(
    x: list,
    y: list,
    w_shape: tuple,
    lr: float,
    steps: int,
    print_every: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """The linear-regression labs with optim.SGD, which print every `print_every` epochs.
    Returns steps/s."""
    x_train, y_train = torch.FloatTensor(x), torch.FloatTensor(y)
    W = torch.zeros(w_shape, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    start = clock()
    for epoch in range(steps):
        hypothesis = x_train.matmul(W) + b if len(w_shape) == 2 else x_train * W + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        if epoch % print_every == 0:  # read what the lab prints
            if len(w_shape) == 2:
                hypothesis.squeeze().tolist(), cost.item()  # lab-04-1: H(X) and the cost
            else:
                W.item(), b.item(), cost.item()  # lab-02: W, b and the cost
    return steps / (clock() - start)


BARE = {  # name -> the bare lab loop at the scenario's default params: (steps, clock) -> steps/s
    "gd": lab_gd,  # lab-03: prints every epoch
    "linreg": lambda n, clock=time.perf_counter: lab_sgd(  # lab-02
        X, X, (1,), 0.01, n, print_every=100, clock=clock
    ),
    "multivar": lambda n, clock=time.perf_counter: lab_sgd(  # lab-04-1
        QUIZ_X, QUIZ_Y, (3, 1), 1e-5, n, print_every=1, clock=clock
    ),
}


def engine_run(name: str, steps: int) -> tuple[float, Runner]:
    """Headless steps/s at the scenario's default params (what `--headless` does), and the
    Runner, for a frame."""
    runner = Runner(load(name), device="cpu", limit=steps)
    start = time.perf_counter()
    runner.step(steps)
    runner.record()
    return steps / (time.perf_counter() - start), runner


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n = args.steps
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n} steps, "
        f"median of {args.repeats}"
    )
    print(
        f"{'scenario':10} {'bare steps/s':>13} {'engine steps/s':>15} {'ratio':>6} {'frame ms':>9}"
    )
    for name, bare in BARE.items():
        r_bare, r_engine, t_frame = [], [], []
        for _ in range(args.repeats):
            r_bare.append(bare(n))
            rate, runner = engine_run(name, n)
            r_engine.append(rate)
            t_frame.append(timed(runner.frame))
        b, e = statistics.median(r_bare), statistics.median(r_engine)
        print(
            f"{name:10} {b:13.0f} {e:15.0f} {e / b:6.2f} {1000 * statistics.median(t_frame):9.2f}"
        )


if __name__ == "__main__":
    main()
