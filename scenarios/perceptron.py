"""Perceptrons and logic gates (COURSE.md §1): AND, OR, NAND with one neuron; XOR with an MLP.

The training loop is the lab's, line for line: `torch.manual_seed(777)`, the four input pairs,
Linear layers created in the lab's order, Sigmoid, BCELoss, SGD(lr=1), 10001 steps. With
`hidden=0` XOR becomes the single-layer perceptron that stays stuck at ln 2 ≈ 0.6931.
The math panel derives the gradients by hand (the slides' backprop) beside autograd's.

Hand-set weights (the slides' exercises): `--set train=off --set weights=…` runs one forward
pass with the teacher's weights, `activation=step` makes every unit a perceptron's step, and
`weights=course` loads the slides' hand-made XOR net (y₁ = σ(5x₁ + 5x₂ − 8), y₂ = σ(−7x₁ −
7x₂ + 3), ŷ = σ(−11y₁ − 11y₂ + 6)) or, on one neuron, their worked example g(1 + 3·(−1) −
2·2) = g(−6) ≈ 0.0025. The keys w / ↑ / ↓ pick a weight and move it live: the truth table,
the boundary and the forward math follow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from dltui.scenario import Panel, Param, Scenario, UsageError, to_numpy
from dltui.scenario.show import decision_field, vec


class Step(nn.Module):
    """The perceptron's step: 1 where z ≥ 0, else 0. No gradient: for hand-set weights."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z >= 0).to(z.dtype)


X_DATA = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "step": Step,
    "linear": nn.Identity,  # "linear activations produce linear decisions": never XOR
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}
GRID = np.linspace(-0.5, 1.5, 61)
HAND_WEIGHTS = {
    ("course", 3): "3,-2,1",  # the slides' neuron: w = (3, −2), w₀ = 1, at x = (−1, 2)
    ("course", 9): "5,5,-8,-7,-7,3,-11,-11,6",  # the slides' hand-made XOR net
    ("nand-or", 9): "-2,-2,3,2,2,-1,2,2,-3",  # y₁ = NAND, y₂ = OR, ŷ = AND(y₁, y₂)
}
"""Named weights (name, how many numbers the net has) -> weights, unit by unit: each unit's
input weights, then its bias."""
SLIDE_PROBE = (-1.0, 2.0)
"""The input of the slides' worked neuron, shown with weights=course on one neuron."""
EDIT_STEP = 0.5
"""How far ↑ / ↓ move the weight being edited."""


class WeightsParam(Param):
    """'' (the seeded init), a named set (course, nand-or) or comma-separated numbers."""

    def check(self, value: object) -> object:
        text = str(value).strip().lower().replace(" ", "")
        if text in ("", "course", "nand-or"):
            return text
        try:
            [float(v) for v in text.split(",")]
        except ValueError:
            raise UsageError(
                f"weights={value!r}: give numbers w₁,w₂,b unit by unit (e.g. 1,1,-0.5), "
                "'course' or 'nand-or'"
            ) from None
        return text


