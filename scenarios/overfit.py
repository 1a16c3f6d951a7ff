"""Overfitting, dropout and early stopping (COURSE.md §4, §6): an over-parameterised MLP learns
a few noisy points by heart.

The data: two moons (generated in numpy from a fixed seed, so every run sees the same points),
`train` points whose labels are flipped with probability `flip` (the outliers), `val`
validation points and `test` points with true labels. The net: `depth` × (Linear(width) → ReLU), Linear to one
logit, ~17k weights for 50 points by default; BCE, Adam, full batch (or mini-batches of
`batch`). Every step measures the training and the validation loss at the same weights
(eval mode); the validation loss falls, bottoms out, then climbs while the training loss goes
to 0: the "stop here" mark on the plot is early stopping's step. `compare=dropout` trains a
second net with `torch.nn.Dropout(p)` after every hidden ReLU in lockstep (same start
weights, same batches): its gap stays small; the units dropped for one training point this
step are drawn as a masked layer. `compare=l2` adds weight decay instead.
"""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dltui.scenario import Panel, Param, Scenario, to_numpy
from dltui.scenario.show import decision_field

DATA_SEED = 0  # the points are the same for every run seed; the seed picks weights and batches
GRID = np.linspace(-2.0, 2.0, 61)


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points on two interleaved half circles with Gaussian noise, centred on 0."""
    t = rng.uniform(0.0, math.pi, n)
    label = rng.integers(0, 2, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    x = np.where(label[:, None] == 0, upper, lower) + rng.normal(0.0, noise, (n, 2))
    x = (x - [0.5, 0.25]) / [1.0, 0.6]
    return x.astype(np.float32), label.astype(np.float32)


def mlp(depth: int, width: int, dropout: float) -> nn.Sequential:
    """depth × (Linear → ReLU [→ Dropout(p)]) → Linear to one logit."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise([2] + [width] * depth):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(width, 1))


