"""Vanishing gradients (COURSE.md §4): a deep sigmoid MLP on two spirals, against ReLU, good init
and BatchNorm.

The lab: two interleaved spirals (generated in numpy, fixed), `depth` hidden layers of `width`
units, BCE on one logit, plain SGD on mini-batches of `batch` points drawn in a shuffled order
from the run's seed. σ′ ≤ 0.25, so the gradient reaching layer 1 is a product of ~depth small
factors: with the defaults layer 1's gradient is ~10⁹× smaller than the output layer's and the
net stays at a coin toss, while `activation=relu` + `init=kaiming`, or `batchnorm=on`, learn the
spirals in the same steps. `compare=…` trains a second net in lockstep on the same batches, built
from the same seed, so the two runs differ only in the settings you name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from itertools import pairwise

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dltui.scenario import Panel, Param, Params, Scenario, UsageError, to_numpy
from dltui.scenario.show import decision_field

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
}
INITS = ("default", "normal", "xavier", "kaiming")
NORMAL_STD = 0.01  # init=normal: the small N(0, 0.01²) weights of early tutorials
TEST_EVERY = 50  # steps between test-set evaluations (and at step 1)
DATA_SEED = 0  # the spirals are the same for every run seed; the seed picks net and batches
N_TRAIN, N_TEST = 1000, 400
TURNS = 1.0  # one full turn per arm: hard enough for a line, easy for a working MLP
GRID = np.linspace(-1.25, 1.25, 61)
Metric = torch.Tensor | float | Callable[[], torch.Tensor]
"""A step() value: a tensor or a number, or a callable computing a display-only one at capture
time."""
# Settings a `compare=` spec may change; shorthands stand for one `key=value`.
COMPARABLE = ("activation", "init", "batchnorm", "depth", "width", "lr")
COMPARE_HELP = (
    "train a second net beside the first, on the same batches from the same seed, with these "
    "settings changed: KEY=VALUE items joined by '+', e.g. 'activation=relu+init=kaiming', "
    "'batchnorm=on', 'depth=3'; shorthands: an activation name ('relu'), an init name "
    "('kaiming'), 'batchnorm'/'bn'; keys: " + ", ".join(COMPARABLE) + "; empty: off"
)


def spirals(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points on two interleaved spirals of TURNS turns in [-1, 1]², half per class, shuffled."""
    t = np.sqrt(rng.uniform(0.02, 1.0, n)) * TURNS * 2 * math.pi  # even density along the arm
    label = np.arange(n) % 2
    angle = t + math.pi * label
    radius = t / (TURNS * 2 * math.pi)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    x += rng.normal(0.0, noise, x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), label[order].astype(np.float32)


class MLP(nn.Module):
    """depth × (Linear → [BatchNorm] → activation), then Linear to one logit.

    `forward` returns the logits and every hidden layer's pre-activation z (the activation's
    input, after BatchNorm when on), which the percentile panel and the math need.
    """

    def __init__(self, depth: int, width: int, activation: str, batchnorm: bool, init: str):
        super().__init__()
        widths = [2] + [width] * depth
        self.linears = nn.ModuleList(nn.Linear(i, o) for i, o in pairwise(widths))
        self.linears.append(nn.Linear(width, 1))
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(width) if batchnorm else nn.Identity() for _ in range(depth)
        )
        self.activation = activation
        if init != "default":
            for lin in self.linears:
                if init == "normal":
                    nn.init.normal_(lin.weight, 0.0, NORMAL_STD)
                elif init == "xavier":
                    nn.init.xavier_uniform_(lin.weight)
                else:
                    nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
                nn.init.zeros_(lin.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        g = ACTIVATIONS[self.activation]
        zs = []
        for lin, norm in zip(self.linears, self.norms):
            zs.append(norm(lin(x)))
            x = g(zs[-1])
        return self.linears[-1](x).squeeze(1), zs


def parse_compare(text: str, declared: Params) -> dict[str, object]:
    """`relu+init=kaiming` -> {"activation": "relu", "init": "kaiming"}; UsageError if wrong."""
    overrides: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split("+"))):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            if key in ACTIVATIONS:
                key, value = "activation", key
            elif key in INITS:
                key, value = "init", key
            elif key in ("batchnorm", "bn"):
                key, value = "batchnorm", "on"
            else:
                raise UsageError(
                    f"compare: {item!r} is not KEY=VALUE nor a shorthand (an activation, an "
                    f"init, 'batchnorm'); example: compare=activation=relu+init=kaiming"
                )
        if key == "bn":
            key = "batchnorm"
        if key not in COMPARABLE:
            raise UsageError(f"compare: cannot change {key!r}; keys: {', '.join(COMPARABLE)}")
        overrides[key] = declared.declared(key).parse(value)
    return overrides


