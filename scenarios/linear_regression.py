"""Linear regression with optim.SGD (COURSE.md §2): `linreg` (H(x) = Wx + b) and `multivar`.

`linreg` is the lab line for line: x = y = [1, 2, 3], W = b = 0 with requires_grad,
`optim.SGD([W, b], lr=0.01)`, full batch, epochs 0..1000 (1001 updates). `dltui run linreg
--headless --steps 1001 --jsonl -` holds the lab's table: epoch k is step k + 1 (steps 1, 101, …, 1001).
`multivar` is the quiz-score lab: X (5×3: quiz1, quiz2, midterm) → final, W = zeros(3, 1),
b = 0, SGD lr = 1e-5, H(X) = XW + b, epochs 0..20 (21 updates); the five hypotheses approach y.
Both record the cost of each epoch's forward pass and the parameters after its update.

Batch size (COURSE.md §3, §6): `multivar --set batch=2` (or 1) and `linreg --set batch=2` (or
1) are the course's mini-batch lab: the data as `class CustomDataset(Dataset)` through
`DataLoader(dataset, batch_size, shuffle=True)`, one update per batch, each epoch's batches
drawn as a list when the epoch starts (`minibatch.Batches`); the full batch, the default, is
the lab above, unchanged. `linreg --set batch=3,2,1` trains one model per batch size side by
side from the same start with the same lr, their paths on one cost surface: a step is one
update of the smallest batch, and each larger one takes its fewer updates an epoch spread over
the same steps (batch=2: two of every three steps; the full batch: one), so at any step all
have seen the same epochs.
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

from .minibatch import QUIZ_X, QUIZ_Y, Batch, Batches, CustomDataset

# The fitted-line picture: the (x, y) plane coloured by the residual y − H(x), its zero line
# drawn as the boundary (= the fitted line). The cost surface: W and b ranges around (1, 0).
PLANE_X, PLANE_Y = np.linspace(0, 4, 41), np.linspace(-1, 5, 61)
SURF_W, SURF_B = np.linspace(-0.5, 2.5, 61), np.linspace(-1.5, 1.5, 61)
# With mini-batches, closer: where the paths run from (0, 0) to (1, 0), so their zig-zags show
# (scaled by the slope with data=2x: the paths scale with it).
CLOSE_W, CLOSE_B = np.linspace(-0.1, 1.3, 57), np.linspace(-0.2, 0.6, 33)
PATH = 4000  # trajectory points kept (thinned by 2 beyond that)
Metrics = dict[str, torch.Tensor | float | Callable[[], torch.Tensor]]


def cost_and_grads(predict, W: torch.Tensor, b: torch.Tensor, y: torch.Tensor):
    """H, the MSE cost and autograd's (∂W, ∂b) at the current W, b, leaving their .grad alone
    (the math panel shows the next step without touching the optimizer's state)."""
    W, b = W.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    h = predict(W, b)
    cost = torch.mean((h - y) ** 2)
    gw, gb = torch.autograd.grad(cost, (W, b))
    return h.detach(), cost.detach(), gw, gb


class Fit:
    """One H(x) = Wx + b from W = b = 0 with an optim.SGD of its own, trained on batches of
    `size`: the whole data in order when size ≥ m (the lab's full batch: no DataLoader, no
    shuffle), else the mini-batches of a shuffled DataLoader over CustomDataset. Keeps its path
    over (W, b), this epoch's batches and its running avg_cost."""

    def __init__(self, size: int, xs: list, ys: list, lr: float, device: torch.device):
        self.size, self.device = size, device
        self.x_train = torch.tensor(xs, device=device)
        self.y_train = torch.tensor(ys, device=device)
        self.W = torch.zeros(1, requires_grad=True, device=device)
        self.b = torch.zeros(1, requires_grad=True, device=device)
        self.optimizer = optim.SGD([self.W, self.b], lr=lr)
        self.full = size >= len(xs)
        self.loader = None if self.full else Batches(CustomDataset(xs, ys), size, device)
        self.per_epoch = 1 if self.loader is None else self.loader.per_epoch
        self.batches: list[Batch] = [(list(range(len(xs))), self.x_train, self.y_train)]
        self.path = [torch.cat([self.W, self.b]).detach().clone()]
        self.epoch_cost = torch.zeros((), device=device)  # the lab's avg_cost, this epoch
        self.new_epoch()

    @property
    def name(self) -> str:
        return f"batch={self.size}"

    def new_epoch(self) -> None:
        """This epoch's batches (the full batch's are always the same one), none taken yet."""
        self.next = 0
        if self.loader is not None:
            self.batches = self.loader.epoch()
            self.epoch_cost = torch.zeros((), device=self.device)

    def due(self, tick: int, ticks: int) -> bool:
        """Whether this fit updates at step `tick` of an epoch of `ticks` steps: its updates
        spread evenly over the epoch, the first at its first step."""
        n = self.per_epoch
        return -(-tick * n // ticks) > -(-(tick - 1) * n // ticks)

    def update(self) -> torch.Tensor:
        """The lab's step on this epoch's next batch; its cost (before the update)."""
        _, x_train, y_train = self.batches[self.next]
        hypothesis = x_train * self.W + self.b
        cost = torch.mean((hypothesis - y_train) ** 2)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.next += 1
        cost = cost.detach()
        if self.loader is None:
            self.epoch_cost = cost  # one batch an epoch: avg_cost is its cost
        else:
            self.epoch_cost = self.epoch_cost + cost / self.per_epoch  # avg_cost += cost / n
        self.path.append(torch.cat([self.W, self.b]).detach())  # a copy: W, b change in place
        if len(self.path) > PATH:
            self.path = self.path[::2]
        return cost

    def listing(self) -> str:
        """This epoch's batches by their x, ▶ before the next one: "[2, 1] ▶[3]"."""
        return " ".join(
            f"{'▶' if k == self.next else ''}{vec(x, 'g')}"
            for k, (_, x, _) in enumerate(self.batches)
        )


class LinearRegression(Scenario):
    name, title = "linreg", "Linear regression H(x) = Wx + b with optim.SGD"
    description = (
        "Fit W and b on x = y = [1, 2, 3] with SGD(lr=0.01): the lab's 1001 epochs; batch=3,2,1: "
        "full batch, mini-batch and one sample side by side."
    )
    caption = (
        "SGD walks down the cost surface cost(W, b) towards W = 1, b = 0; the fitted line "
        "swings onto the data. The valley is long and flat, so the last stretch is slow."
    )
    mini_caption = (
        "Mini-batches of {size} from a shuffled DataLoader: {n} updates an epoch, each towards "
        "its own points: the path bends batch by batch, the cost per update jumps, its mean per "
        "epoch falls smoothly."
    )
    several_caption = (
        "Same start and lr, a model per batch size; a step is one update of batch={size} ({n} an "
        "epoch). Mini-batch paths bend batch by batch (zig-zag at a larger lr: ]), the full "
        "batch's is smooth."
    )
    steps = 1001
    speed = 60.0
    diverge_above = 1e7
    columns = 2
    records: ClassVar[dict[str, str]] = {
        "loss": "cost of this epoch's forward pass (before the update); with a batch < 3, of "
        "this mini-batch's; with several batch sizes, the highest of this step's updates (the run "
        "stops as diverged when any batch size's blows up: they share one lr)",
        "W": "W after this epoch's update (this update's with a batch < 3)",
        "b": "b after this epoch's update (this update's with a batch < 3)",
        "epoch": "with a batch < 3 or several: the epoch of this step (1-based; the lab prints "
        "0..1000)",
        "batch_index": "with one batch < 3: this mini-batch's number in its epoch (1-based)",
        "epoch_cost": "with one batch < 3, at an epoch's last batch: the mean of its batches' "
        "costs (the lab's avg_cost += cost / total_batch)",
        "batch=<k>/loss": "with several batch sizes: the cost of batch size <k>'s update, at "
        "the steps it updates (before the update)",
        "batch=<k>/W, batch=<k>/b": "with several batch sizes: batch size <k>'s W and b after "
        "this step",
        "batch=<k>/epoch_cost": "with several batch sizes, at an epoch's last step: batch size "
        "<k>'s avg_cost over the epoch",
    }
    params = (
        Param("lr", 0.01, "learning rate of SGD", min=0.0, max=1e3, live=True),
        Param(
            "data",
            "x",
            "y = x (the slide's printed table) or y = 2x (the slide's code: 2, 4, 6 points)",
            choices=("x", "2x"),
        ),
        Param(
            "batch",
            "3",
            "samples per update: 3 = the full batch (the lab), 2 or 1 = mini-batches of "
            "DataLoader(CustomDataset(), batch_size, shuffle=True); a comma list (3,2,1) trains "
            "one model per size side by side from the same start, a path each",
            choices=("3", "2", "1"),
            multi=True,
        ),
    )
    panels = (
        Panel("field2d", "Data and H(x) = Wx + b (colour: y − H(x))", "fit"),
        Panel("field2d", "cost(W, b) (log levels) and the SGD path", "surface"),
        Panel("line", "Cost", "loss", options={"logy": True, "ema": 0}),
        Panel("text", "The math of the next epoch", "math"),
    )
    mini_panels = (
        panels[0],
        panels[1],
        Panel(
            "line",
            "Cost per update and per epoch (MSE)",
            series=("loss", "epoch_cost"),
            options={"logy": True, "ema": 0},
        ),
        Panel("text", "The math of the next update (its mini-batch)", "math"),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.slope = 2.0 if self.p.data == "2x" else 1.0
        xs = [[1.0], [2.0], [3.0]]
        ys = [[self.slope * v for v in row] for row in xs]
        sizes = [int(s) for s in dict.fromkeys(self.p.batch.split(","))]
        self.fits = [Fit(size, xs, ys, self.p.lr, self.device) for size in sizes]
        self.x_train, self.y_train = self.fits[0].x_train, self.fits[0].y_train
        self.ticks = max(fit.per_epoch for fit in self.fits)  # steps an epoch
        close = self.ticks > 1 or len(self.fits) > 1
        self.surf_w, self.surf_b = (
            (CLOSE_W * self.slope, CLOSE_B * self.slope) if close else (SURF_W, SURF_B)
        )
        self.epoch, self.tick = 1, 0
        smallest = min(self.fits, key=lambda fit: fit.size)
        caption = type(self).caption
        if len(self.fits) > 1:
            caption = self.several_caption.format(size=smallest.size, n=self.ticks)
        elif not smallest.full:
            caption = self.mini_caption.format(size=smallest.size, n=self.ticks)
        self.caption = caption.replace("W = 1", f"W = {self.slope:g}")

    def length(self) -> int:
        return self.steps * self.ticks

    def optimizers(self) -> list[torch.optim.Optimizer]:
        return [fit.optimizer for fit in self.fits]

    def step(self) -> Metrics:
        self.tick += 1
        if len(self.fits) == 1:
            metrics = self.one_step(self.fits[0])
        else:
            metrics = self.side_by_side()
        if self.tick == self.ticks:  # the epoch is over: the next one's batches
            for fit in self.fits:
                fit.new_epoch()
            self.epoch, self.tick = self.epoch + 1, 0
        return metrics

    def one_step(self, fit: Fit) -> Metrics:
        cost = fit.update()
        wb = fit.path[-1]
        # W and b are only shown (no curve plots them): read when a frame or record is taken.
        metrics = {"loss": cost, "W": lambda: wb[0], "b": lambda: wb[1]}
        if fit.loader is not None:
            metrics["epoch"], metrics["batch_index"] = float(self.epoch), float(fit.next)
            if fit.next == fit.per_epoch:
                metrics["epoch_cost"] = fit.epoch_cost
        return metrics

    def side_by_side(self) -> Metrics:
        """Every fit whose update falls on this step takes it; all report W and b."""
        costs = {fit.name: fit.update() for fit in self.fits if fit.due(self.tick, self.ticks)}
        metrics: Metrics = {
            "loss": torch.stack(list(costs.values())).max(),  # any blowing up stops the run
            "epoch": float(self.epoch),
        }
        for fit in self.fits:
            if fit.name in costs:
                metrics[f"{fit.name}/loss"] = costs[fit.name]
            wb = fit.path[-1]
            metrics[f"{fit.name}/W"] = lambda wb=wb: wb[0]
            metrics[f"{fit.name}/b"] = lambda wb=wb: wb[1]
            if self.tick == self.ticks:
                metrics[f"{fit.name}/epoch_cost"] = fit.epoch_cost
        return metrics

    # -- what to show -------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        if len(self.fits) > 1:
            names = [fit.name for fit in self.fits]
            log = {"logy": True, "ema": 0}
            return (
                Panel(
                    "field2d",
                    "Each batch's path on cost(W, b)",
                    "surface",
                    row_span=3,
                ),
                Panel(
                    "line",
                    "Cost per update (of its batch)",
                    series=tuple(f"{n}/loss" for n in names),
                    options=log,
                ),
                Panel(
                    "line",
                    "Cost per epoch (avg_cost)",
                    series=tuple(f"{n}/epoch_cost" for n in names),
                    options=log,
                ),
                Panel("table", "This epoch's batches (▶ next)", "fits"),
            )
        return self.panels if self.fits[0].full else self.mini_panels

    def surface(self) -> dict:
        """cost(W, b) over the plane, each fit's path and the minimum."""
        x, y = to_numpy(self.x_train).ravel(), to_numpy(self.y_train).ravel()
        ws, bs = self.surf_w, self.surf_b
        cost = ((ws[None, :, None] * x + bs[:, None, None] - y) ** 2).mean(-1)
        if len(self.fits) > 1:
            paths = [(fit.name, fit.path) for fit in self.fits]
        else:
            fit = self.fits[0]
            paths = [("SGD (W, b)" if fit.full else f"SGD, {fit.name} (W, b)", fit.path)]
        return {
            "x": ws,
            "y": bs,
            "z": cost,
            "log": True,
            "levels": 10,
            "trajectories": [
                (name, finite(to_numpy(torch.stack(path)), 1e6)) for name, path in paths
            ],
            "markers": [(f"minimum W={self.slope:g}, b=0", self.slope, 0.0)],
            "zlabel": "cost",
            "xlabel": "W",
            "ylabel": "b",
        }

    def view(self) -> dict[str, dict]:
        if len(self.fits) > 1:
            return {"surface": self.surface(), "fits": self.table()}
        fit = self.fits[0]
        w, b = float(fit.W.item()), float(fit.b.item())
        x, y = to_numpy(self.x_train).ravel(), to_numpy(self.y_train).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            plane_y = PLANE_Y * self.slope if self.slope > 1 else PLANE_Y
            residual = plane_y[:, None] - (w * PLANE_X[None, :] + b)
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
            "surface": self.surface(),
            "math": {"text": self.math(fit)},
        }

    def table(self) -> dict:
        """A row per batch size: this epoch's batches (as many as its updates an epoch, ▶ the
        next) and where its path is now."""
        rows = [
            [str(fit.size), fit.listing(), float(fit.W.item()), float(fit.b.item())]
            for fit in self.fits
        ]
        return {"columns": ["batch", "this epoch", "W", "b"], "rows": rows}

    def math(self, fit: Fit) -> str:
        """The next update of `fit` written out: on its mini-batch, or the whole data."""
        lr = self.p.lr
        idx, x, y = fit.batches[fit.next]
        h, cost, gw, gb = cost_and_grads(lambda W, b: x * W + b, fit.W, fit.b, y)
        with torch.no_grad():
            err = h - y
            fw, fb = 2 * torch.mean(err * x), 2 * torch.mean(err)
        w0, b0 = float(fit.W.item()), float(fit.b.item())
        off = (
            ""
            if self.surf_w[0] <= w0 <= self.surf_w[-1] and self.surf_b[0] <= b0 <= self.surf_b[-1]
            else "  (off the plot)"
        )
        head = []
        if fit.loader is not None:  # this epoch's batches by their x, ▶ the next
            head.append(f"# Epoch {self.epoch}: {fit.listing()} (m = {len(idx)})")
        return "\n".join(
            head
            + [
                f"# Forward  W = {num(w0)}, b = {num(b0)}{off}",
                f"  H(x) = W·x + b = {vec(h)}",
                f"  cost = 1/m Σ (H(xᵢ) − yᵢ)² = {num(float(cost))}   y = {vec(y, 'g')}",
                "# Backward  cost.backward()        formula   autograd",
                f"  ∂W = 2/m Σ (H(xᵢ) − yᵢ)·xᵢ  {num(float(fw)):>10} {num(float(gw)):>10}",
                f"  ∂b = 2/m Σ (H(xᵢ) − yᵢ)     {num(float(fb)):>10} {num(float(gb)):>10}",
                f"# optimizer.step()  θ := θ − lr·∂θ   (lr = {lr:g})",
                f"  W = {num(w0)} − {lr:g}·({num(float(gw))}) = {num(w0 - lr * float(gw))}",
                f"  b = {num(b0)} − {lr:g}·({num(float(gb))}) = {num(b0 - lr * float(gb))}",
            ]
        )


class MultivariableRegression(Scenario):
    name, title = "multivar", "Multivariable regression H(X) = XW + b (quiz scores → final)"
    description = "Predict the final exam from three quiz scores: W = zeros(3,1), SGD lr=1e-5."
    caption = (
        "One weight per input: H(X) = XW + b predicts all five students at once (a matrix "
        "product). With lr = 1e-5 the five hypotheses approach the targets in ~10 epochs."
    )
    mini_caption = (
        "Mini-batches of {batch} from a shuffled DataLoader: {n} updates an epoch, each on its "
        "own students, so the cost per update is noisy; its mean per epoch falls smoothly."
    )
    aliases = ("multivariable",)
    steps = 21
    speed = 4.0
    diverge_above = 3e10  # ~1e6 × the first cost (29661.8)
    columns = 2
    records: ClassVar[dict[str, str]] = {
        "loss": "mean squared error of this update's forward pass (before the update): "
        "of the epoch's 5 students, or with batch < 5 of this mini-batch's",
        "w1": "weight of quiz1 after this update",
        "w2": "weight of quiz2 after this update",
        "w3": "weight of the midterm after this update",
        "b": "bias after this update",
        "epoch": "with batch < 5: the epoch this update belongs to (1-based; the lab prints 0..20)",
        "batch_index": "with batch < 5: this mini-batch's number in its epoch (1-based)",
        "epoch_cost": "with batch < 5, at an epoch's last batch: the mean of its batches' "
        "costs (the lab's avg_cost += cost / total_batch)",
    }
    params = (
        Param(
            "lr", 1e-5, "learning rate of SGD (diverges beyond ≈ 4e-5)", min=0.0, max=1.0, live=True
        ),
        Param(
            "batch",
            5,
            "students per update: 5 = the full batch (the lab), 2 or 1 = mini-batches of "
            "DataLoader(CustomDataset(), batch_size, shuffle=True)",
            min=1,
            max=5,
        ),
    )
    panels = (
        Panel("table", "The five students: scores, final, H(x)", "students"),
        Panel("heatmap", "W | b and their gradients", "weights"),
        Panel("line", "Cost (MSE)", "loss", options={"logy": True, "ema": 0}),
        Panel("text", "The math of the next epoch", "math"),
    )
    mini_panels = (
        panels[0],
        panels[1],
        Panel(
            "line",
            "Cost per update and per epoch (MSE)",
            series=("loss", "epoch_cost"),
            options={"logy": True, "ema": 0},
        ),
        Panel("text", "The math of the next update (its mini-batch)", "math"),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.x_train = torch.tensor(QUIZ_X, device=self.device)
        self.y_train = torch.tensor(QUIZ_Y, device=self.device)
        self.W = torch.zeros((3, 1), requires_grad=True, device=self.device)
        self.b = torch.zeros(1, requires_grad=True, device=self.device)
        self.optimizer = optim.SGD([self.W, self.b], lr=self.p.lr)
        self.mini = self.p.batch < len(QUIZ_X)
        if self.mini:
            self.loader = Batches(CustomDataset(), self.p.batch, self.device)
            self.per_epoch = self.loader.per_epoch
            self.caption = self.mini_caption.format(batch=self.p.batch, n=self.per_epoch)
            self.epoch, self.epoch_sum = 1, torch.zeros((), device=self.device)
            self.new_epoch()

    def new_epoch(self) -> None:
        """This epoch's batches, as `for x, y in dataloader` would give them."""
        self.batches = self.loader.epoch()
        self.next_batch = 0

    def length(self) -> int:
        return self.steps * (self.per_epoch if self.mini else 1)

    def step(self) -> dict[str, torch.Tensor | Callable[[], torch.Tensor]]:
        if self.mini:
            _, x_train, y_train = self.batches[self.next_batch]
        else:
            x_train, y_train = self.x_train, self.y_train
        hypothesis = x_train.matmul(self.W) + self.b
        cost = torch.mean((hypothesis - y_train) ** 2)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        wb = torch.cat([self.W.detach().reshape(-1), self.b.detach()])  # a copy, as for linreg
        metrics = {
            "loss": cost.detach(),
            "w1": lambda: wb[0],
            "w2": lambda: wb[1],
            "w3": lambda: wb[2],
            "b": lambda: wb[3],
        }
        if self.mini:
            self.next_batch += 1
            metrics["epoch"], metrics["batch_index"] = float(self.epoch), float(self.next_batch)
            self.epoch_sum = self.epoch_sum + cost.detach() / self.per_epoch  # avg_cost += …
            if self.next_batch == self.per_epoch:
                metrics["epoch_cost"] = self.epoch_sum
                self.epoch, self.epoch_sum = self.epoch + 1, torch.zeros((), device=self.device)
                self.new_epoch()
        return metrics

    # -- what to show -------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        return self.mini_panels if self.mini else self.panels

    def forward(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hypothesis and cost at the current W, b, and autograd's gradients."""
        return cost_and_grads(lambda W, b: self.x_train.matmul(W) + b, self.W, self.b, self.y_train)

    def upcoming(self) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """The students, x and y of the next update (all five, in order, at full batch)."""
        if not self.mini:
            return list(range(len(QUIZ_X))), self.x_train, self.y_train
        idx, x, y = self.batches[self.next_batch]
        return [int(i) for i in idx], x, y

    def view(self) -> dict[str, dict]:
        h = self.forward()[0]  # every student's H(x), for the table
        x, y, hh = to_numpy(self.x_train), to_numpy(self.y_train).ravel(), to_numpy(h).ravel()
        rows = [
            [f"{a:g}", f"{q:g}", f"{m:g}", f"{t:g}", f"{p:.2f}", f"{p - t:+.2f}"]
            for (a, q, m), t, p in zip(x.tolist(), y.tolist(), hh.tolist())
        ]
        columns = ["quiz1 x₁", "quiz2 x₂", "midterm x₃", "final y", "H(x)", "H − y"]
        students, bx, by = self.upcoming()
        bh, bcost, bgw, bgb = cost_and_grads(lambda W, b: bx.matmul(W) + b, self.W, self.b, by)
        if self.mini:  # which of this epoch's batches each student is in; ▶ the next one
            columns.append("batch")
            where = {int(i): k for k, (idx, _, _) in enumerate(self.batches) for i in idx}
            for i, row in enumerate(rows):
                k = where[i]
                row.append(f"{'▶' if k == self.next_batch else ''}{k + 1}/{self.per_epoch}")
        params = finite(to_numpy(torch.cat([self.W.reshape(-1), self.b])), 1e12)[:, None]
        grads = finite(to_numpy(torch.cat([bgw.reshape(-1), bgb])), 1e12)[:, None]
        return {
            "students": {
                "columns": columns,
                "rows": rows,
                "highlight": [i for i, (p, t) in enumerate(zip(hh, y)) if not abs(p - t) <= 5],
            },
            "weights": {
                "matrices": [("W | b", params), ("∂cost/∂(W | b)", grads)],
                "row_labels": ["w1", "w2", "w3", "b"],
            },
            "math": {"text": self.math(students, bx, by, bh, bcost, bgw, bgb)},
        }

    def math(
        self,
        students: list[int],
        x: torch.Tensor,
        y: torch.Tensor,
        h: torch.Tensor,
        cost: torch.Tensor,
        gw: torch.Tensor,
        gb: torch.Tensor,
    ) -> str:
        lr, m = self.p.lr, len(students)
        w = self.W.detach().reshape(-1).tolist()
        b = float(self.b.item())
        x0, y0, first = x[0].tolist(), float(y[0]), students[0] + 1
        terms = " + ".join(f"{xi:g}·{num(wi)}" for xi, wi in zip(x0, w))
        new_w = [wi - lr * gi for wi, gi in zip(w, gw.reshape(-1).tolist())]
        sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
        if self.mini:
            who = ", ".join(str(i + 1) for i in students)
            plural = "s" if m > 1 else ""
            head = (
                f"# Batch {self.next_batch + 1}/{self.per_epoch} of epoch {self.epoch}: "
                f"student{plural} {who}"
            )
        else:
            head = "# H(X) = XW + b, row 1 (student 1)"
        return "\n".join(
            [
                head,
                f"  H(x{str(first).translate(sub)}) = {terms}",
                f"        + {num(b)} = {num(float(h[0]))}   (y = {y0:g})",
                f"  cost = 1/{m} Σ (H(xᵢ) − yᵢ)² = {num(float(cost))}",
                f"# Backward  ∂W = 2/{m}·Xᵀ(H − y),  ∂b = 2/{m}·Σ(H − y)",
                f"  ∂W = {vec(gw)}",
                f"  ∂b = {num(float(gb))}",
                f"# optimizer.step()  θ := θ − lr·∂θ   (lr = {lr:g})",
                f"  W → {vec(torch.tensor(new_w))}",
                f"  b → {num(b - lr * float(gb))}",
            ]
        )
