"""Perceptrons and logic gates (COURSE.md §1): AND, OR, NAND with one neuron; XOR with an MLP.

The training loop is the lab's, line for line: `torch.manual_seed(777)`, the four input pairs,
Linear layers created in the lab's order, Sigmoid, BCELoss, SGD(lr=1), 10001 steps. With
`hidden=0` XOR becomes the single-layer perceptron that stays stuck at ln 2 ≈ 0.6931.
The math panel derives the gradients by hand (the slides' backprop) beside autograd's.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from dltui.scenario import Panel, Param, Scenario, to_numpy
from dltui.scenario.show import decision_field, vec

X_DATA = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
GRID = np.linspace(-0.5, 1.5, 61)


def _act_grad(name: str, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Derivative of the hidden activation, as on the slides: σ' = σ(1−σ), 1−tanh², step."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    return (z > 0).to(z.dtype)


def _fmt(t: torch.Tensor) -> str:
    """Weights and activations in the math panel: [+0.1234, -0.5678], a lone number bare."""
    return vec(t, "+.4f", bare=True)


class Gate(Scenario):
    """A logic gate learned by SGD on BCE; `hidden` > 0 inserts hidden sigmoid layers."""

    targets: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)
    steps = 10001
    speed = 500.0
    # BCELoss clamps log at -100, so a blown-up net reads loss 50, never NaN: outputs saturated
    # on the wrong side, gradients zero. Past 20 there is no way back.
    diverge_above = 20.0
    columns = 3
    records = {
        "loss": "BCE loss of this step's forward pass",
        "accuracy": "fraction of the 4 inputs classified right (output > 0.5)",
    }
    params = (
        Param("lr", 1.0, "learning rate of SGD", min=0.0, max=1e6, live=True),
        Param("hidden", 0, "hidden units per layer (0 = a single neuron)", min=0, max=64),
        Param(
            "depth",
            1,
            "hidden layers when hidden > 0 (3 with hidden=10: the wide-deep net)",
            min=1,
            max=8,
        ),
        Param("activation", "sigmoid", "hidden-layer activation", choices=tuple(ACTIVATIONS)),
    )
    panels = (
        Panel("field2d", "Decision boundary (network output)", "boundary", row_span=2),
        # Full-batch and noise-free: the curve is the loss itself, no smoothing to lag it.
        Panel("line", "Loss (BCE)", "loss", col_span=2, options={"ema": 0}),
        Panel("table", "Truth table", "truth"),
        Panel("heatmap", "Weights | bias and their gradients", "weights"),
        Panel("text", "The math of the next step", "math", col_span=3),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.X = torch.tensor(X_DATA, device=self.device)
        self.Y = torch.tensor(self.targets, device=self.device).reshape(4, 1)
        self.Y_bool = self.Y > 0.5
        widths = [2] + [self.p.hidden] * (self.p.depth if self.p.hidden else 0) + [1]
        self.title = self.title_for(widths)
        self.linears = [nn.Linear(i, o) for i, o in pairwise(widths)]
        layers: list[nn.Module] = []
        for k, linear in enumerate(self.linears):
            last = k == len(self.linears) - 1
            layers += [linear, nn.Sigmoid() if last else ACTIVATIONS[self.p.activation]()]
        self.model = nn.Sequential(*layers).to(self.device)
        self.criterion = nn.BCELoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)

    def step(self) -> dict[str, torch.Tensor | Callable[[], torch.Tensor]]:
        self.optimizer.zero_grad()
        hypothesis = self.model(self.X)
        cost = self.criterion(hypothesis, self.Y)
        cost.backward()
        self.optimizer.step()
        return {"loss": cost.detach(), "accuracy": lambda: self.accuracy(hypothesis)}

    def accuracy(self, hypothesis: torch.Tensor) -> torch.Tensor:
        """Share of the 4 inputs right in this step's forward pass. Display only: step() hands
        it to the engine as a callable, computed when a record or frame is captured."""
        # Count right answers, then divide: ~half the cost of .float().mean() on 4 values.
        return (hypothesis.detach() > 0.5).eq(self.Y_bool).sum() / len(self.Y)

    # -- what to show -------------------------------------------------------------------
    def view(self) -> dict[str, dict]:
        y = self.Y.reshape(-1)
        boundary = decision_field(self.model, GRID, np.array(X_DATA), to_numpy(y), self.device)
        with torch.no_grad():
            out = self.model(self.X).reshape(-1)
        params = [p for lin in self.linears for p in (lin.weight, lin.bias)]
        loss = self.criterion(self.model(self.X), self.Y)
        grads = torch.autograd.grad(loss, params)
        rows = [
            [
                f"{a:g}",
                f"{b:g}",
                f"{t:g}",
                f"{o:.4f}",
                f"{int(o > 0.5)} {'✓' if (o > 0.5) == t else '✗'}",
            ]
            for (a, b), t, o in zip(X_DATA, y.tolist(), out.tolist())
        ]
        matrices = []
        for k, lin in enumerate(self.linears, 1):
            gw, gb = grads[2 * (k - 1)], grads[2 * (k - 1) + 1]
            matrices.append((f"W{k}|b{k}", to_numpy(torch.cat([lin.weight, lin.bias[:, None]], 1))))
            matrices.append((f"∂L/∂W{k}|b{k}", to_numpy(torch.cat([gw, gb[:, None]], 1))))
        return {
            "boundary": boundary,
            "truth": {
                "columns": ["x₁", "x₂", "target", "output", "predicted"],
                "rows": rows,
                "highlight": [i for i, r in enumerate(rows) if r[-1].endswith("✗")],
            },
            "weights": {"matrices": matrices},
            "math": {"text": self.math(loss, grads)},
        }

    def math(self, loss: torch.Tensor, grads: tuple[torch.Tensor, ...]) -> str:
        """One forward pass, backprop by hand (the slides) next to autograd, and the update."""
        act = self.p.activation
        lr = self.p.lr
        with torch.no_grad():
            # Forward, keeping every layer's pre-activation z and activation a.
            zs, acts = [], [self.X]
            for k, lin in enumerate(self.linears):
                z = acts[-1] @ lin.weight.T + lin.bias
                last = k == len(self.linears) - 1
                zs.append(z)
                acts.append(
                    torch.sigmoid(z)
                    if last or act == "sigmoid"
                    else torch.tanh(z)
                    if act == "tanh"
                    else torch.relu(z)
                )
            y_pred, m = acts[-1], len(self.X)
            # Backward by hand: BCE then sigmoid gives d_l = (ŷ − y)/m at the output.
            d_l = (y_pred - self.Y) / m
            hand = []
            for k in range(len(self.linears) - 1, -1, -1):
                hand.append((k, acts[k].T @ d_l, d_l.sum(0)))
                if k:
                    d_a = d_l @ self.linears[k].weight
                    d_l = d_a * _act_grad(act, zs[k - 1], acts[k])
        first = 1  # the sample x = (0, 1), whose XOR is 1
        shape = f"{act} hidden" if len(self.linears) > 1 else "one neuron, no hidden layer"
        lines = [f"# Forward pass for x = (0, 1)   [{len(self.linears)} layer(s), {shape}]"]
        for k, (z, a) in enumerate(zip(zs, acts[1:]), 1):
            g = "σ" if k == len(zs) or act == "sigmoid" else act
            lines.append(
                f"  z{k} = W{k}·a{k - 1} + b{k} = {_fmt(z[first])}"
                f"    a{k} = {g}(z{k}) = {_fmt(a[first])}"
            )
        lines.append(
            f"  loss = BCE(ŷ, y) over the 4 inputs = {loss.item():.6f}"
            f"   (ln 2 = 0.693147: a coin toss)"
        )
        lines.append(
            "# Backprop by hand   d_l = ŷ − y (BCE∘σ);  d_W = aᵀ·d_l;  "
            "d_a = d_l·Wᵀ;  d_l′ = d_a·g′(z)"
        )
        for k, dw, db in hand[:2] if len(hand) > 2 else hand:
            auto = grads[2 * k]
            lines.append(f"  d_W{k + 1} by hand {_fmt(dw.T)}   autograd {_fmt(auto)}")
        w_last = self.linears[-1].weight
        lines.append(f"# Update  W{len(self.linears)} := W − lr·d_W  (lr = {lr:g})")
        lines.append(
            f"  {_fmt(w_last)} − {lr:g}·{_fmt(grads[-2])} = {_fmt(w_last - lr * grads[-2])}"
        )
        return "\n".join(lines)

    def title_for(self, widths: list[int]) -> str:
        """The title names the net this run trains (hidden/depth change it)."""
        if len(widths) == 2:
            return type(self).title
        gate = type(self).title.split(":")[0].split()[0]
        return f"{gate}: a {'-'.join(map(str, widths))} MLP ({self.p.activation} hidden)"


class AndGate(Gate):
    name, title = "and", "AND gate: one sigmoid neuron"
    speed = 50.0  # settles in ~300 steps: at 50/s the line can be watched finding its place
    aliases = ("perceptron",)
    description = "A single neuron learns AND (linearly separable)."
    caption = "AND is linearly separable: one neuron draws one line and gets all four right."
    targets = (0.0, 0.0, 0.0, 1.0)


class OrGate(Gate):
    name, title = "or", "OR gate: one sigmoid neuron"
    speed = 50.0
    description = "A single neuron learns OR (linearly separable)."
    caption = "OR is linearly separable: one neuron draws one line and gets all four right."
    targets = (0.0, 1.0, 1.0, 1.0)


class NandGate(Gate):
    name, title = "nand", "NAND gate: one sigmoid neuron"
    speed = 50.0
    description = "A single neuron learns NAND (linearly separable)."
    caption = "NAND is linearly separable: one neuron draws one line and gets all four right."
    targets = (1.0, 1.0, 1.0, 0.0)


class Xor(Gate):
    name, title = "xor", "XOR: the 2-2-1 MLP of the backprop lab"
    description = "XOR needs a hidden layer; one neuron stays stuck at ln 2 (--set hidden=0)."
    caption = (
        "XOR is not linearly separable (Minsky & Papert): one neuron (hidden=0) stays "
        "stuck at ln 2 ≈ 0.6931; a hidden layer bends the boundary and solves it."
    )
    aliases = ("mlp",)
    targets = (0.0, 1.0, 1.0, 0.0)

    def title_for(self, widths: list[int]) -> str:
        if widths == [2, 2, 1] and self.p.activation == "sigmoid":
            return type(self).title  # the lab's net
        if len(widths) == 2:
            return "XOR with one neuron: no line separates it"
        return super().title_for(widths)

    params = tuple(
        Param("hidden", 2, p.help, min=0, max=64) if p.name == "hidden" else p for p in Gate.params
    )
