"""The scenario API: what a scenario module subclasses to be run by dltui.

A scenario is the lab code plus what to show. It declares metadata, params and panels as class
attributes and implements three methods:

    setup()  build data, model and optimizer from `self.p` on `self.device` (the engine has
             already seeded torch with `self.seed`; draw nothing random before the model).
    step()   one training update; return this step's scalar metrics as tensors or floats
             (tensors stay on the device; the engine reads them when a frame is captured),
             or as zero-argument callables for metrics only worth computing when a record or
             frame is captured (e.g. `"accuracy": lambda: (out > 0.5).eq(y).float().mean()`):
             such a metric's history has points only at the captured steps. Every key must be
             declared in `records`.
    view()   panel data for the UI, as numpy (use `to_numpy`); called only at capture time.
             It returns a dict with an entry for every panel key; the data of each kind is
             documented in `dltui.scenario.panels`, and a missing key or an unknown field is
             reported, naming the panel.

The engine finds the scenario's optimizers itself (`optimizers()`: every `torch.optim`
optimizer held in an attribute), so a live `lr` change reaches all of them and the header shows
the learning rate they really use.

Example (a complete scenario run with `dltui run ./my_scenario.py`):

    class Line(Scenario):
        name, title = "line", "Fit y = 2x"
        caption = "Gradient descent finds the slope."
        steps = 200
        params = (Param("lr", 0.1, "learning rate", min=0, live=True),)
        panels = (Panel("line", "Loss", "loss"),)

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
import re
import sysconfig
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dltui.scenario.panels import Panel
from dltui.scenario.params import Param, Params, UsageError

if TYPE_CHECKING:
    import torch


class ScenarioError(UsageError):
    """A mistake in a scenario's code (an undeclared record key, a panel without its data):
    one line naming what is wrong, exit code 2, like the user's own mistakes."""


def describe_failure(exc: BaseException) -> str:
    """An exception from a scenario's code, short: a first line saying what and where, then
    only the scenario's own frames (file, line, code). When no frame is the scenario's, the
    bug is dltui's: the whole traceback, to report. A ScenarioError is its own one line."""
    if isinstance(exc, UsageError):
        return str(exc)
    ours = Path(__file__).resolve().parents[1]  # the dltui package
    scenarios = ours / "scenarios"
    library = {
        Path(p).resolve()
        for k, p in sysconfig.get_paths().items()
        if k in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if (path := Path(f.filename).resolve()).is_relative_to(scenarios)
        or not (path.is_relative_to(ours) or any(path.is_relative_to(lib) for lib in library))
    ]
    what = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    if not frames:
        return what + "\n" + "".join(traceback.format_exception(exc)).rstrip()
    last = frames[-1]
    head = f"{what} (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return head + "\n" + "".join(traceback.format_list(frames)).rstrip()


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
    threads: ClassVar[int | None] = 1
    """torch's CPU threads when `--threads` is not given. 1 suits small models: their ops are
    too small to split, so a second thread only waits for the first, and on a small machine it
    stalls behind the UI (overfit: 4× slower with two). None: torch's default, for models big
    enough to gain from more (the CNN). Small models' numbers are the same either way."""
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
    """Record keys and what they mean (shown by `dltui info`); every key step() returns must
    be here. `<name>` in a key stands for any text ("<opt>/loss" declares "adam/loss"), and one
    entry may declare several keys separated by ", "."""

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

    def record_extras(self) -> dict[str, Any]:
        """JSON values a record carries beside the scalar metrics (lists, strings), e.g. a
        convolution's output map as nested lists. Called at record time. Default: none."""
        return {}

    def length(self) -> int:
        """Natural length of a run in steps, after setup() (override when it depends on
        params or data, e.g. epochs × batches per epoch). Default: `steps`."""
        return self.steps

    def on_param(self, name: str, value: Any) -> None:
        """A live param changed between steps. Default: `lr` goes to every optimizer."""
        if name == "lr":
            for optimizer in self.optimizers():
                for group in optimizer.param_groups:
                    group["lr"] = value

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The optimizers this scenario trains with (Lightning's configure_optimizers, found
        rather than declared). Default: every `torch.optim.Optimizer` held in an attribute,
        directly or in a list, tuple or dict. Override to name them yourself."""
        from torch.optim import Optimizer

        return list(dict.fromkeys(_instances(vars(self).values(), Optimizer)))

    @classmethod
    def undeclared(cls, keys: Iterable[str]) -> list[str]:
        """The keys that `records` does not declare."""
        patterns = [
            re.compile(
                "".join(
                    ".+" if part.startswith("<") else re.escape(part)
                    for part in re.split(r"(<[^>]*>)", key)
                )
            )
            for entry in cls.records
            for key in entry.split(", ")
        ]
        return [k for k in keys if not any(p.fullmatch(k) for p in patterns)]


KEY_LABELS = {"left": "←", "right": "→", "up": "↑", "down": "↓"}


def key_label(key: str) -> str:
    """How a Textual key name is shown to users: "right" -> "→", "tab" -> "tab"."""
    return KEY_LABELS.get(key, key)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A read-only host copy of a tensor, safe to hand to another thread or process."""
    array = tensor.detach().cpu().numpy().copy()
    array.flags.writeable = False
    return array


def _instances(values: Iterable[Any], kind: type) -> Iterator[Any]:
    """The `kind` objects among values, looking one level into lists, tuples and dicts."""
    for value in values:
        if isinstance(value, kind):
            yield value
        elif isinstance(value, (list, tuple, dict)):
            inner = value.values() if isinstance(value, dict) else value
            yield from (v for v in inner if isinstance(v, kind))
