"""Activation functions and their derivatives (COURSE.md §1, §4, §6), under a layer that trains.

The course's gallery: g(z) and g′(z) for sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU, softplus,
softsign, swish, mish and the linear "activation", g′ computed by autograd (the formulas of the
slides written beside it). Under the curves, the live histogram of one hidden layer's
pre-activations z while a small MLP learns to tell the points inside a circle from those
outside: the share of z where g is saturated (g′ below a tenth of its peak: sigmoid beyond
|z| ≈ 3.6, tanh beyond |z| ≈ 1.8) and, for ReLU, where it is dead (g′ = 0), with the units that
are dead on every input ("dying ReLU": they never learn again). `init_std=3` saturates a
sigmoid net from its first step; `activation=relu lr=5` kills a third of a layer's units.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from torch import nn

from dltui.scenario import Panel, Param, Scenario, to_numpy
from dltui.scenario.show import num

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "swish": nn.SiLU,
    "mish": nn.Mish,
    "linear": nn.Identity,
}
FORMULAS = {
    "sigmoid": ("σ(z) = 1/(1 + e^(−z))", "σ(z)(1 − σ(z)) ≤ 0.25"),
    "tanh": ("tanh(z)", "1 − tanh²(z)"),
    "relu": ("max(0, z)", "1 if z > 0, else 0 (dead)"),
    "leaky_relu": ("z if z > 0, else 0.01z", "1 if z > 0, else 0.01"),
    "elu": ("z if z > 0, else e^z − 1", "1 if z > 0, else e^z"),
    "gelu": ("z·Φ(z)", "Φ(z) + z·φ(z)"),
    "softplus": ("ln(1 + e^z)", "σ(z)"),
    "softsign": ("z/(1 + |z|)", "1/(1 + |z|)²"),
    "swish": ("z·σ(z)", "σ(z) + z·σ(z)(1 − σ(z))"),
    "mish": ("z·tanh(softplus(z))", "(autograd's)"),
    "linear": ("z", "1: layers of it make one linear map"),
}
"""The slides' table: g and g′ as formulas."""
Z = np.linspace(-6.0, 6.0, 241)
EDGES = np.linspace(-6.0, 6.0, 13)  # histogram bins of 1, plus one open bin each side
SATURATED = 0.1
"""g′ below this share of its peak counts as saturated."""
DATA_SEED = 0
N_POINTS = 512
RADIUS = 0.75


