"""Gradient descent on cost(W) (COURSE.md §2): the `gd` scenario, H(x) = Wx on x = y = [1, 2, 3].

The lab's loop, by hand: W starts at 0; each step computes the cost (1/m) Σ (Wxᵢ − yᵢ)², the
gradient from the formula 2/m Σ (Wxᵢ − yᵢ)xᵢ, and updates W := W − α∇W with α = `lr` (read
every step, so `[`/`]` change it live). cost(1) = 0, cost(0) = cost(2) = 4.67. Each step
multiplies (W − 1) by 1 − α·(2/m)Σxᵢ² = 1 − 9.33α: α = 0.1 lands near 1 in a few steps, small
α crawls, α above 2/9.33 ≈ 0.214 overshoots further every step and diverges.
Natural length: 100 steps (COURSE.md gives no loop count; 100 shows α = 0.01 crawling home).
The picture is cost(W) over [wmin, wmax] with the current W, its tangent and the trail of
earlier W's; the math panel puts the formula's gradient beside autograd's.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

import numpy as np
import torch

from dltui.scenario import Panel, Param, Scenario, UsageError, to_numpy
from dltui.scenario.show import finite, num, terms, vec

X_DATA = [[1.0], [2.0], [3.0]]
Y_DATA = [[1.0], [2.0], [3.0]]
TRAIL = 200  # earlier W's kept for the picture


class GradientDescent(Scenario):
    name, title = "gd", "Gradient descent on cost(W), H(x) = Wx"
    description = "W := W − α∇W on x = y = [1, 2, 3]; try lr=0.01 (crawls) and lr=0.25 (diverges)."
    caption = (
        "The gradient is the slope of cost(W): step downhill by α times it. Too small an α "
        "crawls; beyond α ≈ 0.214 each step overshoots further and W diverges."
    )
    aliases = ("gradient-descent",)
    steps = 100
    speed = 2.0  # lr=0.1 lands in ~4 steps: 2 s to watch W walk downhill
    diverge_above = 1e7  # ~1e6 × cost(0) = 4.67: a geometric blow-up stops long before overflow
    columns = 2
    records: ClassVar[dict[str, str]] = {
        "loss": "cost(W) of this step's forward pass (before the update)",
        "W": "W after this step's update",
        "grad": "the gradient 2/m Σ (Wxᵢ − yᵢ)xᵢ used in this step's update",
    }
    params = (
        Param("lr", 0.1, "learning rate α (diverges beyond ≈ 0.214)", min=0.0, max=1e3, live=True),
        Param("w0", 0.0, "starting W", min=-1e3, max=1e3),
        Param("wmin", -1.0, "left end of the plotted W range", min=-1e3, max=1e3),
        Param("wmax", 3.0, "right end of the plotted W range", min=-1e3, max=1e3),
    )
    panels = (
        Panel("curve1d", "cost(W), the current W, its tangent and the trail", "curve", row_span=2),
        Panel("line", "Cost", "loss", options={"logy": True, "ema": 0}),
        Panel("text", "The math of the next step", "math"),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        if self.p.wmax <= self.p.wmin:
            raise UsageError(f"wmax ({self.p.wmax:g}) must be larger than wmin ({self.p.wmin:g})")
        self.x_train = torch.tensor(X_DATA, device=self.device)
        self.y_train = torch.tensor(Y_DATA, device=self.device)
        self.W = torch.full((1,), float(self.p.w0), device=self.device)
        self.trail = deque([self.W.clone()], maxlen=TRAIL + 1)

    def step(self) -> dict[str, torch.Tensor]:
        hypothesis = self.x_train * self.W
        cost = torch.mean((hypothesis - self.y_train) ** 2)
        gradient = 2 * torch.mean((self.W * self.x_train - self.y_train) * self.x_train)
        self.W -= self.p.lr * gradient
        w = self.W.clone()  # W changes in place next step; the record and the trail keep this
        self.trail.append(w)
        # W and grad are display-only but stay eager: the trail needs the copy of W anyway, and
        # deferring two ready tensors costs the engine as much as reading them (measured).
        return {"loss": cost, "W": w, "grad": gradient}

    # -- what to show -------------------------------------------------------------------
    def cost_of(self, w: np.ndarray) -> np.ndarray:
        x, y = to_numpy(self.x_train).ravel(), to_numpy(self.y_train).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            return ((np.asarray(w, float)[..., None] * x - y) ** 2).mean(-1)

    def gradients(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """cost at the current W, the formula's gradient and autograd's."""
        W = self.W.clone().requires_grad_(True)
        cost = torch.mean((self.x_train * W - self.y_train) ** 2)
        (auto,) = torch.autograd.grad(cost, W)
        formula = 2 * torch.mean((self.W * self.x_train - self.y_train) * self.x_train)
        return cost.detach(), formula, auto

    def view(self) -> dict[str, dict]:
        ws = np.linspace(self.p.wmin, self.p.wmax, 161)
        cost, formula, _ = self.gradients()
        trail_w = to_numpy(torch.cat(list(self.trail))).astype(float)
        # After a blow-up the numbers are huge: hand the renderer finite ones (it clips the
        # trail to the view and reports a current W off the plot in its title).
        trail = finite(np.stack([trail_w, self.cost_of(trail_w)], 1))
        return {
            "curve": {
                "x": ws,
                "y": self.cost_of(ws),
                "w": float(trail[-1, 0]),
                "cost": float(finite(cost.item())),
                "slope": float(finite(formula.item())),
                "trail": trail[:-1],
                "xlabel": "W",
                "ylabel": "cost(W)",
            },
            "math": {"text": self.math()},
        }

    def math(self) -> str:
        lr, m = self.p.lr, len(self.x_train)
        cost, formula, auto = self.gradients()
        w = float(self.W.item())
        with torch.no_grad():
            h = self.x_train * self.W
            parts = (h - self.y_train) * self.x_train
        sum_x2 = float((self.x_train**2).sum())
        factor = 1 - lr * 2 / m * sum_x2
        off = "" if self.p.wmin <= w <= self.p.wmax else "  (off the plot)"
        verdict = (
            "converges"
            if abs(factor) < 1
            else "stays put"
            if factor == 1
            else "oscillates forever"
            if factor == -1
            else "overshoots more every step: diverges"
        )
        return "\n".join(
            [
                f"# W = {num(w)}{off}   α = {lr:g}",
                f"  H(x) = W·x = {vec(h)}   y = {vec(self.y_train, 'g')}",
                f"  cost(W) = 1/m Σ (W·xᵢ − yᵢ)² = {num(float(cost))}",
                "# Gradient",
                f"  formula   2/m Σ (W·xᵢ − yᵢ)·xᵢ = {num(float(formula))}",
                f"            = 2/{m}·({terms(parts.reshape(-1).tolist())})",
                f"  autograd  cost.backward() → W.grad = {num(float(auto))}",
                "# Update  W := W − α∇W",
                f"  W = {num(w)} − {lr:g}·({num(float(formula))}) = {num(w - lr * float(formula))}",
                f"  W − 1 is multiplied by 1 − α·2/m·Σxᵢ² = 1 − {lr:g}·{2 / m * sum_x2:.4g}",
                f"  = {factor:.4g} each step: {verdict}",
                *(
                    [
                        "# W has converged: the gradient is 0, so a new α has nothing to scale",
                        "  (press r to start over from W = w0 with this α)",
                    ]
                    if abs(float(formula)) < 1e-9 and abs(w - 1) < 1e-9
                    else []
                ),
            ]
        )