class CompareParam(Param):
    """The `compare` param: a str checked by `parse_compare` when it is set."""

    def check(self, value: object) -> object:
        parse_compare(str(value), Params(Vanishing.params))
        return str(value).strip()


class Vanishing(Scenario):
    """A deep MLP on two spirals with per-layer gradient norms; `compare` adds a second net."""

    name, title = "vanishing", "Vanishing gradients in a deep sigmoid net"
    description = "10 sigmoid layers can't learn two spirals; ReLU+Kaiming or BatchNorm can."
    caption = (
        "σ′ ≤ 0.25: backprop multiplies one small factor per layer, so layer 1's gradient "
        "is ~10⁹× smaller than the output layer's and the deep sigmoid net stays at a coin "
        "toss. Try --set compare=relu+init=kaiming or compare=batchnorm."
    )
    seed = 777
    steps = 2000
    speed = 100.0
    columns = 3
    records = {
        "loss": "BCE loss of this step's mini-batch",
        "accuracy": "fraction of this step's mini-batch classified right",
        "test_accuracy": f"accuracy on the {N_TEST} test points (evaluated every {TEST_EVERY} "
        "steps and at step 1; the latest value)",
        "grad_norm/<k>": "‖∂L/∂W‖ of layer k's weights, k = 1 (input side) … depth+1 (output)",
        "pre/p15, pre/p50, pre/p85": "15/50/85th percentiles (nearest rank) of hidden layer "
        "`layer`'s pre-activations (after BatchNorm when on) in "
        "this batch",
        "cmp/<key>": "the same keys for the second net when `compare` is set",
    }
    params = (
        Param("lr", 0.1, "learning rate of SGD (both nets)", min=0.0, max=100.0, live=True),
        Param("depth", 10, "hidden layers", min=1, max=40),
        Param("width", 32, "units per hidden layer", min=1, max=512),
        Param("activation", "sigmoid", "hidden-layer activation", choices=tuple(ACTIVATIONS)),
        Param("batchnorm", False, "BatchNorm1d before every hidden activation"),
        Param(
            "init",
            "default",
            "weight init: default (PyTorch's), normal (N(0, 0.01²)), "
            "xavier (uniform), kaiming (normal, fan_in, relu gain); biases 0 unless default",
            choices=INITS,
        ),
        Param(
            "batch",
            32,
            "mini-batch size (points drawn without replacement each epoch)",
            min=1,
            max=N_TRAIN,
        ),
        Param(
            "noise", 0.02, "std of the Gaussian noise added to the spiral points", min=0.0, max=1.0
        ),
        Param(
            "layer",
            1,
            "hidden layer whose pre-activation percentiles are tracked "
            "(1 = nearest the input; clamped to depth)",
            min=1,
            max=40,
            live=True,
            display=True,
        ),
        CompareParam("compare", "", COMPARE_HELP),
    )

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        rng = np.random.default_rng(DATA_SEED)
        x, y = spirals(N_TRAIN + N_TEST, self.p.noise, rng)
        to = {"device": self.device}
        self.X, self.Y = torch.tensor(x[:N_TRAIN], **to), torch.tensor(y[:N_TRAIN], **to)
        self.X_test, self.Y_test = torch.tensor(x[N_TRAIN:], **to), torch.tensor(y[N_TRAIN:], **to)

        self.settings = self.p.as_dict()
        rng_state = torch.get_rng_state()
        self.model = self.build(self.settings)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.p.lr)
        self.cmp_settings = {**self.settings, **parse_compare(self.p.compare, self.p)}
        if self.p.batch < 2 and (self.p.batchnorm or self.cmp_settings["batchnorm"]):
            raise UsageError("batchnorm needs batch >= 2 (it normalizes over the batch)")
        self.cmp_model = self.cmp_optimizer = None
        if self.p.compare:  # the same seed: the second net starts as a run of its own would
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(rng_state)
                self.cmp_model = self.build(self.cmp_settings)
            self.cmp_optimizer = torch.optim.SGD(
                self.cmp_model.parameters(), lr=self.cmp_settings["lr"]
            )

        # Batches: a shuffled order per epoch, drawn from the run's seed off the global RNG.
        self.batches = torch.Generator().manual_seed(torch.initial_seed())
        self.order = torch.empty(0, dtype=torch.long, device=self.device)
        self.cursor = 0
        self.step_count = 0
        self.quantiles = torch.tensor([0.15, 0.5, 0.85], device=self.device)
        self.ranks: dict[int, list[int]] = {}  # n -> the quantiles' nearest ranks in n values
        self.weights = {"": [lin.weight for lin in self.model.linears]}
        if self.cmp_model is not None:
            self.weights["cmp/"] = [lin.weight for lin in self.cmp_model.linears]
        self.test_acc = {"": torch.zeros((), **to), "cmp/": torch.zeros((), **to)}
        # Per net (prefix): the last step's "grads", a cached callable giving ‖∂L/∂W‖ per
        # layer, and "zs", the hidden pre-activations; for the bars and the math.
        self.last: dict[str, dict] = {}

    def build(self, s: dict) -> MLP:
        return MLP(s["depth"], s["width"], s["activation"], s["batchnorm"], s["init"]).to(
            self.device
        )

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.p.batch
        if self.cursor + batch > len(self.order):
            self.order = torch.randperm(N_TRAIN, generator=self.batches).to(self.device)
            self.cursor = 0
        idx = self.order[self.cursor : self.cursor + batch]
        self.cursor += batch
        return self.X[idx], self.Y[idx]

    def step(self) -> dict[str, Metric]:
        self.step_count += 1
        x, y = self.next_batch()
        metrics = self.train_step(self.model, self.optimizer, x, y, "")
        if self.cmp_model is not None:
            metrics |= self.train_step(self.cmp_model, self.cmp_optimizer, x, y, "cmp/")
        return metrics

    def train_step(self, model: MLP, optimizer, x, y, prefix: str) -> dict[str, Metric]:
        logits, zs = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        pre = self.percentiles(zs[min(self.p.layer, len(zs)) - 1].detach().flatten())
        if self.step_count == 1 or self.step_count % TEST_EVERY == 0:
            self.test_acc[prefix] = self.accuracy(model, self.X_test, self.Y_test)
        # The gradient norms and the batch accuracy are only shown (bars, math, records), never
        # plotted: computed from this step's tensors when a frame or record is taken.
        grads = [w.grad for w in self.weights[prefix]]  # zero_grad() replaces, never writes
        grad_norms = cache(lambda: torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        self.last[prefix] = {"grads": grad_norms, "zs": zs}
        metrics: dict[str, Metric] = {
            "loss": loss.detach(),
            "accuracy": lambda: ((logits.detach() > 0).float() == y).float().mean(),
            "test_accuracy": self.test_acc[prefix],
            **{f"grad_norm/{k}": lambda k=k: grad_norms()[k - 1] for k in range(1, len(grads) + 1)},
            "pre/p15": pre[0],
            "pre/p50": pre[1],
            "pre/p85": pre[2],
        }
        return {prefix + k: v for k, v in metrics.items()} if prefix else metrics

    def percentiles(self, z: torch.Tensor) -> list[float] | list[torch.Tensor]:
        """z's 15/50/85th percentiles by nearest rank, for a curve: computed every step. On the
        CPU numpy sorts (torch's sort and indexing cost a tenth of a training step; numpy's
        vectorized sort a third of that); elsewhere torch sorts, so the values stay on the
        device. The same numbers either way: a sort is exact."""
        if (ranks := self.ranks.get(len(z))) is None:  # once per batch size
            ranks = self.ranks[len(z)] = (self.quantiles * (len(z) - 1)).round().long().tolist()
        if z.device.type == "cpu":
            return np.sort(z.numpy())[ranks].tolist()
        values = z.sort().values
        return [values[k] for k in ranks]

    @torch.no_grad()
    def accuracy(self, model: MLP, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        model.eval()  # BatchNorm uses its running statistics
        logits = model(x)[0]
        model.train()
        return ((logits > 0).float() == y).float().mean()

    def on_param(self, name: str, value) -> None:
        """A live lr reaches the second net too, unless `compare` gave it an lr of its own."""
        if name != "lr":
            return
        optimizers = [self.optimizer]
        if self.cmp_optimizer is not None and "lr" not in parse_compare(self.p.compare, self.p):
            optimizers.append(self.cmp_optimizer)
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = value

    # -- what to show -------------------------------------------------------------------
    def net_name(self, s: dict) -> str:
        return (
            s["activation"]
            + ("+bn" if s["batchnorm"] else "")
            + (f"+{s['init']}" if s["init"] != "default" else "")
        )

    def layout(self) -> tuple[Panel, ...]:
        """One net: three columns. Two nets: four, so that each decision boundary is a square
        two rows high (a panel as wide as a third of the screen and one row high showed the
        spirals as a 5-row letterbox) and each net's percentiles get a panel of their own
        (six curves in one, the first net's three hid under the second's)."""
        nets = self.nets()
        compare = len(nets) == 2
        self.columns = 4 if compare else 3
        grads = Panel("bars", "‖∂L/∂W‖ per layer (1 = input side)", "grads", row_span=3)
        boundaries = [
            Panel("field2d", f"Decision boundary: {name}", key, row_span=2)
            for (name, _, _), key in zip(nets, ("boundary", "cmp_boundary"))
        ]
        # log y: a sigmoid net stuck at ln 2 = 0.69 stays visible beside one that learns
        series = tuple(prefix + "loss" for _, _, prefix in nets)
        loss = Panel("line", "Loss (BCE)", series=series, options={"logy": True})
        accuracy = Panel(
            "line",
            f"Test accuracy (every {TEST_EVERY} steps)",
            series=tuple(prefix + "test_accuracy" for _, _, prefix in nets),
            row_span=2 if compare else 1,
            options={"ema": 0, "ylim": (0, 1)},  # a flat 0.5 stays flat, not square waves
        )
        layer = self.p.layer
        pre = [
            Panel(
                "line",
                f"{name}: pre-activations z of layer {layer}, 15/50/85th percentiles"
                if compare
                else f"Pre-activations z of layer {layer}: 15/50/85th percentiles",
                col_span=1 if compare else 2,
                options={"ema": 0},
                series=tuple(f"{prefix}pre/p{q}" for q in (15, 50, 85)),
            )
            for name, _, prefix in nets
        ]
        math = Panel(
            "text", "The chain rule: why layer 1's gradient vanishes", "math", col_span=self.columns
        )
        # two nets: grads | boundary | boundary | loss over accuracy; z, z beneath; the math
        return (grads, *boundaries, loss, accuracy, *pre, math)

    def nets(self) -> list[tuple[str, dict, str]]:
        """(display name, settings, metric prefix) of the net and of the compared one."""
        nets = [(self.net_name(self.settings), self.settings, "")]
        if self.cmp_model is not None:
            name = self.net_name(self.cmp_settings)
            nets.append(
                (name + " (cmp)" if name == nets[0][0] else name, self.cmp_settings, "cmp/")
            )
        return nets

    def view(self) -> dict[str, dict]:
        if not self.last:
            return {}
        L = max(len(self.last[prefix]["grads"]()) for _, _, prefix in self.nets())
        series = []
        for name, _, prefix in self.nets():
            values = to_numpy(self.last[prefix]["grads"]())  # another depth: align at the output
            values = np.concatenate([np.full(max(L - len(values), 0), np.nan), values])[-L:]
            series.append((name, values))
        out = {
            "grads": {
                "labels": [str(k) for k in range(1, L)] + ["out"],
                "series": series,
                "log": True,
                "unit": "‖∂L/∂W‖",
            },
            "boundary": self.boundary(self.model),
            "math": {"text": self.math()},
        }
        if self.cmp_model is not None:
            out["cmp_boundary"] = self.boundary(self.cmp_model)
        return out

    def boundary(self, model: MLP) -> dict:
        model.eval()  # BatchNorm uses its running statistics
        field = decision_field(
            lambda xy: torch.sigmoid(model(xy)[0]),
            GRID,
            to_numpy(self.X_test),
            to_numpy(self.Y_test),
            self.device,
        )
        model.train()
        return field

    def math(self) -> str:
        """δ_k = (W_{k+1}ᵀ δ_{k+1}) ⊙ g′(z_k): the mean g′ per layer and what reaches each layer."""
        act = self.settings["activation"]
        g = "σ" if act == "sigmoid" else act
        zs = [zk.detach() for zk in self.last[""]["zs"]]
        with torch.enable_grad():  # g′(z) by autograd, for any activation
            z = torch.cat([zk.reshape(-1) for zk in zs]).requires_grad_(True)
            (dg,) = torch.autograd.grad(ACTIVATIONS[act](z).sum(), z)
        mean_dg = [d.mean().item() for d in dg.split([zk.numel() for zk in zs])]
        grads = self.last[""]["grads"]().tolist()
        L = len(grads)
        shown = list(range(L)) if L <= 13 else [*range(6), -1, *range(L - 6, L)]  # -1: "…"

        def row(label: str, cells: list) -> str:
            return f"{label:<14}" + "".join(f"{cells[i] if i >= 0 else '…':>7}" for i in shown)

        sigma_bound = "; σ′ = σ(1−σ) ≤ ¼" if act == "sigmoid" else ""
        lines = [
            (
                f"δ_k = (W_{{k+1}}ᵀδ_{{k+1}}) ⊙ {g}′(z_k), ∂L/∂W_k = δ_k·a_{{k−1}}ᵀ: {L - 1} "
                f"factors {g}′·W reach layer 1{sigma_bound}"
            ),
            row("layer k", [*range(1, L), "out"]),
            row(f"mean {g if len(g) < 6 else 'g'}′(z_k)", [f"{v:.3f}" for v in mean_dg] + ["—"]),
            row("‖∂L/∂W_k‖", [f"{v:.0e}" for v in grads]),
            row(
                "÷ layer k+1's",
                [f"{a / b:.2f}" if b else "—" for a, b in pairwise(grads)] + ["—"],
            ),
        ]
        ratios = []
        for name, _, prefix in self.nets():
            gr = self.last[prefix]["grads"]().tolist()
            ratios.append(f"{name} {gr[0] / gr[-1]:.1e}" if gr[-1] else f"{name} —")
        lines.append(
            "‖∂L/∂W₁‖/‖∂L/∂W_out‖: " + ", ".join(ratios) + " (ReLU+Kaiming: g′ = 1; "
            "BatchNorm: σ′ ≈ ¼)"
        )
        return "\n".join(lines)
