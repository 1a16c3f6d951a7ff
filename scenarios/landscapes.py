"""2-D loss landscapes for the optimizer race: the function, its minima, a view window, a start.

Each `Landscape` computes f(x, y) with torch operations (so autograd gives the gradient the
optimizers see) and knows where its minima are, which window shows them, where the race starts
and the learning rates that make every racer move visibly there (Adadelta's is torch's 1.0
everywhere: it sizes its own steps from its running mean of the squared updates).
`grid(name)` is the field over the window, computed once per landscape and shared read-only
by every frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

GRID_POINTS = 201


def _ravine(x, y):
    # Curvatures 0.05 and 10: condition number 200, a long narrow valley along x.
    return 0.025 * x**2 + 5.0 * y**2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _saddle(x, y):
    # A saddle at (0, 0) (value 0.25) between two minima at (0, ±1) (value 0).
    return 0.5 * x**2 + 0.25 * (y**2 - 1) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _rastrigin(x, y):
    return 20 + x**2 - 10 * torch.cos(2 * math.pi * x) + y**2 - 10 * torch.cos(2 * math.pi * y)


@dataclass(frozen=True, eq=False)
class Landscape:
    """One surface: f, its minima [(label, x, y)], the window, the start, default lrs."""

    name: str
    f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    minima: tuple[tuple[str, float, float], ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    lrs: dict[str, float]
    lesson: str

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.f(x, y)

    @property
    def size(self) -> float:
        """The larger side of the window (divergence = leaving it by 10× this)."""
        return max(self.xlim[1] - self.xlim[0], self.ylim[1] - self.ylim[0])


LANDSCAPES: dict[str, Landscape] = {
    ls.name: ls
    for ls in (
        Landscape(
            "ravine",
            _ravine,
            (("min (0,0)", 0.0, 0.0),),
            (-5.0, 5.0),
            (-2.5, 2.5),
            (-4.5, 1.5),
            {
                "sgd": 0.18,
                "momentum": 0.02,
                "nesterov": 0.02,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.02,
                "adam": 0.1,
            },
            "SGD zig-zags across the valley, crawls along it",
        ),
        Landscape(
            "rosenbrock",
            _rosenbrock,
            (("min (1,1)", 1.0, 1.0),),
            (-2.0, 2.0),
            (-1.0, 3.0),
            (-1.2, 1.0),
            {
                "sgd": 0.002,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.05,
                "adam": 0.1,
            },
            "easy to find the valley, hard to follow it",
        ),
        Landscape(
            "saddle",
            _saddle,
            (("min (0,1)", 0.0, 1.0), ("min (0,-1)", 0.0, -1.0)),
            (-2.5, 2.5),
            (-2.0, 2.0),
            (-2.0, 0.001),
            {
                "sgd": 0.1,
                "momentum": 0.02,
                "nesterov": 0.02,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.01,
                "adam": 0.05,
            },
            "at the saddle ∇f ≈ 0: who escapes first?",
        ),
        Landscape(
            "beale",
            _beale,
            (("min (3,0.5)", 3.0, 0.5),),
            (-1.0, 4.5),
            (-1.5, 2.0),
            (0.5, 1.5),
            {
                "sgd": 0.01,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.1,
                "adam": 0.1,
            },
            "flat plateaus and steep walls",
        ),
        Landscape(
            "himmelblau",
            _himmelblau,
            (
                ("min A", 3.0, 2.0),
                ("min B", -2.805118086952745, 3.131312518250573),
                ("min C", -3.779310253377747, -3.283185991286170),
                ("min D", 3.584428340330492, -1.848126526964404),
            ),
            (-5.0, 5.0),
            (-5.0, 5.0),
            (-0.27, -0.92),
            {
                "sgd": 0.005,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.02,
                "adam": 0.1,
            },
            "four minima: which one depends on how you step",
        ),
        Landscape(
            "rastrigin",
            _rastrigin,
            (("min (0,0)", 0.0, 0.0),),
            (-4.0, 4.0),
            (-4.0, 4.0),
            (3.3, -2.7),
            {
                "sgd": 0.002,
                "momentum": 0.01,
                "nesterov": 0.005,
                "adagrad": 0.5,
                "adadelta": 1.0,
                "rmsprop": 0.1,
                "adam": 0.1,
            },
            "many local minima: momentum may hop a few",
        ),
    )
}


@cache
def grid(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n,), y (n,) and z (n, n) over the landscape's window: read-only, computed once."""
    ls = LANDSCAPES[name]
    x = torch.linspace(*ls.xlim, GRID_POINTS, dtype=torch.float64)
    y = torch.linspace(*ls.ylim, GRID_POINTS, dtype=torch.float64)
    gy, gx = torch.meshgrid(y, x, indexing="ij")
    # z in float32: only drawn, and half the bytes of every race frame (160 KB, not 320 KB)
    arrays = (x.numpy().copy(), y.numpy().copy(), ls(gx, gy).numpy().astype(np.float32))
    for a in arrays:
        a.flags.writeable = False
    return arrays