def derivative(g: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """g′(z) by autograd (the course's oracle for the formulas)."""
    with torch.enable_grad():
        z = z.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(g(z).sum(), z)
    return grad


class Activations(Scenario):
    name, title = "activations", "Activation functions g(z), g′(z) and a layer's pre-activations"
    description = "g and g′ of the gallery with a layer's live z histogram: saturated, dead."
    caption = (
        "The gradient through a unit is multiplied by g′(z): where g saturates (sigmoid, tanh "
        "far from 0) or is dead (ReLU below 0) little or nothing flows back. Linear "
        "activations make any depth one linear map."
    )
    aliases = ("activation",)
    steps = 2000
    speed = 100.0
    columns = 3
    records = {
        "loss": "BCE loss of this step's forward pass",
        "accuracy": "share of the 512 points classified right",
        "saturated": "share of the shown layer's z where 0 < g′ < 0.1 × its peak",
        "dead": "share of the shown layer's z where g′ = 0",
        "dead_units": "share of the shown layer's units with g′ = 0 on every point",
        "mean_slope": "mean g′(z) over the shown layer: the factor the gradient is scaled by",
    }
    params = (
        Param("activation", "sigmoid", "the hidden layers' g", choices=tuple(ACTIVATIONS)),
        Param("lr", 2.0, "learning rate of SGD", min=0.0, max=1e3, live=True),
        Param("depth", 2, "hidden layers", min=1, max=8),
        Param("width", 16, "units per hidden layer", min=1, max=256),
        Param("init_std", 0.0, "weights ~ N(0, σ²) with this σ (0: PyTorch's default)", min=0.0),
        Param("layer", 1, "the hidden layer whose z is shown (tab: the next)", min=1, max=8),
    )
    keys = {"tab": ("next_layer", 0, "show the next hidden layer's pre-activations")}
    panels = (
        Panel("curve1d", "g(z), tangent at the median z", "g"),
        Panel("curve1d", "g′(z) (autograd)", "dg"),
        Panel("bars", "z of the layer: share per bin", "hist", row_span=2),
        Panel("line", "Loss (BCE)", "loss", options={"ema": 0}),
        Panel("line", "Share saturated / dead", series=("saturated", "dead"), options={"ema": 0}),
        Panel("text", "g and g′ (the slides' table) and the layer now", "math", col_span=3),
    )

    # -- the training ---------------------------------------------------------------------
    def setup(self) -> None:
        rng = np.random.default_rng(DATA_SEED)  # the data: the same for every seed
        points = rng.uniform(-1.0, 1.0, (N_POINTS, 2))
        inside = (np.linalg.norm(points, axis=1) < RADIUS).astype(np.float32)
        self.X = torch.tensor(points, dtype=torch.float32, device=self.device)
        self.Y = torch.tensor(inside, device=self.device).reshape(-1, 1)
        widths = [2] + [self.p.width] * self.p.depth + [1]
        self.linears = [nn.Linear(i, o) for i, o in pairwise(widths)]
        if self.p.init_std > 0:
            for lin in self.linears:
                nn.init.normal_(lin.weight, 0.0, self.p.init_std)
                nn.init.zeros_(lin.bias)
        self.g = ACTIVATIONS[self.p.activation]()
        layers: list[nn.Module] = []
        for lin in self.linears[:-1]:
            layers += [lin, self.g]
        self.model = nn.Sequential(*layers, self.linears[-1]).to(self.device)
        self.criterion = nn.BCEWithLogitsLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)
        self.shown = min(self.p.layer, self.p.depth)
        slope = derivative(self.g, torch.tensor(Z, dtype=torch.float32))
        self.peak = float(slope.abs().max())

    def step(self) -> dict[str, Any]:
        self.optimizer.zero_grad()
        logits = self.model(self.X)
        loss = self.criterion(logits, self.Y)
        loss.backward()
        self.optimizer.step()
        return {
            "loss": loss.detach(),
            "accuracy": lambda: ((logits.detach() > 0).float() == self.Y).float().mean(),
            "saturated": lambda: self.shares()["saturated"],
            "dead": lambda: self.shares()["dead"],
            "dead_units": lambda: self.shares()["dead_units"],
            "mean_slope": lambda: self.shares()["mean_slope"],
        }

    def pre_activations(self) -> torch.Tensor:
        """z = W·a + b of the shown hidden layer for every point, (points, units)."""
        a = self.X
        with torch.no_grad():
            for k, lin in enumerate(self.linears[: self.shown], 1):
                z = lin(a)
                a = self.g(z) if k < self.shown else a
        return z

    def shares(self) -> dict[str, float]:
        """What g′ does to the shown layer: shares saturated and dead, dead units, mean g′."""
        slope = derivative(self.g, self.pre_activations()).abs()
        dead = slope == 0
        return {
            "saturated": float(((slope < SATURATED * self.peak) & ~dead).float().mean()),
            "dead": float(dead.float().mean()),
            "dead_units": float(dead.all(0).float().mean()),
            "mean_slope": float(slope.mean()),
        }

    def action_next_layer(self) -> str:
        self.shown = self.shown % self.p.depth + 1
        return f"showing layer {self.shown}'s pre-activations"

    # -- what to show -------------------------------------------------------------------
    def view(self) -> dict[str, dict]:
        z = self.pre_activations()
        grid = torch.tensor(Z, dtype=torch.float32)
        with torch.no_grad():
            gz = to_numpy(self.g(grid))
        dg = to_numpy(derivative(self.g, grid))
        median = float(z.median())
        at = torch.tensor([median])
        g_at, slope_at = float(self.g(at)), float(derivative(self.g, at))
        values = to_numpy(z).ravel()
        counts = np.histogram(np.clip(values, -1e9, 1e9), np.r_[-np.inf, EDGES, np.inf])[0]
        centres = np.r_[EDGES[0] - 1.0, (EDGES[:-1] + EDGES[1:]) / 2, EDGES[-1] + 1.0]
        slopes = to_numpy(derivative(self.g, torch.tensor(centres, dtype=torch.float32)))
        labels = []
        for k in range(len(centres)):
            if k == 0:
                span = f"<{EDGES[0]:g}"
            elif k == len(centres) - 1:
                span = f"≥{EDGES[-1]:g}"
            else:
                span = f"{EDGES[k - 1]:g}…{EDGES[k]:g}"
            dead, flat = slopes[k] == 0, abs(slopes[k]) < SATURATED * self.peak
            labels.append(span.replace("-", "−") + (" d" if dead else " s" if flat else ""))
        d2 = float(np.interp(np.clip(median, Z[0], Z[-1]), Z, np.gradient(dg, Z)))
        return {
            "g": {
                "x": Z,
                "y": gz,
                "w": float(np.clip(median, Z[0], Z[-1])),
                "cost": g_at,
                "slope": slope_at,
                "trail": np.zeros((0, 2)),
                "xlabel": "z",
                "ylabel": "g(z)",
            },
            "dg": {
                "x": Z,
                "y": dg,
                "w": float(np.clip(median, Z[0], Z[-1])),
                "cost": float(np.interp(np.clip(median, Z[0], Z[-1]), Z, dg)),
                "slope": d2,
                "trail": np.zeros((0, 2)),
                "xlabel": "z",
                "ylabel": "g′(z)",
            },
            "hist": {
                "labels": labels,
                "series": [(f"layer {self.shown}: share of z", counts / max(values.size, 1))],
                "unit": f"{values.size} values of z; s: saturated, d: dead",
            },
            "math": {"text": self.math(median, g_at, slope_at)},
        }

    def math(self, median: float, g_at: float, slope_at: float) -> str:
        f, df = FORMULAS[self.p.activation]
        s = self.shares()
        name = self.p.activation
        lines = [
            f"# g = {name}:  g(z) = {f},   g′(z) = {df}",
            (
                f"  layer {self.shown} of {self.p.depth} (tab: next), {self.p.width} units × "
                f"{N_POINTS} points: median z = {num(median)}, g = {num(g_at)}, "
                f"g′ = {num(slope_at)}"
            ),
            (
                f"  saturated (0 < g′ < {SATURATED:g} × peak {self.peak:.3g}): "
                f"{s['saturated']:.1%}   dead (g′ = 0): {s['dead']:.1%}   dead units (g′ = 0 "
                f"on every point): {s['dead_units']:.1%}"
            ),
            (
                f"  mean g′ = {num(s['mean_slope'])}: backprop multiplies the gradient by g′ "
                f"at each of the {self.p.depth} layers (σ′ ≤ 0.25: ≤ "
                f"{0.25**self.p.depth:.2g} through {self.p.depth} sigmoid layers)"
            ),
        ]
        if name == "linear":
            lines.append("  linear: W₃(W₂(W₁x)) = (W₃W₂W₁)x, one line: no hidden layer helps")
        return "\n".join(lines)
