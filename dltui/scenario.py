"""The scenario API: what a scenario module subclasses to be run by dltui.

A scenario is the lab code plus what to show. It declares metadata, params and panels as class
attributes and implements three methods:

    setup()  build data, model and optimizer from `self.p` on `self.device` (the engine has
             already seeded torch with `self.seed`; draw nothing random before the model).
    step()   one training update; return this step's scalar metrics as tensors or floats
             (tensors stay on the device; the engine reads them when a frame is captured).
    view()   panel data for the UI, as numpy (use `to_numpy`); called only at capture time.

Example (a complete scenario run with `dltui run ./my_scenario.py`):

    class Line(Scenario):
        name, title = "line", "Fit y = 2x"
        caption = "Gradient descent finds the slope."
        steps = 200
        params = (Param("lr", 0.1, "learning rate", min=0, live=True),)
        panels = (Panel("line", "Loss", options={"series": ("loss",)}),)

        def setup(self):
            self.x = torch.linspace(-1, 1, 20, device=self.device)
            self.w = torch.zeros(1, device=self.device, requires_grad=True)
            self.optimizer = torch.optim.SGD([self.w], lr=self.p.lr)

        def step(self):
            loss = ((self.w * self.x - 2 * self.x) ** 2).mean()
            self.optimizer.zero_grad(); loss.backward(); self.optimizer.step()
            return {"loss": loss.detach()}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dltui.panels import Panel
from dltui.params import Param, Params

if TYPE_CHECKING:
    import torch


class Scenario:
    """Base class of every scenario (built-in or user-written)."""

    name: ClassVar[str] = ""
    """Short name used on the command line (`dltui run NAME`)."""
    title: str = ""
    """Title shown in the header (setup() may reword it, and the caption, for its params)."""
    description: ClassVar[str] = ""
    """One line for `dltui list`."""
    caption: str = ""
    """The lesson, in a sentence or two, shown on screen."""
    aliases: ClassVar[tuple[str, ...]] = ()
    seed: ClassVar[int] = 777
    """Default seed: the lab's."""
    steps: ClassVar[int] = 1000
    """Natural length of a run (the lab's step or epoch count)."""
    speed: ClassVar[float | None] = 200.0
    """Default steps per second in the UI (None: as fast as possible)."""
    prefers_gpu: ClassVar[bool] = False
    """Whether `--device auto` should pick a GPU; tiny models run faster on the CPU."""
    params: ClassVar[tuple[Param, ...]] = ()
    panels: ClassVar[tuple[Panel, ...]] = ()
    columns: ClassVar[int] = 2
    """Columns of the panel grid."""
    keys: ClassVar[dict[str, tuple[str, int, str]]] = {}
    """Extra UI keys: key name -> (target, step, help). A live param as target is moved by
    step: an int by that much, a choice param to the next (+1) / previous (-1) choice, e.g.
    {"tab": ("selected", 1, "next optimizer")}. Any other target names an action: the method
    `action_<target>()`, called between steps, returning a line for the status bar, e.g.
    {"t": ("test", 0, "test accuracy now")}. They take precedence over the app's own keys on
    this scenario's screen."""
    diverge_above: ClassVar[float] = math.inf
    """A loss above this (or NaN/inf) stops the run as diverged."""
    records: ClassVar[dict[str, str]] = {"loss": "loss of this step's forward pass"}
    """Record keys and what they mean (shown by `dltui info`)."""

    optimizer: Any = None
    limit: int | None = None
    """The step this run stops at (`--steps`, else `length()`), set by the engine after
    setup(); for progress and ETA displays. None outside an engine."""

    def __init__(self, params: Params, device: torch.device):
        self.p = params
        self.device = device

    # -- to implement -------------------------------------------------------------------
    def setup(self) -> None:
        raise NotImplementedError

    def step(self) -> dict[str, Any]:
        raise NotImplementedError

    def view(self) -> dict[str, dict[str, Any]]:
        return {}

    # -- optional -----------------------------------------------------------------------
    def layout(self) -> tuple[Panel, ...]:
        """Panels for the current params (override when they depend on params)."""
        return self.panels

    def length(self) -> int:
        """Natural length of a run in steps, after setup() (override when it depends on
        params or data, e.g. epochs × batches per epoch). Default: `steps`."""
        return self.steps

    def on_param(self, name: str, value: Any) -> None:
        """A live param changed between steps. Default: `lr` goes to the optimizer."""
        if name == "lr" and self.optimizer is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = value

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Plain-data description for `dltui info` and the UI process."""
        return {
            "name": cls.name,
            "title": cls.title or cls.name,
            "description": cls.description,
            "caption": cls.caption,
            "aliases": list(cls.aliases),
            "seed": cls.seed,
            "steps": cls.steps,
            "speed": cls.speed,
            "records": dict(cls.records),
            "keys": {k: list(v) for k, v in cls.keys.items()},
            "params": [
                {
                    "name": p.name,
                    "type": p.type_name,
                    "default": Param.format(p.default),
                    "range": p.range_text(),
                    "live": p.live,
                    "help": p.help,
                }
                for p in cls.params
            ],
        }


KEY_LABELS = {"left": "←", "right": "→", "up": "↑", "down": "↓"}


def key_label(key: str) -> str:
    """How a Textual key name is shown to users: "right" -> "→", "tab" -> "tab"."""
    return KEY_LABELS.get(key, key)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A read-only host copy of a tensor, safe to hand to another thread or process."""
    array = tensor.detach().cpu().numpy().copy()
    array.flags.writeable = False
    return array
