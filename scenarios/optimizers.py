"""Optimizer race on 2-D loss landscapes (COURSE.md §3): SGD, Momentum, Nesterov, Adagrad,
RMSProp and Adam (and Adadelta, which the course lists: `optimizers=…,adadelta`), each a real
`torch.optim` optimizer on its own 2-parameter tensor (x, y).

Every step each racer computes f(x, y) with autograd, optionally adds Gaussian gradient noise
(stochastic vs full-batch descent; the noise comes from a seeded generator, so runs repeat),
and takes its optimizer's step. A racer whose loss or position becomes NaN/inf, or that runs
10 window sizes away, is marked diverged and stops; the others go on. Learning rates default
per landscape (see `scenarios/landscapes.py`) so that every racer visibly moves; `lr` scales
them all (the `[` / `]` keys), `lr.adam=0.05` and friends override one. `landscape` is live:
switching it (`L` cycles them) restarts the racers at the new landscape's start, marked on
the loss curves; the step count goes on.

`constants=course` gives Adagrad and RMSProp the constants of the course's formulas (the
Deep Learning book's Algorithms 8.4 and 8.5, whose Adam defaults COURSE.md quotes): Adagrad
ε/(δ+√r) with δ = 1e-7 (torch: 1e-10), RMSProp ε/√(δ+r), δ inside the root, δ = 1e-6 and decay
ρ = 0.9 (torch: ε/(√r+δ), δ = 1e-8, ρ = 0.99). The default, `torch`, is torch's own optimizers.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dltui.scenario import Panel, Param, Scenario, UsageError
from dltui.scenario.schedules import Schedule, lr_beside_loss, lr_panel, schedule_param
from dltui.scenario.show import vec

from .landscapes import LANDSCAPES, Landscape, grid

NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")  # the default racers
ALL = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")  # the choices
LABELS = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "rmsprop": "RMSProp",
    "adam": "Adam",
}
MOMENTUM = 0.9
# The course's constants (constants=course): the Deep Learning book's Algorithms 8.4 and 8.5.
COURSE_ADAGRAD_DELTA = 1e-7
COURSE_RMSPROP_RHO, COURSE_RMSPROP_DELTA = 0.9, 1e-6
MAX_PATH = 2000  # trajectory points handed to a frame (older ones are thinned)
PATH_CAPACITY = 4 * MAX_PATH  # points kept; when full the older half is thinned to every other


class CourseRMSProp(torch.optim.Optimizer):
    """RMSProp as the course writes it: r ← ρr + (1−ρ)g⊙g; x ← x − ε/√(δ+r) ⊙ g (δ inside the
    root, where torch's RMSprop adds it outside: √r + δ)."""

    def __init__(
        self, params, lr: float, rho: float = COURSE_RMSPROP_RHO, eps=COURSE_RMSPROP_DELTA
    ):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(w)
                state["step"] += 1
                r = state["square_avg"]
                r.mul_(group["rho"]).addcmul_(w.grad, w.grad, value=1 - group["rho"])
                w.addcdiv_(w.grad, (r + group["eps"]).sqrt(), value=-group["lr"])


def make_optimizer(
    name: str, w: torch.Tensor, lr: float, constants: str = "torch"
) -> torch.optim.Optimizer:
    """The racer's optimizer: torch's default hyper-parameters, or with constants="course"
    the course's formulas for Adagrad and RMSProp (the others are the course's already)."""
    course = constants == "course"
    if name == "sgd":
        return torch.optim.SGD([w], lr=lr)
    if name == "momentum":
        return torch.optim.SGD([w], lr=lr, momentum=MOMENTUM)
    if name == "nesterov":
        return torch.optim.SGD([w], lr=lr, momentum=MOMENTUM, nesterov=True)
    if name == "adagrad":  # torch's std = √r + δ is the course's δ + √r
        return torch.optim.Adagrad([w], lr=lr, eps=COURSE_ADAGRAD_DELTA if course else 1e-10)
    if name == "adadelta":
        return torch.optim.Adadelta([w], lr=lr)  # ρ = 0.9, δ = 1e-6
    if name == "rmsprop":
        return CourseRMSProp([w], lr=lr) if course else torch.optim.RMSprop([w], lr=lr)
    return torch.optim.Adam([w], lr=lr)  # β₁ = 0.9, β₂ = 0.999, δ = 1e-8


def _lr_help(name: str) -> str:
    defaults = ", ".join(f"{ls.name} {ls.lrs[name]:g}" for ls in LANDSCAPES.values())
    return f"learning rate of {LABELS[name]} (0 = the landscape's: {defaults})"


def _v(values: list[float]) -> str:
    """A 2-vector, compactly: (+0.1234, -5.678e-05)."""
    return vec(values, "+.4g", "()")


def landscape_title(landscape: str) -> str:
    return f"Landscape: {landscape} (log-spaced contours)"


def race_panels(landscape: str, names: tuple[str, ...]) -> tuple[Panel, ...]:
    """The screen: landscape with trajectories, loss per racer (log y), the math, the table."""
    return (
        Panel("field2d", landscape_title(landscape), "landscape", row_span=2),
        Panel(
            "line",
            "Loss per optimizer",
            series=tuple(f"{n}/loss" for n in names),
            options={"logy": True, "ema": 0.0},
        ),
        Panel("text", "The math of the selected optimizer's last step", "math"),
        Panel("table", "The racers and their optimizer state", "racers", col_span=2),
    )


class Racer:
    """One optimizer in the race: its point w = (x, y), trajectory and last step's numbers."""

    def __init__(
        self, name: str, start: torch.Tensor, lr: float, noise_seed: int, constants="torch"
    ):
        self.name = name
        self.w = start.clone().requires_grad_(True)
        self.optimizer = make_optimizer(name, self.w, lr, constants)
        self.generator = torch.Generator(device=start.device).manual_seed(noise_seed)
        self.path = np.empty((PATH_CAPACITY, 2))
        self.n = 0
        self.add_point(start.tolist())
        self.forward_loss = math.nan  # f where the last step started (the record's loss)
        self.grad = [0.0, 0.0]  # the gradient the last step used (noise included)
        self.before = start.tolist()  # the point before the last step
        self.step_length = 0.0
        self.diverged_at: int | None = None

    def add_point(self, xy: list[float]) -> None:
        if self.n == len(self.path):  # full: thin the older half, as the loss history does
            half = self.n // 2
            old = self.path[0:half:2].copy()  # the start point stays
            recent = self.path[half : self.n].copy()
            self.path[: len(old)] = old
            self.path[len(old) : len(old) + len(recent)] = recent
            self.n = len(old) + len(recent)
        self.path[self.n] = xy
        self.n += 1

    def trajectory(self) -> np.ndarray:
        stride = max(1, math.ceil(self.n / MAX_PATH))
        points = self.path[: self.n : stride]
        if (self.n - 1) % stride:
            points = np.concatenate([points, self.path[self.n - 1 : self.n]])
        return points.copy()


class Optimizers(Scenario):
    name, title = "optimizers", "Optimizer race on 2-D loss landscapes"
    description = "SGD, Momentum, Nesterov, Adagrad, RMSProp, Adam race downhill on a surface."
    caption = (
        "Plain GD zig-zags in ravines and waits at saddles; momentum carries speed "
        "through, adaptive methods (Adagrad, RMSProp, Adam) scale each coordinate's step."
    )
    aliases = ("race",)
    steps = 300
    speed = 30.0
    columns = 2
    keys = {
        "tab": ("selected", 1, "next optimizer: its row, its path and its math"),
        "L": ("landscape", 1, "next landscape (restarts the racers)"),
    }
    diverge_above = math.inf  # one racer blowing up must not stop the race
    records = {
        "loss": "the best (lowest) loss among the racers still running",
        "<opt>/loss": "f(x, y) of racer <opt> (sgd, momentum, …) at this step's forward pass;"
        " null once it diverged",
        "<opt>/x": "racer <opt>'s x after this step's update",
        "<opt>/y": "racer <opt>'s y after this step's update",
        "<opt>/lr": "racer <opt>'s learning rate in this step (only with a schedule; "
        "'<opt>:const/…' are the constant-lr twins of `twins`)",
    }
    params = (
        Param(
            "landscape",
            "rosenbrock",
            "the loss surface (changing it live restarts the racers at its start)",
            choices=tuple(LANDSCAPES),
            live=True,
        ),
        Param(
            "optimizers",
            ",".join(NAMES),
            "the racers, a comma list (adadelta joins with optimizers=…,adadelta)",
            choices=ALL,
            multi=True,
        ),
        Param(
            "lr",
            1.0,
            "scale on every racer's learning rate ([ / ] halve / double it)",
            min=0.0,
            max=1e6,
            live=True,
            label="lr ×",
        ),
        *(Param(f"lr.{n}", 0.0, _lr_help(n), min=0.0, max=1e6, live=True) for n in ALL),
        Param(
            "constants",
            "torch",
            "Adagrad's and RMSProp's constants: torch's defaults, or the course's formulas "
            "(Adagrad δ 1e-7; RMSProp ρ 0.9, ε/√(δ+r) with δ 1e-6)",
            choices=("torch", "course"),
        ),
        Param(
            "start",
            (math.nan, math.nan),
            "start point x,y (nan,nan = the landscape's: "
            + ", ".join(f"{ls.name} {ls.start[0]:g},{ls.start[1]:g}" for ls in LANDSCAPES.values())
            + ")",
        ),
        Param(
            "noise",
            0.0,
            "std of Gaussian noise added to every gradient component",
            min=0.0,
            max=1e6,
            live=True,
        ),
        Param(
            "selected",
            "adam",
            "the optimizer highlighted: its table row, its path, its update in the math panel",
            choices=ALL,
            live=True,
            display=True,
        ),
        schedule_param(),  # one step of the race = one epoch of the schedule
        Param("twins", False, "with a schedule: race a constant-lr twin of each (<opt>:const)"),
    )

    panels = race_panels("rosenbrock", NAMES)

    # -- the lab code -------------------------------------------------------------------
    def setup(self) -> None:
        self.names = tuple(dict.fromkeys(self.p.optimizers.split(",")))
        self.land: Landscape = LANDSCAPES[self.p.landscape]
        start = self.p.start if math.isfinite(self.p.start[0]) else self.land.start
        self.check_start(start)
        self.noise_seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        self.t = 0
        self.start_race(start)

    def start_race(self, start: tuple[float, float]) -> None:
        """Every racer (and twin) at `start` on `self.land`, with fresh optimizers and a fresh
        schedule, from this step on."""
        self.start, self.t0 = start, self.t
        dtype = torch.float32 if self.device.type == "mps" else torch.float64
        w0 = torch.tensor(start, dtype=dtype, device=self.device)
        c = self.p.constants
        self.racers = [Racer(n, w0, self.lr_of(n), self.noise_seed, c) for n in self.names]
        self.schedule = Schedule.parse(self.p.schedule)
        self.schedule.build([r.optimizer for r in self.racers], self.steps)
        if self.p.twins and self.schedule.constant:
            raise UsageError(
                "twins=on races constant-lr twins beside a schedule; set one too, "
                "e.g. schedule=multistep:30,80"
            )
        twins = self.p.twins
        self.twins = (
            [Racer(n, w0, self.lr_of(n), self.noise_seed, c) for n in self.names] if twins else []
        )

    def lr_of(self, name: str) -> float:
        return (self.p[f"lr.{name}"] or self.land.lrs[name]) * self.p.lr

    def check_start(self, start: tuple[float, float]) -> None:
        if self.far(*start):
            raise UsageError(
                f"start={start[0]:g},{start[1]:g} is too far from the "
                f"{self.land.name} window x∈{self.land.xlim}, y∈{self.land.ylim}"
            )

    def far(self, x: float, y: float) -> bool:
        """Left the window by 10 window sizes (or NaN): the racer has diverged."""
        (x0, x1), (y0, y1), margin = self.land.xlim, self.land.ylim, 10 * self.land.size
        return not (x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin)

    def step(self) -> dict[str, float]:
        self.t += 1
        metrics: dict[str, float] = {}
        for r in self.racers:
            if r.diverged_at is None:
                self.race(r)
            alive = r.diverged_at is None
            x, y = r.path[r.n - 1] if alive else (math.nan, math.nan)
            metrics[f"{r.name}/loss"] = r.forward_loss if alive else math.nan
            metrics[f"{r.name}/x"], metrics[f"{r.name}/y"] = float(x), float(y)
        running = [metrics[f"{r.name}/loss"] for r in self.racers if r.diverged_at is None]
        metrics["loss"] = min(running) if running else math.nan
        if not self.schedule.constant:
            self.scheduled_step(metrics)
        return metrics

    def scheduled_step(self, metrics: dict[str, float]) -> None:
        """The schedule's lr of this step per racer, the constant-lr twins, then one epoch on."""
        for r in self.twins:
            if r.diverged_at is None:
                self.race(r)
            metrics[f"{r.name}:const/loss"] = r.forward_loss if r.diverged_at is None else math.nan
        for r in self.racers + self.twins:
            name = r.name + (":const" if r in self.twins else "")
            metrics[f"{name}/lr"] = r.optimizer.param_groups[0]["lr"]
        self.schedule.step([r.forward_loss for r in self.racers])

    def race(self, r: Racer) -> None:
        """One step of one racer: forward, backward, (noise), optimizer step, divergence check."""
        r.optimizer.zero_grad()
        loss = self.land(r.w[0], r.w[1])
        loss.backward()
        if self.p.noise > 0:
            r.w.grad += self.p.noise * torch.randn(
                2, generator=r.generator, dtype=r.w.dtype, device=r.w.device
            )
        r.before, r.grad = r.w.tolist(), r.w.grad.tolist()
        r.optimizer.step()
        r.forward_loss = loss.item()
        x, y = r.w.tolist()
        if not math.isfinite(r.forward_loss) or self.far(x, y):
            r.diverged_at = self.t
            return
        r.add_point([x, y])
        r.step_length = math.hypot(x - r.before[0], y - r.before[1])

    def loss_now(self, r: Racer) -> float:
        """f at the racer's current point: for the screen, computed only when one is drawn."""
        with torch.no_grad():
            return self.land(r.w[0], r.w[1]).item()

    def on_param(self, name: str, value) -> None:
        if name == "landscape":  # a new race on the new surface, from its start
            self.land = LANDSCAPES[value]
            start = self.p.start if math.isfinite(self.p.start[0]) else self.land.start
            self.start_race(self.land.start if self.far(*start) else start)
        elif name == "lr" or name.startswith("lr."):
            for r in self.racers + self.twins:
                self.schedule.set_base(r.optimizer, self.lr_of(r.name))

    # -- what to show -------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        if self.schedule.constant:
            return race_panels(self.p.landscape, self.names)
        names = (*self.names, *(f"{r.name}:const" for r in self.twins))
        lrs = lr_panel(tuple(f"{n}/lr" for n in names))
        panels, self.columns = lr_beside_loss(race_panels(self.p.landscape, names), lrs, 2)
        return panels

    def view(self) -> dict[str, dict]:
        x, y, z = grid(self.land.name)
        return {
            "landscape": {
                "x": x,
                "y": y,
                "z": z,
                "log": True,
                "levels": 12,
                "trajectories": [(r.name, r.trajectory()) for r in self.racers]
                + [(f"{r.name}:const", r.trajectory()) for r in self.twins],
                "selected": self.p.selected,
                "markers": [tuple(m) for m in self.land.minima] + [("start", *self.start, "○")],
                "title": landscape_title(self.land.name),
            },
            "racers": self.table(),
            "math": {"text": self.math()},
            **self.schedule_marks(),
        }

    def schedule_marks(self) -> dict[str, dict]:
        """The schedule's lr drops, marked on the loss and lr plots."""
        epochs = (self.limit or self.steps) - self.t0  # the schedule restarts with the race
        marks = [(self.t0 + m, self.schedule.label()) for m in self.schedule.marks(epochs)]
        lines = [p.key for p in self.layout() if p.kind == "line"] if marks else []
        return {key: {"events": marks} for key in lines}

    def state(self, r: Racer) -> dict[str, list[float]]:
        """The optimizer's internal state for this racer, read from `optimizer.state`."""
        s = r.optimizer.state.get(r.w, {})
        t = float(s["step"]) if "step" in s else 0.0
        out: dict[str, list[float]] = {}
        if "momentum_buffer" in s and s["momentum_buffer"] is not None:
            out["v"] = s["momentum_buffer"].tolist()
        if r.name == "adagrad" and "sum" in s:
            out["r"] = s["sum"].tolist()
        if "square_avg" in s:
            out["r"] = s["square_avg"].tolist()
        if "acc_delta" in s:  # Adadelta's running mean of the squared updates
            out["u"] = s["acc_delta"].tolist()
        if "exp_avg" in s and t:
            b1, b2 = r.optimizer.defaults["betas"]
            out["m"], out["v"] = s["exp_avg"].tolist(), s["exp_avg_sq"].tolist()
            out["m̂"] = [m / (1 - b1**t) for m in out["m"]]
            out["v̂"] = [v / (1 - b2**t) for v in out["v"]]
        return out

    def table(self) -> dict:
        rows, highlight = [], []
        for i, r in enumerate(self.racers):
            x, y = r.path[r.n - 1]
            if r.diverged_at is not None:
                status = f"diverged at step {r.diverged_at}"
                highlight.append(i)
            else:
                st = self.state(r)
                keys = ("m̂", "v̂") if "m̂" in st else tuple(st)
                status = "  ".join(f"{k}={_v(st[k])}" for k in keys) or "—"
            rows.append(
                [
                    LABELS[r.name],
                    r.optimizer.param_groups[0]["lr"],  # the schedule's, when there is one
                    float(x),
                    float(y),
                    self.loss_now(r),
                    math.hypot(*r.grad),
                    r.step_length,
                    status,
                ]
            )
        return {
            "columns": ["optimizer", "lr", "x", "y", "loss", "|∇|", "last step", "state"],
            "rows": rows,
            "highlight": highlight,
            "selected": next(
                (i for i, r in enumerate(self.racers) if r.name == self.p.selected), None
            ),
        }

    def math(self) -> str:
        """The selected racer's last update, written out with its numbers."""
        name = self.p.selected
        racer = next((r for r in self.racers if r.name == name), None)
        head = f"# {self.land.name}: {self.land.lesson}"
        if racer is None:
            return f"{head}\n{LABELS[name]} is not in this race (optimizers={self.p.optimizers})."
        lr, g = racer.optimizer.param_groups[0]["lr"], racer.grad
        d = racer.optimizer.defaults
        course_rms = isinstance(racer.optimizer, CourseRMSProp)
        hyper = {
            "momentum": f", μ {MOMENTUM}",
            "nesterov": f", μ {MOMENTUM}",
            "adagrad": f", δ {d.get('eps', 0):g}",
            "adadelta": f", ρ {d.get('rho', 0):g}, δ {d.get('eps', 0):g}",
            "rmsprop": f", ρ {d.get('rho', d.get('alpha', 0)):g}, δ {d.get('eps', 0):g}",
            "adam": ", β₁ 0.9, β₂ 0.999, δ 1e-8",
        }.get(name, "")
        if self.p.constants == "course" and name in ("adagrad", "rmsprop"):
            hyper += " (the course's)"
        lines = [head, f"{LABELS[name]}, step {self.t}: lr {lr:g}{hyper}"]
        if racer.diverged_at is not None:
            return "\n".join(
                lines
                + [
                    (
                        f"  diverged at step {racer.diverged_at}: lower lr.{name}"
                        " or the lr scale ([) and reset (r)"
                    )
                ]
            )
        if racer.n == 1:  # at its start: none taken yet, or the landscape just changed
            return "\n".join(lines + ["  no step taken yet (n takes one)"])
        st, x1 = self.state(racer), racer.path[racer.n - 1].tolist()
        lines.append(f"  g = ∇f(x) = {_v(g)}")
        if name == "sgd":
            update = "x ← x − lr·g"
        elif name in ("momentum", "nesterov"):
            lines.append(f"  v ← μv + g = {_v(st['v'])}")
            update = "x ← x − lr·v" if name == "momentum" else "x ← x − lr·(g + μv)"
        elif name in ("adagrad", "rmsprop"):
            rule = "r + g⊙g" if name == "adagrad" else "ρr + (1−ρ)g⊙g"
            eps = d["eps"]
            lines.append(f"  r ← {rule} = {_v(st['r'])}")
            if course_rms:  # δ inside the root, as the course writes it
                steps = [lr / math.sqrt(v + eps) for v in st["r"]]
                lines.append(f"  lr/√(δ+r) per coordinate = {_v(steps)}")
                update = "x ← x − lr·g/√(δ+r)"
            else:
                steps = [lr / (math.sqrt(v) + eps) for v in st["r"]]
                lines.append(f"  lr/(√r+δ) per coordinate = {_v(steps)}")
                update = "x ← x − lr·g/(√r+δ)"
        elif name == "adadelta":
            delta = [(b - a) / lr if lr else 0.0 for b, a in zip(racer.before, x1)]
            lines.append(f"  r ← ρr + (1−ρ)g⊙g = {_v(st['r'])}")
            lines.append(f"  Δ = √(u+δ)/√(r+δ)⊙g = {_v(delta)}")
            lines.append(f"  u ← ρu + (1−ρ)Δ⊙Δ = {_v(st['u'])}")
            update = "x ← x − lr·Δ"
        else:
            lines.append(f"  m ← β₁m + (1−β₁)g = {_v(st['m'])}")
            lines.append(f"  v ← β₂v + (1−β₂)g⊙g = {_v(st['v'])}")
            lines.append(f"  m̂ = m/(1−β₁ᵗ) = {_v(st['m̂'])}")
            lines.append(f"  v̂ = v/(1−β₂ᵗ) = {_v(st['v̂'])}")
            update = "x ← x − lr·m̂/(√v̂+δ)"
        lines.append(f"  {update} = {_v(x1)}")
        lines.append(f"  f(x) = {self.loss_now(racer):.6g}   |Δx| = {racer.step_length:.4g}")
        if name == "momentum":
            lines.append("  (course: v ← αv − ε∇f, x ← x + v: the same with v·(−ε))")
        return "\n".join(lines)
