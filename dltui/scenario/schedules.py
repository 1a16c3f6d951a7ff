"""Learning-rate schedules (COURSE.md §3, §6) for any scenario: the `schedule` param, the torch
scheduler it builds, and the lr panel that sits beside the loss with the milestones marked.

    from dltui.scenario.schedules import Schedule, ScheduleParam, lr_beside_loss

A schedule is written as text (`--set schedule=multistep:30,80`):

    constant            the optimizer's lr, unchanged (the default)
    multistep:30,80     MultiStepLR(milestones=[30, 80], gamma=0.1)  (`:γ` after them: gamma)
    step:N              StepLR(step_size=N, gamma=0.1)              (`step:N:γ`)
    exp:γ               ExponentialLR(gamma=γ)
    cosine              CosineAnnealingLR(T_max=the run's epochs)   (`cosine:T`)
    plateau             ReduceLROnPlateau(factor=0.1, patience=10)  (`plateau:P`, `plateau:P:f`)

All are torch.optim.lr_scheduler's own classes, stepped once an epoch as the course's loop does
(`for epoch in …: train(); scheduler.step()`), so with lr 0.05 `multistep:30,80` gives the
course's 0.05 for epochs 0–29, 0.005 for 30–79 and 0.0005 from 80 on. `Schedule.marks` names
the epochs where the lr drops (known ahead for multistep and step, as they happen for plateau);
a scenario hands them to its lr panel as events.
Engine side only (it imports torch lazily when a scheduler is built).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dltui.scenario.panels import Panel
from dltui.scenario.params import Param, UsageError

if TYPE_CHECKING:
    import torch

KINDS = ("constant", "multistep", "step", "exp", "cosine", "plateau")
HELP = (
    "learning-rate schedule, stepped once an epoch: constant, multistep:30,80 (×0.1 at each; "
    "'multistep:30,80:0.5' for another γ), step:N (×0.1 every N), exp:γ, cosine (to 0 over "
    "the run; cosine:T), plateau (×0.1 after 10 epochs without a lower loss; plateau:P)"
)
EXAMPLE = "schedule=multistep:30,80"


@dataclass
class Schedule:
    """A parsed schedule; `build` attaches it to optimizers, `step` advances it an epoch."""

    kind: str
    numbers: tuple[float, ...] = ()
    schedulers: list[Any] = field(default_factory=list)
    epochs_done: int = 0
    drops: list[int] = field(default_factory=list)
    """Epochs (1-based counts of epochs done) after which a plateau schedule cut the lr."""

    @classmethod
    def parse(cls, text: str) -> Schedule:
        text = str(text).strip().lower() or "constant"
        kind, _, rest = text.partition(":")
        if kind not in KINDS:
            raise UsageError(f"schedule={text!r}: unknown kind {kind!r}; one of {', '.join(KINDS)}")
        try:
            if kind == "multistep":  # multistep:30,80[:γ]
                head, _, gamma = rest.partition(":")
                numbers = tuple(float(m) for m in head.split(",") if m.strip())
                numbers += (float(gamma),) if gamma else ()
            else:  # step:N[:γ], exp:γ, cosine[:T], plateau[:P[:factor]]
                numbers = tuple(float(v) for v in rest.split(":") if v.strip())
        except ValueError:
            raise UsageError(f"schedule={text!r}: the numbers after ':' are not numbers") from None
        return cls(kind, numbers)._checked(text)

    def _checked(self, text: str) -> Schedule:
        k, n = self.kind, self.numbers
        whole = all(math.isfinite(v) and v == int(v) and v >= 1 for v in n[:1])
        milestones = [v for v in n if v >= 1] if k == "multistep" else []
        bad = {
            "constant": len(n) > 0,
            "multistep": not milestones
            or any(m != int(m) for m in milestones)
            or milestones != sorted(set(milestones))
            or len(n) - len(milestones) > 1,
            "step": not 1 <= len(n) <= 2 or not whole,
            "exp": len(n) != 1,
            "cosine": len(n) > 1 or not whole,
            "plateau": len(n) > 2 or not all(v == int(v) and v >= 0 for v in n[:1]),
        }[k]
        g = self.gamma()
        if bad or not (0 < g <= 1 if k in ("exp", "constant", "cosine") else 0 < g < 1):
            raise UsageError(
                f"schedule={text!r} is not a valid {k} schedule (examples: constant, "
                "multistep:30,80, multistep:30,80:0.5, step:10, exp:0.95, cosine, plateau:5)"
            )
        return self

    # -- the numbers ----------------------------------------------------------------------
    def milestones_given(self) -> tuple[int, ...]:
        """multistep's milestones (the numbers before a trailing γ < 1)."""
        if self.kind != "multistep":
            return ()
        n = self.numbers
        return tuple(int(m) for m in (n[:-1] if len(n) > 1 and n[-1] < 1 else n))

    def gamma(self) -> float:
        n = self.numbers
        if self.kind == "multistep":
            return n[-1] if len(n) > 1 and n[-1] < 1 else 0.1
        if self.kind == "step":
            return n[1] if len(n) == 2 else 0.1
        if self.kind == "exp":
            return n[0]
        if self.kind == "plateau":
            return n[1] if len(n) == 2 else 0.1
        return 1.0

    @property
    def text(self) -> str:
        """The canonical spelling, e.g. 'multistep:30,80'."""
        if not self.numbers:
            return self.kind
        if self.kind == "multistep":
            out = "multistep:" + ",".join(str(m) for m in self.milestones_given())
            return out + (f":{self.gamma():g}" if self.gamma() != 0.1 else "")
        return self.kind + ":" + ":".join(f"{v:g}" for v in self.numbers)

    @property
    def constant(self) -> bool:
        return self.kind == "constant"

    # -- torch -------------------------------------------------------------------------
    def build(self, optimizers: list[torch.optim.Optimizer], epochs: int) -> Schedule:
        """Attach a torch scheduler of this kind to each optimizer (none when constant)."""
        from torch.optim import lr_scheduler as S

        def make(opt: torch.optim.Optimizer) -> Any:
            k, n = self.kind, self.numbers
            if k == "multistep":
                return S.MultiStepLR(
                    opt, milestones=list(self.milestones_given()), gamma=self.gamma()
                )
            if k == "step":
                return S.StepLR(opt, step_size=int(n[0]), gamma=self.gamma())
            if k == "exp":
                return S.ExponentialLR(opt, gamma=n[0])
            if k == "cosine":
                return S.CosineAnnealingLR(opt, T_max=int(n[0]) if n else max(1, epochs))
            patience = int(n[0]) if n else 10
            return S.ReduceLROnPlateau(opt, factor=self.gamma(), patience=patience)

        self.schedulers = [] if self.constant else [make(o) for o in optimizers]
        self.drops = []
        self.epochs_done = 0
        return self

    def step(self, losses: list[float] | None = None) -> None:
        """One epoch done: step every scheduler (plateau with its optimizer's epoch loss)."""
        self.epochs_done += 1
        for i, s in enumerate(self.schedulers):
            if self.kind == "plateau":
                before = s.optimizer.param_groups[0]["lr"]
                loss = losses[i] if losses else math.inf
                s.step(loss if math.isfinite(loss) else math.inf)
                if (
                    s.optimizer.param_groups[0]["lr"] < before
                    and self.epochs_done not in self.drops
                ):
                    self.drops.append(self.epochs_done)
            else:
                s.step()

    def set_base(self, optimizer: torch.optim.Optimizer, lr: float) -> None:
        """A live lr change (`[` / `]`): `lr` becomes the optimizer's base lr; where the
        schedule has already cut it, the same cut applies to the new base."""
        scheduler = next((s for s in self.schedulers if s.optimizer is optimizer), None)
        for i, group in enumerate(optimizer.param_groups):
            if scheduler is None or "initial_lr" not in group:
                group["lr"] = lr
                continue
            factor = group["lr"] / group["initial_lr"] if group["initial_lr"] else 1.0
            group["initial_lr"] = lr
            group["lr"] = lr * factor
            if hasattr(scheduler, "base_lrs"):
                scheduler.base_lrs[i] = lr

    def marks(self, epochs: int) -> list[int]:
        """Epochs after which the lr drops, within the run: multistep's milestones, every N
        for step, the plateau cuts so far; none for the smooth exp and cosine."""
        if self.kind == "multistep":
            return [m for m in self.milestones_given() if m < epochs]
        if self.kind == "step":
            n = int(self.numbers[0])
            return list(range(n, epochs, n))
        if self.kind == "plateau":
            return list(self.drops)
        return []

    def label(self) -> str:
        """What a mark says: ×γ."""
        return f"×{self.gamma():g}"