class Net:
    """One of the two nets: model, optimizer, the best validation loss so far and its step,
    and (with dropout) the masks its Dropout layers drew in the last training forward pass."""

    def __init__(self, model: nn.Sequential, lr: float, weight_decay: float, label: str):
        self.model, self.label = model, label
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        self.best = torch.tensor(math.inf)
        self.best_step = torch.tensor(0.0)
        self.names = [name for name, _ in model.named_parameters()]
        self.kept = [p.detach().clone() for p in model.parameters()]
        """The weights of the best step so far: what early stopping would keep."""
        self.masks: list[torch.Tensor] = []  # per Dropout: +1 kept, 0 off (ReLU 0), −1 dropped
        self.dropouts = [m for m in model if isinstance(m, nn.Dropout)]
        for d in self.dropouts:
            d.register_forward_hook(self.keep_mask)

    def keep_mask(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if module.training:
            if module is self.dropouts[0]:
                self.masks = []
            x, y = inputs[0][0].detach(), output[0].detach()
            self.masks.append((y != 0).float() - ((y == 0) & (x != 0)).float())

    def keep(self, better: torch.Tensor) -> None:
        """Keep the current weights where `better` (on the device: no sync per step)."""
        with torch.no_grad():
            for kept, p in zip(self.kept, self.model.parameters()):
                kept.copy_(torch.where(better, p, kept))

    def kept_model(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of the net with the kept weights (eval mode)."""
        self.model.eval()
        out = torch.func.functional_call(self.model, dict(zip(self.names, self.kept)), (x,))
        self.model.train()
        return out

    def to(self, device: torch.device) -> Net:
        self.best, self.best_step = self.best.to(device), self.best_step.to(device)
        return self


class Overfit(Scenario):
    name, title = "overfit", "Overfitting: validation loss, dropout and early stopping"
    description = "A big MLP learns 50 noisy points by heart; dropout and early stopping help."
    caption = (
        "Training loss → 0 while the validation loss turns back up: the net learns the noise. "
        "Stop at the lowest validation loss, or try --set compare=dropout (or l2)."
    )
    aliases = ("dropout",)
    steps = 1500
    speed = 100.0
    columns = 3
    records = {
        "loss": "BCE of this step's forward pass (with dropout active, when on)",
        "train_loss": "BCE on the training points at this step's weights (eval mode)",
        "val_loss": "BCE on the validation points at this step's weights (eval mode)",
        "best_step, best_val_loss": "the step with the lowest val_loss so far, and that loss",
        "test_loss": "BCE on the test points with the weights after this step's update",
        "stopped_test_loss": "BCE on the test points with the weights of best_step (early "
        "stopping's)",
        "cmp/<key>": "the same keys for the second net when `compare` is set",
    }
    params = (
        Param("lr", 5e-4, "learning rate of Adam (both nets)", min=0.0, max=10.0, live=True),
        Param("train", 50, "training points", min=4, max=5000),
        Param("val", 300, "validation points", min=1, max=20000),
        Param("test", 300, "test points (for the early-stopped net's test loss)", min=1, max=20000),
        Param("flip", 0.15, "chance a training label is flipped (the outliers)", min=0, max=0.5),
        Param("noise", 0.25, "std of the Gaussian noise on the points", min=0.0, max=2.0),
        Param("width", 128, "units per hidden layer", min=1, max=2048),
        Param("depth", 2, "hidden layers", min=1, max=8),
        Param("batch", 0, "mini-batch size (0: the whole training set)", min=0, max=5000),
        Param(
            "compare",
            "none",
            "train a second net beside the first on the same batches: with dropout, or with "
            "L2 weight decay",
            choices=("none", "dropout", "l2"),
        ),
        Param("dropout", 0.5, "p of the Dropout layers (compare=dropout)", min=0.0, max=0.95),
        Param("weight_decay", 0.01, "L2 weight decay (compare=l2)", min=0.0, max=10.0),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        p, to = self.p, {"device": self.device}
        rng = np.random.default_rng(DATA_SEED)
        x, y = moons(p.train + p.val, p.noise, rng)
        flipped = rng.random(p.train) < p.flip
        y[: p.train] = np.where(flipped, 1 - y[: p.train], y[: p.train])
        self.X, self.Y = torch.tensor(x[: p.train], **to), torch.tensor(y[: p.train], **to)
        self.X_val, self.Y_val = torch.tensor(x[p.train :], **to), torch.tensor(y[p.train :], **to)
        self.flipped = flipped
        x_test, y_test = moons(p.test, p.noise, rng)  # drawn after: train and val stay put
        self.X_test, self.Y_test = torch.tensor(x_test, **to), torch.tensor(y_test, **to)

        rng_state = torch.get_rng_state()
        self.nets = [Net(mlp(p.depth, p.width, 0.0).to(self.device), p.lr, 0.0, "plain")]
        if p.compare != "none":  # the same start weights: Dropout and L2 add no parameters
            torch.set_rng_state(rng_state)
            dropout = p.dropout if p.compare == "dropout" else 0.0
            decay = p.weight_decay if p.compare == "l2" else 0.0
            label = f"dropout p={p.dropout:g}" if dropout else f"L2 {decay:g}"
            self.nets.append(
                Net(mlp(p.depth, p.width, dropout).to(self.device), p.lr, decay, label)
            )
        self.nets = [net.to(self.device) for net in self.nets]
        self.batches = torch.Generator().manual_seed(torch.initial_seed())
        self.order = torch.empty(0, dtype=torch.long)
        self.cursor = 0
        self.t = 0

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        size = self.p.batch or len(self.X)
        if size >= len(self.X):
            return self.X, self.Y
        if self.cursor + size > len(self.order):
            self.order, self.cursor = torch.randperm(len(self.X), generator=self.batches), 0
        idx = self.order[self.cursor : self.cursor + size].to(self.device)
        self.cursor += size
        return self.X[idx], self.Y[idx]

    def step(self) -> dict[str, torch.Tensor]:
        self.t += 1
        x, y = self.next_batch()
        metrics = {}
        for net, prefix in zip(self.nets, ("", "cmp/")):
            metrics |= {prefix + k: v for k, v in self.train_step(net, x, y).items()}
        return metrics

    def train_step(self, net: Net, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        model = net.model
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        train_loss, val_loss = self.losses(model)  # at the weights of this forward pass
        better = val_loss < net.best
        net.keep(better)
        net.optimizer.zero_grad()
        loss.backward()
        net.optimizer.step()
        net.best = torch.where(better, val_loss, net.best)
        net.best_step = torch.where(better, float(self.t), net.best_step)
        return {
            "loss": loss.detach(),
            "train_loss": train_loss,
            "val_loss": val_loss,
            "best_step": net.best_step,
            "best_val_loss": net.best,
            "test_loss": lambda: self.test_loss(net.model),
            "stopped_test_loss": lambda: self.test_loss(net.kept_model),
        }

    @torch.no_grad()
    def test_loss(self, model) -> torch.Tensor:
        """BCE on the test points (model: a module, switched to eval mode, or a function)."""
        if isinstance(model, nn.Module):
            model.eval()
        loss = F.binary_cross_entropy_with_logits(model(self.X_test).squeeze(1), self.Y_test)
        if isinstance(model, nn.Module):
            model.train()
        return loss

    @torch.no_grad()
    def losses(self, model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        model.eval()  # Dropout off: the net as it would be used
        out = [
            F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
            for x, y in ((self.X, self.Y), (self.X_val, self.Y_val))
        ]
        model.train()
        return out[0], out[1]

    def optimizers(self) -> list[torch.optim.Optimizer]:
        return [net.optimizer for net in self.nets]

    # -- what to show -------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        both = ("", "cmp/")[: len(self.nets)]
        series = tuple(f"{p}{k}" for p in both for k in ("train_loss", "val_loss"))
        loss = Panel(
            "line",
            "Train & val loss (│ = stop here)",
            series=series,
            options={"logy": True, "ema": 0},
        )
        stop = Panel("text", "Early stopping", "stop")
        if len(self.nets) == 1:
            return (
                Panel("field2d", "Decision boundary (training points)", "boundary", row_span=2),
                replace(loss, col_span=2),
                stop,
                Panel("bars", "‖W‖ per layer", "weights"),
            )
        second = (
            Panel("heatmap", "Dropout now, one point: red kept, blue dropped", "mask")
            if self.p.compare == "dropout"
            else Panel("bars", "‖W‖ per layer: weight decay keeps them small", "weights")
        )
        return (
            Panel("field2d", f"Decision boundary: {self.nets[0].label}", "boundary"),
            Panel("field2d", f"Decision boundary: {self.nets[1].label}", "cmp_boundary"),
            replace(loss, row_span=2),
            stop,
            second,
        )

    def view(self) -> dict[str, dict]:
        keys = ("boundary", "cmp_boundary")
        out: dict[str, dict] = {key: self.boundary(net) for net, key in zip(self.nets, keys)}
        out["stop"] = {"text": self.stop_text()}
        marks = [
            (int(net.best_step), "stop here" if i == 0 else f"stop ({net.label.split()[0]})")
            for i, net in enumerate(self.nets)
            if int(net.best_step)
        ]
        out[",".join(p.key for p in self.layout() if p.kind == "line")] = {"events": marks}
        if self.p.compare == "dropout":
            out["mask"] = self.mask_view()
        else:
            out["weights"] = self.weights_view()
        return out

    def boundary(self, net: Net) -> dict:
        net.model.eval()
        field = decision_field(
            lambda xy: torch.sigmoid(net.model(xy)).squeeze(1),
            GRID,
            to_numpy(self.X),
            to_numpy(self.Y),
            self.device,
        )
        net.model.train()
        return field

    def stop_text(self) -> str:
        if self.t == 0:
            return "no step yet"
        lines = []
        for net in self.nets:
            with torch.no_grad():
                train, val = (float(v) for v in self.losses(net.model))
            best, at = float(net.best), int(net.best_step)
            stopped, now = (float(self.test_loss(m)) for m in (net.kept_model, net.model))
            lines += [
                f"# {net.label}: stop at {at}, val {best:.4f}",
                f"  now: train {train:.4f}, val {val:.4f}",
                f"  gap {val - train:+.4f}, val {val / best:.2f}× lowest",
                f"  test {stopped:.4f} stopped, {now:.4f} now",
            ]
        n, flips = len(self.X), int(self.flipped.sum())
        weights = sum(p.numel() for p in self.nets[0].model.parameters())
        lines.append(
            f"{weights:,} weights; {n} train ({flips} flipped), "
            f"{len(self.X_val)} val, {len(self.X_test)} test points"
        )
        return "\n".join(lines)

    def mask_view(self) -> dict:
        net = self.nets[1]
        if not net.masks:
            return {"matrices": []}
        cols = 16 if net.masks[0].numel() % 16 == 0 else net.masks[0].numel()
        matrices = []
        for k, m in enumerate(net.masks, 1):
            dropped, active = int((m < 0).sum()), int((m != 0).sum())
            title = f"layer {k}: {dropped}/{active} dropped"
            matrices.append((title, to_numpy(m.reshape(-1, cols))))
        return {"matrices": matrices, "vmax": 1.0}

    def weights_view(self) -> dict:
        linears = [[m for m in net.model if isinstance(m, nn.Linear)] for net in self.nets]
        return {
            "labels": [str(k) for k in range(1, len(linears[0]))] + ["out"],
            "series": [
                (net.label, np.array([float(lin.weight.detach().norm()) for lin in lins]))
                for net, lins in zip(self.nets, linears)
            ],
            "unit": "‖W‖",
        }
