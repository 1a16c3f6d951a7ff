"""Linear regression with optim.SGD (COURSE.md §2): `linreg` (H(x) = Wx + b) and `multivar`.

`linreg` is the lab line for line: x = y = [1, 2, 3], W = b = 0 with requires_grad,
`optim.SGD([W, b], lr=0.01)`, full batch, epochs 0..1000 (1001 updates). `dltui run linreg
--headless --steps 1001 --jsonl -` holds the lab's table: epoch k is step k + 1 (steps 1, 101, …, 1001).
`multivar` is the quiz-score lab: X (5×3: quiz1, quiz2, midterm) → final, W = zeros(3, 1),
b = 0, SGD lr = 1e-5, H(X) = XW + b, epochs 0..20 (21 updates); the five hypotheses approach y.
Both record the cost of each epoch's forward pass and the parameters after its update.
`linreg --set data=2x` is the slide's code (hours → points 2, 4, 6, y = 2x); its printed table
(W 0.985, b 0.033 at epoch 1000) comes from y = x, the default (COURSE.md §7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from torch import optim

from dltui.scenario import Panel, Param, Scenario, to_numpy
from dltui.scenario.show import finite, num, vec

# The fitted-line picture: the (x, y) plane coloured by the residual y − H(x), its zero line
# drawn as the boundary (= the fitted line). The cost surface: W and b ranges around (1, 0).
PLANE_X, PLANE_Y = np.linspace(0, 4, 41), np.linspace(-1, 5, 61)
SURF_W, SURF_B = np.linspace(-0.5, 2.5, 61), np.linspace(-1.5, 1.5, 61)
PATH = 4000  # trajectory points kept (thinned by 2 beyond that)


def cost_and_grads(predict, W: torch.Tensor, b: torch.Tensor, y: torch.Tensor):
    """H, the MSE cost and autograd's (∂W, ∂b) at the current W, b, leaving their .grad alone
    (the math panel shows the next step without touching the optimizer's state)."""
    W, b = W.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    h = predict(W, b)
    cost = torch.mean((h - y) ** 2)
    gw, gb = torch.autograd.grad(cost, (W, b))
    return h.detach(), cost.detach(), gw, gb


class LinearRegression(Scenario):
    name, title = "linreg", "Linear regression H(x) = Wx + b with optim.SGD"
    description = "Fit W and b on x = y = [1, 2, 3] with SGD(lr=0.01): the lab's 1001 epochs."
    caption = (
        "SGD walks down the cost surface cost(W, b) towards W = 1, b = 0; the fitted line "
        "swings onto the data. The valley is long and flat, so the last stretch is slow."
    )
    steps = 1001
    speed = 60.0
    diverge_above = 1e7
    columns = 2
    records: ClassVar[dict[str, str]] = {
        "loss": "cost of this epoch's forward pass (before the update)",
        "W": "W after this epoch's update",
        "b": "b after this epoch's update",
    }
    params = (
        Param("lr", 0.01, "learning rate of SGD", min=0.0, max=1e3, live=True),
        Param(
            "data",
            "x",
            "y = x (the slide's printed table) or y = 2x (the slide's code: 2, 4, 6 points)",
            choices=("x", "2x"),
        ),
    )
    panels = (
        Panel("field2d", "Data and H(x) = Wx + b (colour: y − H(x))", "fit"),
        Panel("field2d", "cost(W, b) (log levels) and the SGD path", "surface"),
        Panel("line", "Cost", "loss", options={"logy": True, "ema": 0}),
        Panel("text", "The math of the next epoch", "math"),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.x_train = torch.tensor([[1.0], [2.0], [3.0]], device=self.device)
        self.slope = 2.0 if self.p.data == "2x" else 1.0
        self.y_train = self.slope * torch.tensor([[1.0], [2.0], [3.0]], device=self.device)
        if self.slope != 1:
            self.caption = type(self).caption.replace("W = 1", f"W = {self.slope:g}")
        self.W = torch.zeros(1, requires_grad=True, device=self.device)
        self.b = torch.zeros(1, requires_grad=True, device=self.device)
        self.optimizer = optim.SGD([self.W, self.b], lr=self.p.lr)
        self.path = [torch.cat([self.W, self.b]).detach().clone()]

    def step(self) -> dict[str, torch.Tensor | Callable[[], torch.Tensor]]:
        hypothesis = self.x_train * self.W + self.b
        cost = torch.mean((hypothesis - self.y_train) ** 2)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        wb = torch.cat([self.W, self.b]).detach()  # a copy: W, b change in place next step
        self.path.append(wb)
        if len(self.path) > PATH:
            self.path = self.path[::2]
        # W and b are only shown (no curve plots them): read when a frame or record is taken.
        return {"loss": cost.detach(), "W": lambda: wb[0], "b": lambda: wb[1]}

    # -- what to show -------------------------------------------------------------------
    def view(self) -> dict[str, dict]:
        w, b = float(self.W.item()), float(self.b.item())
        x, y = to_numpy(self.x_train).ravel(), to_numpy(self.y_train).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            plane_y = PLANE_Y * self.slope if self.slope > 1 else PLANE_Y
            residual = plane_y[:, None] - (w * PLANE_X[None, :] + b)
            cost = ((SURF_W[None, :, None] * x + SURF_B[:, None, None] - y) ** 2).mean(-1)
        path = finite(to_numpy(torch.stack(self.path)), 1e6)
        return {
            "fit": {
                "x": PLANE_X,
                "y": plane_y,
                "z": finite(residual, 1e6),
                "levels": 0,
                "points": np.stack([x, y], 1),
                "labels": np.ones(len(x), int),
                "boundary": 0.0,
                "diverging": True,
                "zlabel": "y−H(x)",
            },
            "surface": {
                "x": SURF_W,
                "y": SURF_B,
                "z": cost,
                "log": True,
                "levels": 10,
                "trajectories": [("SGD (W, b)", path)],
                "markers": [(f"minimum W={self.slope:g}, b=0", self.slope, 0.0)],
                "zlabel": "cost",
                "xlabel": "W",
                "ylabel": "b",
            },
            "math": {"text": self.math()},
        }

    def math(self) -> str:
        lr = self.p.lr
        h, cost, gw, gb = cost_and_grads(
            lambda W, b: self.x_train * W + b, self.W, self.b, self.y_train
        )
        with torch.no_grad():
            err = h - self.y_train
            fw, fb = 2 * torch.mean(err * self.x_train), 2 * torch.mean(err)
        w0, b0 = float(self.W.item()), float(self.b.item())
        off = (
            ""
            if SURF_W[0] <= w0 <= SURF_W[-1] and SURF_B[0] <= b0 <= SURF_B[-1]
            else "  (off the plot)"
        )
        return "\n".join(
            [
                f"# Forward  W = {num(w0)}, b = {num(b0)}{off}",
                f"  H(x) = W·x + b = {vec(h)}",
                f"  cost = 1/m Σ (H(xᵢ) − yᵢ)² = {num(float(cost))}   y = {vec(self.y_train, 'g')}",
                "# Backward  cost.backward()        formula   autograd",
                f"  ∂W = 2/m Σ (H(xᵢ) − yᵢ)·xᵢ  {num(float(fw)):>10} {num(float(gw)):>10}",
                f"  ∂b = 2/m Σ (H(xᵢ) − yᵢ)     {num(float(fb)):>10} {num(float(gb)):>10}",
                f"# optimizer.step()  θ := θ − lr·∂θ   (lr = {lr:g})",
                f"  W = {num(w0)} − {lr:g}·({num(float(gw))}) = {num(w0 - lr * float(gw))}",
                f"  b = {num(b0)} − {lr:g}·({num(float(gb))}) = {num(b0 - lr * float(gb))}",
            ]
        )


QUIZ_X = [
    [73.0, 80.0, 75.0],
    [93.0, 88.0, 93.0],
    [89.0, 91.0, 90.0],
    [96.0, 98.0, 100.0],
    [73.0, 66.0, 70.0],
]
QUIZ_Y = [[152.0], [185.0], [180.0], [196.0], [142.0]]


class MultivariableRegression(Scenario):
    name, title = "multivar", "Multivariable regression H(X) = XW + b (quiz scores → final)"
    description = "Predict the final exam from three quiz scores: W = zeros(3,1), SGD lr=1e-5."
    caption = (
        "One weight per input: H(X) = XW + b predicts all five students at once (a matrix "
        "product). With lr = 1e-5 the five hypotheses approach the targets in ~10 epochs."
    )
    aliases = ("multivariable",)
    steps = 21
    speed = 4.0
    diverge_above = 3e10  # ~1e6 × the first cost (29661.8)
    columns = 2
    records: ClassVar[dict[str, str]] = {
        "loss": "mean squared error of this epoch's forward pass (before the update)",
        "w1": "weight of quiz1 after this epoch's update",
        "w2": "weight of quiz2 after this epoch's update",
        "w3": "weight of the midterm after this epoch's update",
        "b": "bias after this epoch's update",
    }
    params = (
        Param(
            "lr", 1e-5, "learning rate of SGD (diverges beyond ≈ 4e-5)", min=0.0, max=1.0, live=True
        ),
    )
    panels = (
        Panel("table", "The five students: scores, final, H(x)", "students"),
        Panel("heatmap", "W | b and their gradients", "weights"),
        Panel("line", "Cost (MSE)", "loss", options={"logy": True, "ema": 0}),
        Panel("text", "The math of the next epoch", "math"),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.x_train = torch.tensor(QUIZ_X, device=self.device)
        self.y_train = torch.tensor(QUIZ_Y, device=self.device)
        self.W = torch.zeros((3, 1), requires_grad=True, device=self.device)
        self.b = torch.zeros(1, requires_grad=True, device=self.device)
        self.optimizer = optim.SGD([self.W, self.b], lr=self.p.lr)

    def step(self) -> dict[str, torch.Tensor | Callable[[], torch.Tensor]]:
        hypothesis = self.x_train.matmul(self.W) + self.b
        cost = torch.mean((hypothesis - self.y_train) ** 2)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        wb = torch.cat([self.W.detach().reshape(-1), self.b.detach()])  # a copy, as for linreg
        return {
            "loss": cost.detach(),
            "w1": lambda: wb[0],
            "w2": lambda: wb[1],
            "w3": lambda: wb[2],
            "b": lambda: wb[3],
        }

    # -- what to show -------------------------------------------------------------------
    def forward(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hypothesis and cost at the current W, b, and autograd's gradients."""
        return cost_and_grads(lambda W, b: self.x_train.matmul(W) + b, self.W, self.b, self.y_train)

    def view(self) -> dict[str, dict]:
        h, cost, gw, gb = self.forward()
        x, y, hh = to_numpy(self.x_train), to_numpy(self.y_train).ravel(), to_numpy(h).ravel()
        rows = [
            [f"{a:g}", f"{q:g}", f"{m:g}", f"{t:g}", f"{p:.2f}", f"{p - t:+.2f}"]
            for (a, q, m), t, p in zip(x.tolist(), y.tolist(), hh.tolist())
        ]
        params = finite(to_numpy(torch.cat([self.W.reshape(-1), self.b])), 1e12)[:, None]
        grads = finite(to_numpy(torch.cat([gw.reshape(-1), gb])), 1e12)[:, None]
        return {
            "students": {
                "columns": ["quiz1 x₁", "quiz2 x₂", "midterm x₃", "final y", "H(x)", "H − y"],
                "rows": rows,
                "highlight": [i for i, (p, t) in enumerate(zip(hh, y)) if not abs(p - t) <= 5],
            },
            "weights": {
                "matrices": [("W | b", params), ("∂cost/∂(W | b)", grads)],
                "row_labels": ["w1", "w2", "w3", "b"],
            },
            "math": {"text": self.math(h, cost, gw, gb)},
        }

    def math(self, h: torch.Tensor, cost: torch.Tensor, gw: torch.Tensor, gb: torch.Tensor) -> str:
        lr = self.p.lr
        w = self.W.detach().reshape(-1).tolist()
        b = float(self.b.item())
        x0, y0 = self.x_train[0].tolist(), float(self.y_train[0])
        terms = " + ".join(f"{xi:g}·{num(wi)}" for xi, wi in zip(x0, w))
        new_w = [wi - lr * gi for wi, gi in zip(w, gw.reshape(-1).tolist())]
        return "\n".join(
            [
                "# H(X) = XW + b, row 1 (student 1)",
                f"  H(x₁) = {terms}",
                f"        + {num(b)} = {num(float(h[0]))}   (y = {y0:g})",
                f"  cost = 1/5 Σ (H(xᵢ) − yᵢ)² = {num(float(cost))}",
                "# Backward  ∂W = 2/5·Xᵀ(H − y),  ∂b = 2/5·Σ(H − y)",
                f"  ∂W = {vec(gw)}",
                f"  ∂b = {num(float(gb))}",
                f"# optimizer.step()  θ := θ − lr·∂θ   (lr = {lr:g})",
                f"  W → {vec(torch.tensor(new_w))}",
                f"  b → {num(b - lr * float(gb))}",
            ]
        )