def _act_grad(name: str, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Derivative of the hidden activation, as on the slides: σ' = σ(1−σ), 1−tanh², step;
    autograd's for the rest of the gallery."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "step":
        return torch.zeros_like(z)
    if name == "relu":
        return (z > 0).to(z.dtype)
    with torch.enable_grad():  # the others: g′ by autograd
        z = z.detach().requires_grad_(True)
        return torch.autograd.grad(ACTIVATIONS[name]()(z).sum(), z)[0]


def _m(v: float) -> str:
    """A number in the hand-set math: 5, −0.5, −6 (a true minus sign)."""
    return f"{v:.4g}".replace("-", "−")


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
        Param(
            "activation",
            "sigmoid",
            "hidden-layer activation (step: every unit, the output too, steps; needs train=off)",
            choices=tuple(ACTIVATIONS),
        ),
        Param(
            "train",
            True,
            "train with SGD; off: forward passes only, with the weights as set (the loss "
            "and the picture follow the keys w ↑ ↓)",
        ),
        WeightsParam(
            "weights",
            "",
            "hand-set weights, unit by unit (its input weights, then its bias): w₁,w₂,b on "
            "one neuron; y₁'s, y₂'s, then the output's on the 2-2-1 net (9 numbers); "
            "course: the slides' (one neuron: 3,-2,1; XOR: 5,5,-8,-7,-7,3,-11,-11,6); "
            "nand-or: XOR = AND(NAND, OR) for activation=step. Keys w ↑ ↓ edit them live",
        ),
        Param(
            "probe",
            (float("nan"), float("nan")),
            "one more input x₁,x₂ worked out in the math panel with train=off "
            "(weights=course on one neuron: the slides' -1,2 → g(-6))",
        ),
    )
    keys = {
        "w": ("next_weight", 0, "hand-set weights: pick the next weight to edit"),
        "up": ("raise_weight", 0, f"raise the picked weight by {EDIT_STEP:g}"),
        "down": ("lower_weight", 0, f"lower the picked weight by {EDIT_STEP:g}"),
    }
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
        stepped = self.p.activation == "step"
        if stepped and self.p.train:
            raise UsageError(
                "activation=step has no gradient to learn from: add --set train=off "
                "(and weights=…, e.g. weights=nand-or on xor)"
            )
        layers: list[nn.Module] = []
        for k, linear in enumerate(self.linears):
            last = k == len(self.linears) - 1
            output = Step() if stepped else nn.Sigmoid()
            layers += [linear, output if last else ACTIVATIONS[self.p.activation]()]
        self.model = nn.Sequential(*layers).to(self.device)
        self.criterion = nn.BCELoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)
        self.editing = 0  # the hand-set weight that w / ↑ / ↓ move
        self.probe = self.p.probe
        if self.p.weights:
            self.set_weights(self.hand_weights())

    def step(self) -> dict[str, torch.Tensor | Callable[[], torch.Tensor]]:
        if not self.p.train:  # hand-set weights: the forward pass only
            with torch.no_grad():
                hypothesis = self.model(self.X)
            out = {"accuracy": self.accuracy(hypothesis)}
            if self.p.activation != "step":  # a step's BCE is 0 or 100: no loss to show
                out["loss"] = self.criterion(hypothesis, self.Y)
            return out
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
        if self.p.activation == "step":  # no gradient through a step
            grads = tuple(torch.zeros_like(p) for p in params)
        else:
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
            "math": {"text": self.math(loss, grads) if self.p.train else self.hand_math()},
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
                    if act == "relu"
                    else ACTIVATIONS[act]()(z)
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
            f"# Backprop by hand   d_l = (ŷ − y)/m, m = {m} (BCE∘σ, a mean);  d_W = aᵀ·d_l;  "
            "d_a = d_l·Wᵀ;  d_l′ = d_a·g′(z)"
        )
        for k, dw, db in hand[:2] if len(hand) > 2 else hand:
            auto = grads[2 * k]
            lines.append(f"  d_W{k + 1} by hand {_fmt(dw.T)}   autograd {_fmt(auto)}")
        if self.name == "xor":  # the slides' hand-written backprop is the XOR lab's
            lines.append(
                f"  (the slides' code sums d_W over the {m} inputs, no 1/m: {m}× these; "
                "it averages d_b, as autograd does)"
            )
        w_last = self.linears[-1].weight
        lines.append(f"# Update  W{len(self.linears)} := W − lr·d_W  (lr = {lr:g})")
        lines.append(
            f"  {_fmt(w_last)} − {lr:g}·{_fmt(grads[-2])} = {_fmt(w_last - lr * grads[-2])}"
        )
        return "\n".join(lines)

    # -- hand-set weights (train=off; keys w, ↑, ↓) ---------------------------------------
    def units(self) -> list[tuple[str, nn.Linear, int]]:
        """Every unit as (name, its layer, its row): y₁, y₂ … then ŷ (the slides' names)."""
        hidden = self.linears[:-1]
        sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
        out = []
        for k, lin in enumerate(hidden, 1):
            layer = "" if len(hidden) == 1 else f"{k}".translate(sub) + "."
            out += [
                (f"y{layer}{str(j + 1).translate(sub)}", lin, j) for j in range(lin.out_features)
            ]
        return out + [("ŷ", self.linears[-1], 0)]

    def flat_weights(self) -> list[float]:
        """The weights unit by unit: each unit's input weights, then its bias."""
        return [
            v for _, lin, j in self.units() for v in [*lin.weight[j].tolist(), lin.bias[j].item()]
        ]

    def weight_names(self) -> list[str]:
        sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
        return [
            f"{unit} {name}"
            for unit, lin, _ in self.units()
            for name in [*(f"w{str(i + 1).translate(sub)}" for i in range(lin.in_features)), "b"]
        ]

    def hand_weights(self) -> list[float]:
        """The `weights` param as numbers for this net (UsageError if they do not fit it)."""
        count = len(self.weight_names())
        text = self.p.weights
        if text in ("course", "nand-or"):
            if (text, count) not in HAND_WEIGHTS:
                nets = "one neuron (hidden=0) or the 2-2-1 net" if text == "course" else "2-2-1 net"
                raise UsageError(
                    f"weights={text} is for the {nets}; this net has {count} weights "
                    "(give them as numbers)"
                )
            if text == "course" and count == 3 and all(math.isnan(v) for v in self.probe):
                self.probe = SLIDE_PROBE
            text = HAND_WEIGHTS[(text, count)]
        values = [float(v) for v in text.split(",")]
        if len(values) != count:
            raise UsageError(
                f"weights= has {len(values)} numbers; this net has {count}: "
                + ", ".join(self.weight_names())
            )
        return values

    def set_weights(self, values: list[float]) -> None:
        with torch.no_grad():
            it = iter(values)
            for _, lin, j in self.units():
                for i in range(lin.in_features):
                    lin.weight[j, i] = next(it)
                lin.bias[j] = next(it)

    def action_next_weight(self) -> str:
        self.editing = (self.editing + 1) % len(self.weight_names())
        return self.editing_text()

    def action_raise_weight(self) -> str:
        return self.move_weight(EDIT_STEP)

    def action_lower_weight(self) -> str:
        return self.move_weight(-EDIT_STEP)

    def move_weight(self, delta: float) -> str:
        """Move the picked weight; the `weights` param keeps the result (r starts from it)."""
        values = self.flat_weights()
        values[self.editing] = round(values[self.editing] + delta, 6)
        self.set_weights(values)
        self.p["weights"] = ",".join(f"{v:g}" for v in values)
        return self.editing_text()

    def editing_text(self) -> str:
        name = self.weight_names()[self.editing]
        return (
            f"{name} = {self.flat_weights()[self.editing]:g} (w: next weight, ↑/↓: ±{EDIT_STEP:g})"
        )

    def hand_math(self) -> str:
        """The forward pass worked out for every input, as the slides write it:
        ŷ = σ(3·(−1) − 2·2 + 1) = σ(−6) = 0.0025 (one neuron: its products written out)."""
        acts = list(self.model)[1::2]
        names = [[u for u, lin, _ in self.units() if lin is layer] for layer in self.linears]
        symbols = ["σ" if isinstance(a, nn.Sigmoid) else type(a).__name__.lower() for a in acts]
        lines = [f"# Hand-set weights, no training: {self.editing_text()}"]
        formulas = [
            f"{name} = {g}({self.affine(lin, j, ins)})"
            for lin, g, layer, ins in zip(self.linears, symbols, names, [["x₁", "x₂"], *names])
            for j, name in enumerate(layer)
        ]
        lines.append("  " + ",  ".join(formulas))
        probe = [list(self.probe)] if not any(math.isnan(v) for v in self.probe) else []
        targets = self.Y.reshape(-1).tolist()
        for n, x in enumerate([*X_DATA, *probe]):
            a = torch.tensor(x, device=self.device)
            parts = []
            with torch.no_grad():
                for lin, act, g, layer in zip(self.linears, acts, symbols, names):
                    z = lin.weight @ a + lin.bias
                    out = act(z)
                    for j, name in enumerate(layer):
                        worked = ""
                        if len(self.linears) == 1:  # one neuron: the products, as the slides
                            worked = f"{g}({self.affine(lin, j, [_m(v) for v in x], True)}) = "
                        v = out[j].item()
                        shown = f"{v:g}" if g == "step" else f"{v:.4f}"
                        parts.append(f"{name} = {worked}{g}({_m(z[j].item())}) = {shown}")
                    a = out
            y = a.item()
            verdict = (
                "   (the slides' worked example)"
                if n >= len(targets)
                else (f" → {int(y >= 0.5)} {'✓' if (y >= 0.5) == (targets[n] > 0.5) else '✗'}")
            )
            lines.append(f"  x = ({_m(x[0])}, {_m(x[1])}): " + ",  ".join(parts) + verdict)
        return "\n".join(lines)

    @staticmethod
    def affine(lin: nn.Linear, j: int, inputs: list[str], product: bool = False) -> str:
        """w₁x₁ + w₂x₂ + b with the unit's numbers: 5x₁ + 5x₂ − 8, or 3·(−1) − 2·2 + 1."""
        out = ""
        for w, x in zip(lin.weight[j].tolist(), inputs):
            if product:
                x = f"({x})" if x.startswith("−") else x
                term = f"{_m(abs(w))}·{x}"
            else:
                term = f"{'' if abs(w) == 1 else _m(abs(w))}{x}"
            out += (
                term
                if not out and w >= 0
                else f"−{term}"
                if not out
                else f" {'−' if w < 0 else '+'} {term}"
            )
        b = lin.bias[j].item()
        return out + f" {'−' if b < 0 else '+'} {_m(abs(b))}"

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
    records = {
        **Gate.records,
        "loss": "BCE loss of this step's forward pass: the mean over the 4 inputs, so every "
        "gradient (autograd's and the math panel's by hand) carries its 1/m; the slides' "
        "hand-written backprop sums d_W over the 4 samples (4× dltui's) and averages d_b "
        "(equal to dltui's)",
    }

    def title_for(self, widths: list[int]) -> str:
        if widths == [2, 2, 1] and self.p.activation == "sigmoid":
            return type(self).title  # the lab's net
        if len(widths) == 2:
            return "XOR with one neuron: no line separates it"
        return super().title_for(widths)

    params = tuple(
        Param("hidden", 2, p.help, min=0, max=64) if p.name == "hidden" else p for p in Gate.params
    )
