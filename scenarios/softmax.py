"""Softmax and cross-entropy, worked out (COURSE.md §6) on a 3-class toy in the plane.

The course builds softmax regression from the perceptron: one Linear(2, 3) gives three scores
z (logits), softmax turns them into probabilities (each in (0, 1), summing to 1) and the
cross-entropy H(P, Q) = Σ Pᵢ log(1/Qᵢ) with a one-hot P is −log of the probability of the true
class: infinite when the prediction and the truth differ completely. As in the lab,
`torch.nn.CrossEntropyLoss()` takes the logits ("softmax is internally computed"). The math
panel writes z, e^z, e^z/Σe^z and −log p_true out for one point (`probe`, tab: the next), equal
to what CrossEntropyLoss adds for it; the picture colours the plane by the class the model
picks. Three Gaussian blobs, fixed; `torch.manual_seed(777)` before the model, SGD, full batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dltui.scenario import Panel, Param, Scenario, to_numpy
from dltui.scenario.show import num

CENTRES = ((-1.0, -0.6), (1.0, -0.6), (0.0, 1.0))
SPREAD = 0.55
PER_CLASS = 40
DATA_SEED = 0  # the blobs are the same for every seed; the seed picks the initial weights
GRID = np.linspace(-2.5, 2.5, 61)


def blobs() -> tuple[np.ndarray, np.ndarray]:
    """PER_CLASS points around each centre, class by class."""
    rng = np.random.default_rng(DATA_SEED)
    points = np.concatenate([rng.normal(c, SPREAD, (PER_CLASS, 2)) for c in CENTRES])
    return points.astype(np.float32), np.repeat(np.arange(len(CENTRES)), PER_CLASS)


class Softmax(Scenario):
    name, title = "softmax", "Softmax regression and cross-entropy on three classes"
    description = "Linear(2, 3) + CrossEntropyLoss: z, e^z, e^z/Σe^z and −log p worked out."
    caption = (
        "Softmax turns three scores into probabilities in (0, 1) that sum to 1; cross-entropy "
        "is −log p of the true class (∞ when p → 0). CrossEntropyLoss computes the softmax "
        "itself: it takes the logits."
    )
    aliases = ("cross-entropy", "crossentropy")
    steps = 500
    speed = 50.0
    columns = 2
    records = {
        "loss": "CrossEntropyLoss (mean over the points) of this step's forward pass",
        "accuracy": "share of the points whose largest probability is the true class",
        "p_true": "the probe point's softmax probability of its true class",
        "probe_ce": "−log p_true of the probe point: its term of the loss",
    }
    params = (
        Param("lr", 0.1, "learning rate of SGD", min=0.0, max=1e3, live=True),
        Param(
            "probe",
            0,
            f"the point worked out in the math panel (0..{PER_CLASS * len(CENTRES) - 1})",
            min=0,
            max=PER_CLASS * len(CENTRES) - 1,
            live=True,
            display=True,
        ),
    )
    keys = {"tab": ("probe", PER_CLASS // 2, "work out another point (20 further on)")}
    panels = (
        Panel("field2d", "The class the model picks (argmax of softmax)", "regions", row_span=2),
        Panel("line", "Cross-entropy loss", "loss", options={"ema": 0}),
        Panel("table", "The probe point: logits → probabilities", "probe"),
        Panel("text", "Softmax and cross-entropy, worked out", "math", col_span=2),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        points, labels = blobs()
        self.X = torch.tensor(points, device=self.device)
        self.Y = torch.tensor(labels, device=self.device)
        self.model = nn.Linear(2, len(CENTRES)).to(self.device)
        self.criterion = nn.CrossEntropyLoss()  # softmax is internally computed
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)

    def step(self) -> dict[str, Any]:
        logits = self.model(self.X)
        cost = self.criterion(logits, self.Y)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        z = logits.detach()
        k = self.p.probe
        return {
            "loss": cost.detach(),
            "accuracy": lambda: (z.argmax(1) == self.Y).float().mean(),
            "p_true": lambda: torch.softmax(z[k], 0)[self.Y[k]],
            "probe_ce": lambda: F.cross_entropy(z[k : k + 1], self.Y[k : k + 1]),
        }

    # -- what to show -------------------------------------------------------------------
    def worked(self) -> dict[str, Any]:
        """The probe point through the current model, by hand: z, e^z, Σ, p, −log p_true."""
        k = self.p.probe
        with torch.no_grad():
            z = self.model(self.X[k]).double()
        ez = torch.exp(z)
        total = ez.sum()
        p = ez / total
        true = int(self.Y[k])
        return {"k": k, "x": self.X[k].tolist(), "z": z, "ez": ez, "sum": total, "p": p,
                "true": true, "ce": -math.log(float(p[true]))}  # fmt: skip

    def view(self) -> dict[str, dict]:
        gx, gy = np.meshgrid(GRID, GRID)
        plane = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
        with torch.no_grad():
            picked = self.model(plane.to(self.device)).argmax(1).reshape(len(GRID), len(GRID))
        w = self.worked()
        rows = [
            [
                f"{c}" + (" (true)" if c == w["true"] else ""),
                float(w["z"][c]),
                float(w["ez"][c]),
                float(w["p"][c]),
                1.0 if c == w["true"] else 0.0,
                -math.log(float(w["p"][c])) if c == w["true"] else 0.0,
            ]
            for c in range(len(CENTRES))
        ]
        return {
            "regions": {
                "x": GRID,
                "y": GRID,
                "z": to_numpy(picked).astype(float),
                "levels": [0.5, 1.5],
                "points": to_numpy(self.X),
                "labels": to_numpy(self.Y),
                "markers": [(f"probe {w['k']}", *w["x"])],
                "xlabel": "x₁",
                "ylabel": "x₂",
            },
            "probe": {
                "columns": ["class", "z", "e^z", "p = e^z/Σ", "P (truth)", "−P·log p"],
                "rows": rows,
                "highlight": [w["true"]],
            },
            "math": {"text": self.math(w)},
        }

    def math(self, w: dict[str, Any]) -> str:
        z, ez, p, true = w["z"].tolist(), w["ez"].tolist(), w["p"].tolist(), w["true"]
        with torch.no_grad():
            logits = self.model(self.X)
            torch_term = float(F.cross_entropy(logits[w["k"]][None], self.Y[w["k"]][None]))
            loss = float(self.criterion(logits, self.Y))
        worst = float(torch.softmax(logits, 1).gather(1, self.Y[:, None]).min())
        return "\n".join(
            [
                (
                    f"# point {w['k']} (★), true class {true}:  z = W·x + b = "
                    f"({', '.join(num(v) for v in z)})"
                ),
                (
                    f"  softmax p = e^z/Σe^z = ({', '.join(num(v) for v in ez)})/"
                    f"{num(float(w['sum']))} = ({', '.join(f'{v:.4f}' for v in p)}),  Σ p = "
                    f"{sum(p):.4f}"
                ),
                f"# H(P, Q) = Σ Pᵢ·log(1/Qᵢ) = −log p_{true} = −log {p[true]:.4f} = {w['ce']:.6f}",
                (
                    f"  CrossEntropyLoss on this point's logits: {torch_term:.6f}  "
                    "(the softmax inside it)"
                ),
                (
                    f"  loss now = the mean of these over the {len(self.Y)} points = "
                    f"{loss:.6f};  the worst p_true {worst:.2e} → −log = "
                    f"{-math.log(max(worst, 1e-300)):.3g} (p → 0: ∞)"
                ),
            ]
        )
