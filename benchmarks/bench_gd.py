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

import torch
from torch import optim

from dltui.engine.runner import Runner
from dltui.scenario.params import Params
from dltui.registry import load

X = [[1.0], [2.0], [3.0]]
QUIZ_X = [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
QUIZ_Y = [[152], [185], [180], [196], [142]]


def lab_gd(steps: int) -> None:
    x_train, y_train, W = torch.FloatTensor(X), torch.FloatTensor(X), torch.zeros(1)
    for _ in range(steps):
        cost = torch.mean((x_train * W - y_train) ** 2)
        gradient = 2 * torch.mean((W * x_train - y_train) * x_train)
        W -= 0.1 * gradient
        cost.item()  # the lab prints it


def lab_sgd(x: list, y: list, w_shape: tuple, lr: float, steps: int) -> None:
    x_train, y_train = torch.FloatTensor(x), torch.FloatTensor(y)
    W = torch.zeros(w_shape, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([W, b], lr=lr)
    for _ in range(steps):
        hypothesis = x_train.matmul(W) + b if len(w_shape) == 2 else x_train * W + b
        cost = torch.mean((hypothesis - y_train) ** 2)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        cost.item()  # the lab prints it


BARE = {
    "gd": lab_gd,
    "linreg": lambda n: lab_sgd(X, X, (1,), 0.01, n),
    "multivar": lambda n: lab_sgd(QUIZ_X, QUIZ_Y, (3, 1), 1e-5, n),
}


def engine_run(name: str, steps: int) -> Runner:
    cls = load(name)
    # gd converges to W = 1 at lr 0.1; a tiny lr keeps it moving (same work per step).
    params = Params(cls.params, {"lr": 1e-3} if name == "gd" else {"lr": cls.params[0].default})
    runner = Runner(cls, params, device="cpu", limit=steps)
    runner.step(steps)
    return runner


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
        t_bare, t_engine, t_frame = [], [], []
        for _ in range(args.repeats):
            t_bare.append(timed(bare, n))
            t_engine.append(timed(engine_run, name, n))
            runner = engine_run(name, 10)
            t_frame.append(timed(runner.frame))
        b, e = n / statistics.median(t_bare), n / statistics.median(t_engine)
        print(
            f"{name:10} {b:13.0f} {e:15.0f} {e / b:6.2f} {1000 * statistics.median(t_frame):9.2f}"
        )


if __name__ == "__main__":
    main()
