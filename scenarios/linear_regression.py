"""Linear regression with optim.SGD (COURSE.md §2): `linreg` (H(x) = Wx + b) and `multivar`.

`linreg` is the lab line for line: x = y = [1, 2, 3], W = b = 0 with requires_grad,
`optim.SGD([W, b], lr=0.01)`, full batch, epochs 0..1000 (1001 updates). `dltui run linreg
--headless --steps 1001 --jsonl -` holds the lab's table: epoch k is step k + 1 (steps 1, 101, …, 1001).
`multivar` is the quiz-score lab: X (5×3: quiz1, quiz2, midterm) → final, W = zeros(3, 1),
b = 0, SGD lr = 1e-5, H(X) = XW + b, epochs 0..20 (21 updates); the five hypotheses approach y.
Both record the cost of each epoch's forward pass and the parameters after its update.
`multivar --set batch=2` (or 1) is the course's mini-batch lab: the quiz data as
`class CustomDataset(Dataset)` through `DataLoader(dataset, batch_size=2, shuffle=True)`,
one update per batch (2, 2, 1 students), each epoch's batches drawn as a list when the
epoch starts, as iterating the DataLoader draws them (the list copies; a live iterator may
not); `batch=5`, the default, is the full-batch lab above, unchanged.
`linreg --set data=2x` is the slide's code (hours → points 2, 4, 6, y = 2x); its printed table
(W 0.985, b 0.033 at epoch 1000) comes from y = x, the default (COURSE.md §7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import torch
from torch import optim
from torch.utils.data import DataLoader, Dataset

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


class CustomDataset(Dataset):
    """The quiz data as the course's mini-batch lab writes it."""

    def __init__(self):
        self.x_data = QUIZ_X
        self.y_data = QUIZ_Y

    def __len__(self):
        return len(self.x_data)

    def __getitem__(self, idx):
        x = torch.FloatTensor(self.x_data[idx])
        y = torch.FloatTensor(self.y_data[idx])
        return x, y


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
            self.dataset = CustomDataset()
            self.dataloader = DataLoader(self.dataset, batch_size=self.p.batch, shuffle=True)
            self.per_epoch = len(self.dataloader)
            self.caption = self.mini_caption.format(batch=self.p.batch, n=self.per_epoch)
            self.epoch, self.epoch_sum = 1, torch.zeros((), device=self.device)
            self.new_epoch()

    def new_epoch(self) -> None:
        """This epoch's batches, as `for x, y in dataloader` would give them (same random
        draws), kept as a list of (indices, x, y): a list copies for time travel."""
        torch.empty((), dtype=torch.int64).random_()  # iter(dataloader) draws its base seed,
        order = list(self.dataloader.batch_sampler)  # then RandomSampler its permutation's
        self.batches = [
            (idx, *(t.to(self.device) for t in batch))
            for idx, batch in zip(order, self.dataloader_batches(order))
        ]
        self.next_batch = 0

    def dataloader_batches(self, order: list[list[int]]) -> list[tuple[torch.Tensor, ...]]:
        """The collated (x, y) of each batch of indices, as the DataLoader collates them."""
        collate = self.dataloader.collate_fn
        return [tuple(collate([self.dataset[i] for i in idx])) for idx in order]

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
