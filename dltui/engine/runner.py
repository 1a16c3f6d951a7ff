"""The engine: runs one scenario step by step and captures frames. No UI imports.

`Runner` owns the scenario instance: seeding, device, the step counter and limit, live param
changes (recorded as events, reaching every optimizer the scenario holds), reset, the bounded
metric history, divergence detection and frame capture. It holds the scenario to its word: the
keys step() returns must be declared in `records`, line panels must plot declared keys, and
view() must give every panel data of its kind (`dltui.scenario.panels.check_view`).
Play/pause/speed live one level up, in `dltui.engine.control`.

Time travel (going to any step, branches, ghosts) is the `Rewind` mixin's
(`dltui.engine.rewind`); the Runner records live changes as `actions` to replay, checkpoints in
`step()` when due, and fires the `--at` script there.

Metrics returned by `Scenario.step()` may be device tensors. On the CPU they are read every
step (cheap, and divergence stops the run at exactly the step it happened); elsewhere they are
kept on the device and read in one batch when a frame or record is wanted, or every
`SYNC_EVERY` steps, so CUDA training never waits on a per-step `.item()`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch

from dltui.engine.history import History
from dltui.engine.rewind import Rewind
from dltui.engine.timetravel import Checkpoints, Script, parse_at, rng_state
from dltui.protocol import Frame, Ghost
from dltui.scenario.base import Scenario, ScenarioError
from dltui.scenario.panels import check_view
from dltui.scenario.params import Params, UsageError

SYNC_EVERY = 64
CHECKPOINT_MB = 256
"""Time travel's default memory budget (--checkpoint-mb)."""
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
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
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


