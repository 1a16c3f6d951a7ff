"""The engine: runs one scenario step by step and captures frames. No UI imports.

`Runner` owns the scenario instance: seeding, device, the step counter and limit, live param
changes (recorded as events), reset, the bounded metric history, divergence detection and frame
capture. Play/pause/speed live one level up, in `dltui.control`.

Metrics returned by `Scenario.step()` may be device tensors. On the CPU they are read every
step (cheap, and divergence stops the run at exactly the step it happened); elsewhere they are
kept on the device and read in one batch when a frame or record is wanted, or every
`SYNC_EVERY` steps, so CUDA training never waits on a per-step `.item()`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from dltui.frame import Frame
from dltui.history import History
from dltui.params import Params, UsageError
from dltui.scenario import Scenario

SYNC_EVERY = 64
VIEW_SHARE = 0.05
"""While training runs at max speed, refreshing the panels' pictures (scenario.view()) may take
at most this share of wall time; in between, frames reuse the last picture (the header and the
curves stay live). At a set speed the engine has time to spare and every frame is fresh."""


def resolve_device(spec: str, prefers_gpu: bool = False) -> torch.device:
    """Turn `auto|cpu|cuda|cuda:N|mps` into a device, or raise UsageError saying what to do."""
    spec = spec.strip().lower()
    cuda_ok = torch.cuda.is_available()
    mps_ok = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if spec == "auto":
        if prefers_gpu and cuda_ok:
            return torch.device("cuda")
        if prefers_gpu and mps_ok:
            return torch.device("mps")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not cuda_ok:
            raise UsageError(
                f"--device {spec}: CUDA is not available here (torch {torch.__version__}, "
                "no usable NVIDIA GPU); use --device cpu or --device auto"
            )
        index = spec.partition(":")[2]
        if index:
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise UsageError(
                    f"--device {spec}: no such GPU; this machine has "
                    f"{torch.cuda.device_count()} (cuda:0 to cuda:{torch.cuda.device_count() - 1})"
                )
        return torch.device(spec)
    if spec == "mps":
        if not mps_ok:
            raise UsageError("--device mps: Apple MPS is not available here; use --device cpu")
        return torch.device("mps")
    raise UsageError(f"--device {spec!r} is not one of auto, cpu, cuda, cuda:N, mps")


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


class Runner:
    """Steps one scenario; everything a consumer sees comes out as a `Frame` or a record."""

    def __init__(
        self,
        cls: type[Scenario],
        params: Params | None = None,
        seed: int | None = None,
        device: str | torch.device = "auto",
        limit: int | None = None,
        history_capacity: int = 4096,
    ):
        self.cls = cls
        self.params = params if params is not None else Params(cls.params)
        self.seed = cls.seed if seed is None else seed
        self.device = (
            device
            if isinstance(device, torch.device)
            else resolve_device(device, cls.prefers_gpu)
        )
        self.history_capacity = history_capacity
        self.events: list[tuple[int, str]] = []
        self._view_id = 0  # not reset by reset(): ids stay unique for this engine
        if limit is not None and limit < 1:
            raise UsageError(f"--steps must be at least 1, got {limit}")
        self._limit = limit
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------
    def reset(self) -> None:
        """Start over from step 0 with the same seed and the current params."""
        torch.manual_seed(self.seed)
        self.scenario = self.cls(self.params, self.device)
        self.scenario.setup()
        self.limit = self.scenario.length() if self._limit is None else self._limit
        self.step_count = 0
        self.history = History(self.history_capacity)
        self.last: dict[str, float] = {}
        self.diverged_at: int | None = None
        self.events = []
        self._pending: list[tuple[int, dict[str, Any]]] = []
        # CPU: read each step (cheap; divergence stops on its step). Elsewhere: batch reads.
        self._batched = self.device.type != "cpu"
        self._sync_every = SYNC_EVERY if self._batched else 1
        self._rate_mark = (time.perf_counter(), 0)
        self.steps_per_s = 0.0
        self._last_view: dict[str, dict[str, Any]] | None = None
        self._view_due = 0.0  # perf_counter time after which a running frame gets a new view
        # Frames carry only the history that line panels plot, not every recorded metric.
        self._plotted = {name for panel in self.scenario.layout() for name in panel.series}

    @property
    def limit(self) -> int:
        """The step the run stops at; the scenario sees it too (progress, ETA)."""
        return self.scenario.limit

    @limit.setter
    def limit(self, value: int) -> None:
        self.scenario.limit = value

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.step_count >= self.limit

    def step(self, n: int = 1) -> int:
        """Take up to n updates (fewer at the limit or on divergence); return how many."""
        taken = 0
        while taken < n and not self.done:
            metrics = self.scenario.step()
            self.step_count += 1
            taken += 1
            self._pending.append((self.step_count, metrics))
            if len(self._pending) >= self._sync_every:
                self.sync()
        return taken

    def sync(self) -> None:
        """Read pending metrics off the device (one transfer), record them, check for NaN."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if not self._batched:
            rows = [(step, {k: float(v) for k, v in m.items()}) for step, m in pending]
        else:
            dtype = torch.float32 if self.device.type == "mps" else torch.float64
            tensors = [v for _, m in pending for v in m.values() if isinstance(v, torch.Tensor)]
            flat = iter(
                torch.stack([t.detach().reshape(()).to(dtype) for t in tensors]).cpu().tolist()
                if tensors else ()
            )
            rows = [
                (step, {k: next(flat) if isinstance(v, torch.Tensor) else float(v)
                        for k, v in m.items()})
                for step, m in pending
            ]
        for step, values in rows:
            self.history.record(step, values)
            self.last = values
            loss = values.get("loss")
            blown_up = loss is not None and not loss <= self.cls.diverge_above  # NaN too
            if blown_up and self.diverged_at is None:
                self.diverged_at = step
                break

    # -- live changes -------------------------------------------------------------------
    def set_param(self, name: str, value: Any) -> Any:
        """Change a live param between steps; returns the checked value."""
        param = self.params.declared(name)
        if not param.live:
            raise UsageError(f"{name} cannot change during a run; set it with --set and reset")
        self.params[name] = value
        value = self.params[name]
        self.scenario.on_param(name, value)
        self._view_due = 0.0  # show its effect in the next frame
        self.events.append((self.step_count, f"{name}={param.format(value)}"))
        return value

    def scale_param(self, name: str, factor: float) -> Any:
        """Multiply a live numeric param, clamped to its range (the `[` / `]` keys)."""
        param = self.params.declared(name)
        value = self.params[name] * factor
        if param.min is not None:
            value = max(value, param.min)
        if param.max is not None:
            value = min(value, param.max)
        return self.set_param(name, value)

    def nudge_param(self, name: str, step: int) -> Any:
        """Move a live param by `step`: the next/previous choice (wrapping) or int ± step."""
        param = self.params.declared(name)
        value = self.params[name]
        if param.choices:
            choices = list(param.choices)
            value = choices[(choices.index(value) + step) % len(choices)]
        else:
            value = value + step
            if param.min is not None:
                value = max(value, type(value)(param.min))
            if param.max is not None:
                value = min(value, type(value)(param.max))
        return self.set_param(name, value)

    def press(self, key: str) -> str:
        """A scenario key (`Scenario.keys`): move its live param, or call its action. Returns
        what to show on the status line."""
        if key not in self.cls.keys:
            raise UsageError(f"{key!r} does nothing on this screen")
        target, step, _ = self.cls.keys[key]
        if any(p.name == target for p in self.cls.params):
            value = self.nudge_param(target, step)
            return f"{target} = {self.params.declared(target).format(value)}"
        action = getattr(self.scenario, f"action_{target}", None)
        if action is None:
            raise UsageError(f"key {key!r} names {target!r}, which is neither a param nor an "
                             f"action_{target}() method of {self.cls.__name__}")
        self._view_due = 0.0
        return str(action())

    # -- output -------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """The flat JSON record of the latest step (non-finite numbers become null)."""
        self.sync()
        rec: dict[str, Any] = {"step": self.step_count}
        for k, v in self.last.items():
            rec[k] = v if math.isfinite(v) else None
        if self.diverged_at is not None:
            rec["diverged"] = True
            rec["diverged_at"] = self.diverged_at
        return rec

    def frame(self, status: str = "paused", speed: float | None = None, message: str = "") -> Frame:
        """Capture what consumers show: metrics, history, panel data (read-only copies)."""
        self.sync()
        now = time.perf_counter()
        t0, s0 = self._rate_mark
        if now - t0 > 0.5:
            self.steps_per_s = (self.step_count - s0) / (now - t0)
            self._rate_mark = (now, self.step_count)
        if self.diverged_at is not None:
            status = "diverged"
        elif self.step_count >= self.limit:
            status = "done"
        return Frame(
            step=self.step_count,
            limit=self.limit,
            status=status,
            metrics=dict(self.last),
            history=self.history.snapshot(self._plotted),
            panels=self._view(reuse=status == "running" and speed is None),
            view_id=self._view_id,
            params=self.params.as_dict(),
            events=tuple(self.events),
            speed=speed,
            steps_per_s=self.steps_per_s,
            device=device_label(self.device),
            diverged_at=self.diverged_at,
            message=message or self.message(),
        )

    def _view(self, reuse: bool) -> dict[str, dict[str, Any]]:
        """The scenario's panel data. At max speed (`reuse`) a picture is recomputed only
        when that keeps view() within VIEW_SHARE of wall time (a CNN's feature maps cost ~6 ms
        on a CPU: ~8 new pictures a second); paused, done, or after a param change or a key
        action it is always fresh."""
        if self.diverged_at is not None and self._last_view is not None:
            return self._last_view  # the model is NaN now: keep the last good picture
        start = time.perf_counter()
        if reuse and self._last_view is not None and start < self._view_due:
            return self._last_view
        self._last_view = self.scenario.view()
        self._view_id += 1
        self._view_due = start + (time.perf_counter() - start) / VIEW_SHARE
        return self._last_view

    def message(self) -> str:
        if self.diverged_at is not None:
            return (
                f"diverged at step {self.diverged_at}: the loss became "
                f"{self.last.get('loss'):.6g} — lower the learning rate ([) and reset (r)"
            )
        if self.step_count >= self.limit:
            return f"finished {self.limit} steps"
        return ""