class ScheduleParam(Param):
    """The `schedule` param: text checked (and written canonically) by `Schedule.parse`."""

    def check(self, value: object) -> object:
        return Schedule.parse(str(value)).text


def schedule_param(default: str = "constant") -> ScheduleParam:
    return ScheduleParam("schedule", default, HELP)


def lr_panel(series: tuple[str, ...]) -> Panel:
    """The lr panel: the schedule's lr per step (log y), milestones as marked events."""
    return Panel(
        "line", "Learning rate (schedule)", series=series, options={"logy": True, "ema": 0}
    )


def lr_beside_loss(panels: tuple[Panel, ...], lr: Panel, columns: int) -> tuple[tuple, int]:
    """Put the lr panel right after the first loss plot: a loss spanning two or more columns
    shares them with it; a one-column loss gets a new grid column, and every panel after it
    grows by one column, so the rows still fill the grid. Returns (panels, columns)."""
    at = next(
        i for i, p in enumerate(panels) if p.kind == "line" and any("loss" in s for s in p.series)
    )
    loss = panels[at]
    if loss.col_span >= 2:
        narrow = replace(loss, col_span=loss.col_span - 1)
        return (*panels[:at], narrow, lr, *panels[at + 1 :]), columns
    wider = tuple(replace(p, col_span=p.col_span + 1) for p in panels[at + 1 :])
    return (*panels[: at + 1], lr, *wider), columns + 1