class Runner(Rewind):
    """Steps one scenario; everything a consumer sees comes out as a `Frame` or a record."""

    def __init__(
        self,
        cls: type[Scenario],
        params: Params | None = None,
        seed: int | None = None,
        device: str | torch.device = "auto",
        limit: int | None = None,
        history_capacity: int = 4096,
        sync_every: int | None = None,
        checkpoint_mb: float = CHECKPOINT_MB,
        at: tuple[str, ...] = (),
    ):
        """`sync_every`: read metrics off the device every that many steps (default: every
        step on the CPU, SYNC_EVERY elsewhere); more than 1 keeps them on the device between
        captures, as on CUDA. `checkpoint_mb`: time travel's memory budget (0: off). `at`:
        the `--at STEP:ACTION` script."""
        self.cls = cls
        self.params = params if params is not None else Params(cls.params)
        self.seed = cls.seed if seed is None else seed
        self.device = (
            device if isinstance(device, torch.device) else resolve_device(device, cls.prefers_gpu)
        )
        self.history_capacity = history_capacity
        self.sync_every = sync_every or (1 if self.device.type == "cpu" else SYNC_EVERY)
        self._view_id = 0  # not reset by reset(): ids stay unique for this engine
        if limit is not None and limit < 1:
            raise UsageError(f"--steps must be at least 1, got {limit}")
        self._limit = limit
        self.travel = Checkpoints(int(checkpoint_mb * 2**20))
        self.ghosts: list[Ghost] = []
        self._ghosts_sent = False  # whether the consumer has the current ghosts
        self.branch = -1  # reset() makes it 0
        self._fork_at: tuple[int, int] | None = None  # (branch, step) of the latest fork
        self._fork_labels: dict[str, str] = {}
        self.step_count = 0
        self.log = []
        self.reset()
        self.initial_params = self.params.as_dict()
        """The params the run began with (`--set`s), before any live change."""
        self.script: Script = parse_at(at, self.params, self.limit)
        self.branched = bool(at)  # records say their branch once there can be more than one

    # -- lifecycle ----------------------------------------------------------------------
    def reset(self) -> None:
        """Start over from step 0 with the same seed and the current params; the run so far
        stays as a ghost."""
        if self.step_count > 0:
            self.log.append(f"{self.step_count}:reset")
            start = self._start_params
            changed = [
                f"{k}={self.params.declared(k).format(v)}"
                for k, v in start.items()
                if v != self.params[k] and not self.params.declared(k).display
            ]
            label = f"previous run ({', '.join(changed)})" if changed else "previous run"
            self._keep_ghost(label, 0, "")
        self.branch += 1
        self._start_params = self.params.as_dict()
        self._start_rng = rng_state(torch.device("cpu"))  # numpy's and Python's, as setup saw
        self.scenario = self._build()
        self.limit = self.scenario.length() if self._limit is None else self._limit
        self.step_count = 0
        self.history = History(self.history_capacity)
        self.last: dict[str, float] = {}
        self.diverged_at: int | None = None
        self.actions: list[tuple[int, str, Any, str]] = []
        """This branch's live changes to training: (after step, name, value, label)."""
        self._applied = 0  # how many of them the state has had (more after going back)
        self.head = 0  # the furthest step this branch has reached
        self._left: History | None = None  # this branch's whole history, after going back
        self._recorded = self._lazy_to = 0  # the last step whose metrics are in the history
        self._replaying = False
        self._pending: list[tuple[int, dict[str, Any]]] = []
        self._rate_mark = (time.perf_counter(), 0)
        self.steps_per_s = 0.0
        self._last_view: dict[str, dict[str, Any]] | None = None
        self._view_due = 0.0  # perf_counter time after which a running frame gets a new view
        self._panel_errors: dict[str, str] = {}
        self._lazy: dict[str, Callable[[], Any]] = {}  # the latest step's deferred metrics
        self._records_checked = False
        self._has_lazy = False  # whether step() returns callables (known after its first step)
        self.optimizers = self.scenario.optimizers()
        self._panels = tuple(self.scenario.layout())
        self._lines = [panel for panel in self._panels if panel.kind == "line"]
        for panel in self._lines:
            if bad := self.cls.undeclared(panel.series):
                raise ScenarioError(
                    f"{self.cls.__name__}: line panel {panel.title!r} plots {bad[0]!r}, which "
                    f"records does not declare (records: {', '.join(self.cls.records)})"
                )
        self.travel_off = "" if self.travel.enabled else "time travel is off (--checkpoint-mb 0)"
        self.uncopyable = ""  # why checkpoints cannot be taken: going back replays from 0
        self.travel.clear()
        if self.travel.enabled:
            self.travel.share(self.scenario, self.optimizers)
            self._checkpoint()

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
        """Take up to n updates (fewer at the limit or on divergence); return how many.
        Before each, the `--at` script's actions due now fire, and after going back this
        branch's own live changes are made again at their steps."""
        taken = 0
        while taken < n:
            if self.script and not self._replaying:
                self.fire_script()
            if self.done:
                break
            if self._applied < len(self.actions):
                self._redo_changes()
            try:
                metrics = self.scenario.step()
            except SystemExit as exc:  # sys.exit() in a scenario must not end dltui silently
                raise ScenarioError(
                    f"{self.cls.__name__}.step() called sys.exit({exc.code!r})"
                ) from None
            self.step_count += 1
            taken += 1
            if not self._records_checked:
                self._check_records(metrics)
            self._pending.append((self.step_count, metrics))
            if len(self._pending) >= self.sync_every:
                self.sync()
            if self.step_count > self.head:
                self.head = self.step_count
                if self._left is not None and self.head >= self._left_head:
                    self._left = None  # caught up: the history is whole again
            if not self._replaying and self.travel.due(time.perf_counter()) and not self.done:
                self._checkpoint()
        return taken

    def _check_records(self, metrics: Any) -> None:
        """Once a run: step() returns a dict whose keys `records` declares."""
        name = self.cls.__name__
        if not isinstance(metrics, dict):
            raise ScenarioError(
                f"{name}.step() must return a dict of metrics, e.g. "
                f"{{'loss': loss.detach()}}; it returned {type(metrics).__name__}"
            )
        if bad := self.cls.undeclared(metrics):
            raise ScenarioError(
                f"{name}.step() returned {bad[0]!r}, which records does not "
                f"declare (records: {', '.join(self.cls.records)})"
            )
        self._records_checked = True
        self._has_lazy = any(callable(v) for v in metrics.values())
        self._order = list(metrics)  # records list keys as step() does, deferred ones too

    def sync(self) -> None:
        """Read pending metrics off the device (one transfer), record them, check for NaN."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if self._has_lazy:
            pending = [(step, self._defer(m)) for step, m in pending]
        try:
            rows = self._read(pending)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise self._bad_metric(pending) from None
        for step, values in rows:
            if step > self._recorded:  # replayed steps are in the history already
                self.history.record(step, values)
                self._recorded = step
            self.last = values
            loss = values.get("loss")
            blown_up = loss is not None and not loss <= self.cls.diverge_above  # NaN too
            if blown_up and self.diverged_at is None:
                self.diverged_at = step
                break

    def _read(self, pending: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict]]:
        """Metric values as floats: one by one on the CPU, in one transfer elsewhere."""
        if self.sync_every == 1:  # CPU: one by one (cheap; divergence stops on its step)
            return [(step, {k: float(v) for k, v in m.items()}) for step, m in pending]
        dtype = torch.float32 if self.device.type == "mps" else torch.float64
        tensors = [v for _, m in pending for v in m.values() if isinstance(v, torch.Tensor)]
        flat = iter(
            torch.stack([t.detach().reshape(()).to(dtype) for t in tensors]).cpu().tolist()
            if tensors
            else ()
        )
        return [
            (
                step,
                {k: next(flat) if isinstance(v, torch.Tensor) else float(v) for k, v in m.items()},
            )
            for step, m in pending
        ]

    def _bad_metric(self, pending: list[tuple[int, dict[str, Any]]]) -> ScenarioError:
        """Name the metric that is not one real number."""
        for step, metrics in pending:
            for key, value in metrics.items():
                try:
                    if isinstance(value, torch.Tensor) and value.numel() != 1:
                        raise ValueError
                    float(value)
                except (TypeError, ValueError, RuntimeError, OverflowError):
                    shown = (
                        f"a tensor of shape {tuple(value.shape)}"
                        if isinstance(value, torch.Tensor)
                        else repr(value)[:40]
                    )
                    return ScenarioError(
                        f"{self.cls.__name__}.step() at step {step}: {key!r} "
                        f"must be one real number; it is {shown}"
                    )
        return ScenarioError(f"{self.cls.__name__}.step() returned a metric that is not a number")

    def _defer(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Keep a step's callable metrics aside (the latest win); return the others."""
        eager = {}
        for key, value in metrics.items():
            if callable(value):
                self._lazy[key] = value
            else:
                eager[key] = value
        return eager

    def _capture(self) -> None:
        """Read everything a record or frame shows: pending metrics, then deferred ones, which
        belong to the latest step (computed now, recorded in the history at that step)."""
        self.sync()
        if not self._lazy:
            return
        lazy, self._lazy = self._lazy, {}
        values = {}
        for key, fn in lazy.items():
            value = fn()
            values[key] = float(value.item() if hasattr(value, "item") else value)
        if self.step_count > self._lazy_to:  # replayed steps are in the history already
            self.history.record(self.step_count, values)
            self._lazy_to = self.step_count
        merged = {**self.last, **values}
        self.last = {k: merged[k] for k in (*self._order, *merged) if k in merged}

    # -- live changes -------------------------------------------------------------------
    def set_param(self, name: str, value: Any) -> Any:
        """Change a live param between steps; returns the checked value."""
        param = self.params.declared(name)
        if not param.live:
            raise UsageError(f"{name} cannot change during a run; set it with --set and reset")
        old = self.params[name]
        self.params[name] = value
        value = self.params[name]
        if not param.display:  # a change to training: marked on the curves, replayed
            label = f"{name}={param.format(value)}"
            self.sync()
            if self._applied < len(self.actions) or self.step_count < self.head:
                self._fork(f"{name}={param.format(old)}")
            self.mark_branch_point(name, label)
            self.log.append(f"{self.step_count}:{name}={param.exact(value)}")
            self.actions.insert(self._applied, (self.step_count, name, value, label))
            self._applied += 1
        self.scenario.on_param(name, value)
        self._view_due = 0.0  # show its effect in the next frame
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
            raise UsageError(
                f"key {key!r} names {target!r}, which is neither a param nor an "
                f"action_{target}() method of {self.cls.__name__}"
            )
        self._view_due = 0.0
        return str(action())

    # -- output -------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """The flat JSON record of the latest step (non-finite numbers become null)."""
        self._capture()
        rec: dict[str, Any] = {"step": self.step_count}
        for k, v in self.last.items():
            rec[k] = v if math.isfinite(v) else None
        rec.update(self.scenario.record_extras())
        if self.branched:
            rec["branch"] = self.branch
        if self.diverged_at is not None:
            rec["diverged"] = True
            rec["diverged_at"] = self.diverged_at
        return rec

    def frame(self, status: str = "paused", speed: float | None = None, message: str = "") -> Frame:
        """Capture what consumers show: metrics, history, panel data (read-only copies)."""
        self._capture()
        now = time.perf_counter()
        t0, s0 = self._rate_mark
        if now - t0 > 0.5:
            self.steps_per_s = (self.step_count - s0) / (now - t0)
            self._rate_mark = (now, self.step_count)
        if self.diverged_at is not None:
            status = "diverged"
        elif self.step_count >= self.limit:
            status = "done"
        events = tuple(self.events)
        return Frame(
            step=self.step_count,
            limit=self.limit,
            status=status,
            metrics=dict(self.last),
            panels={
                **self._view(reuse=status == "running" and speed is None),
                **self._line_data(events),
            },
            view_id=self._view_id,
            params=self.params.as_dict(),
            lr=self.optimizer_lr(),
            events=events,
            speed=speed,
            steps_per_s=self.steps_per_s,
            device=device_label(self.device),
            diverged_at=self.diverged_at,
            message=message or self.message(),
            panel_errors=self._panel_errors,
            head=self.head,
            branch=self.branch,
            ghosts=self._take_ghosts(),
        )

    def _line_data(self, events: tuple[tuple[int, str], ...]) -> dict[str, dict[str, Any]]:
        """Line panels' data: the history of their series, the scenario's own marks (view()'s
        "events" under the panel's key: a schedule's milestones, the best step) and the live
        changes."""
        view = self._last_view or {}
        return {
            panel.key: {
                "series": self.history.snapshot(panel.series),
                "events": (*_marks(view.get(panel.key)), *events),
            }
            for panel in self._lines
        }

    def optimizer_lr(self) -> float | None:
        """The learning rate the scenario's optimizers hold, if they agree on one."""
        lrs = {group["lr"] for opt in self.optimizers for group in opt.param_groups}
        return float(lrs.pop()) if len(lrs) == 1 else None

    def check_view(self) -> None:
        """Ask the scenario for its pictures once; ScenarioError on the first mistake."""
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            self._view(reuse=False)
        if self._panel_errors:
            raise ScenarioError(f"{self.cls.__name__}: {next(iter(self._panel_errors.values()))}")

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
        view = self.scenario.view()
        self._panel_errors = check_view(self._panels, view)
        self._last_view = view if isinstance(view, dict) else {}
        self._view_id += 1
        self._view_due = start + (time.perf_counter() - start) / VIEW_SHARE
        return self._last_view

    def message(self) -> str:
        if self.diverged_at is not None:
            return (
                f"diverged at step {self.diverged_at}: the loss became "
                f"{self.last.get('loss'):.6g}. Lower the learning rate: {{ divides it by 10, "
                "[ by 2; then r starts over"
            )
        if self.step_count >= self.limit:
            return f"finished {self.limit} steps"
        return ""


def _marks(data: Any) -> tuple[tuple[int, str], ...]:
    """The (step, label) events a scenario's view() gives a line panel, if any."""
    events = data.get("events") if isinstance(data, dict) else None
    return tuple((int(step), str(label)) for step, label in events or ())
