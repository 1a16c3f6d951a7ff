"""`dltui.watch(model, optimizer)`: a user's own training script, seen and steered from the UI.

The script is the engine here. `watch()` hooks the optimizer's steps (torch's step pre/post
hooks), so a training loop needs no other change; `Live.log(loss=...)` adds any scalars.

    UI process (dltui watch)                     the user's script (this module, torch)
    ────────────────────────                     ───────────────────────────────────────
    unix socket named by $DLTUI_WATCH ◄───────── Hello(RunInfo), FrameMsg(Frame)
    Commands (Toggle, Step, ScaleParam…) ──────► reader thread: sets the state the hooks read

- The optimizer's pre-hook blocks while paused (`n` lets one step through) and applies lr
  changes between steps; the post-hook counts steps. Neither reads anything off the device.
- Per-layer gradient norms and update/weight ratios are *sampled*: after a consumer asks for
  a frame (or a JSONL record is due) the next step computes them as device tensors
  (`torch._foreach_norm`, one batch of kernels); the reader thread reads them when it builds
  the next frame. Activation statistics come from one-shot forward hooks armed at most once
  a second, on the first 32 samples of a batch. Logged tensors are kept as they are and read
  in one transfer at capture time: no host sync per step on CUDA.
- With no UI (`python train.py`) `watch()` hooks nothing and `log()` returns at once, unless
  `$DLTUI_JSONL` names a file: then records are written there (every `$DLTUI_EVERY` steps).
  In multi-process jobs only rank 0 (`$RANK`, else `$LOCAL_RANK`) reports.
- If the UI goes away (quits, detaches, dies) the script is never left blocked: the reader
  sees the socket close and lets every step through from then on.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import math
import os
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dltui.engine.history import History
from dltui.engine.launcher import ENV_EVERY, ENV_HEADLESS, ENV_JSONL, ENV_PAUSED, ENV_SOCKET
from dltui.protocol import (
    Command,
    Frame,
    FrameMsg,
    Hello,
    Message,
    Pause,
    Play,
    Quit,
    RunInfo,
    ScaleParam,
    Step,
    Toggle,
    WantFrame,
)
from dltui.scenario.panels import Panel
from dltui.scenario.params import Param

ACT_PERIOD = 1.0
"""Seconds between two samples of activation statistics (each costs a few passes over one
layer's output; a CNN's first ReLU output is 100×32×28×28 floats)."""
SAMPLE_PERIOD = 0.1
"""Seconds between two frame-driven samples of per-layer norms (JSONL records sample the steps
they record, whatever this says)."""
ACT_BATCH = 32
"""Activation statistics look at the first this many samples of a batch."""
SYNC_EVERY = 64
"""With JSONL on a GPU: records are read off the device this many at a time."""
MAX_EVENTS = 200
MAX_ROWS = 12
"""Layers shown in the activation table (the first ones)."""
ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.ReLU: "dead",
    nn.ReLU6: "dead",
    nn.LeakyReLU: "",
    nn.ELU: "",
    nn.GELU: "",
    nn.SiLU: "",
    nn.Mish: "",
    nn.Softplus: "",
    nn.PReLU: "",
    nn.Sigmoid: "saturated",
    nn.Tanh: "saturated",
}
"""Activation modules whose outputs are sampled, and what their third statistic counts:
units never positive over the batch (dead ReLUs) or outputs within 1% of a bound."""

_LIVE: Live | None = None


def rank() -> int:
    """This process's rank in a torchrun/DDP job (0 when there is none)."""
    for name in ("RANK", "LOCAL_RANK"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def watch(model: nn.Module, optimizer: torch.optim.Optimizer, *, name: str = "") -> Live:
    """Show this model's training in `dltui watch` (a no-op without it; see the module doc)."""
    global _LIVE
    if _LIVE is not None:
        return _LIVE  # one watched run a process; a second call changes nothing
    connection = _connect() if rank() == 0 else None
    jsonl = os.environ.get(ENV_JSONL) if rank() == 0 else None
    headless = os.environ.get(ENV_HEADLESS) == "1" and rank() == 0
    if connection is None and not jsonl and not headless:
        return Live(None, None)  # inert: log() returns at once, no hooks
    every = _every()
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "script"
    _LIVE = Live(
        model,
        optimizer,
        connection=connection,
        jsonl=jsonl,
        every=every,
        name=name or script,
        paused=os.environ.get(ENV_PAUSED) == "1",
    )
    return _LIVE


def current() -> Live | None:
    """The watched run of this process, if any (the headless command asks for its record)."""
    return _LIVE


def _every() -> int:
    try:
        return max(1, int(os.environ.get(ENV_EVERY, "1")))
    except ValueError:
        return 1


def _connect() -> Connection | None:
    path = os.environ.get(ENV_SOCKET)
    if not path:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:  # the UI is gone, or another process of this job took the link
        sock.close()
        return None
    return Connection(sock.detach())


def layers_of(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[tuple[str, list]]:
    """(layer name, its parameters the optimizer updates), in the model's order: a layer is a
    module holding parameters of its own ("layer1.0" for a conv inside a Sequential)."""
    wanted = {id(p): p for group in optimizer.param_groups for p in group["params"]}
    out: list[tuple[str, list]] = []
    for mod_name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) in wanted]
        if own:
            out.append((_clean(mod_name) or type(module).__name__, own))
            for p in own:
                wanted.pop(id(p))
    if wanted:
        out.append(("(not in model)", list(wanted.values())))
    return out


def _clean(name: str) -> str:
    """A module's name without the wrappers' prefixes (DDP's module., compile's _orig_mod.)."""
    for prefix in ("module.", "_orig_mod."):
        while name.startswith(prefix):
            name = name[len(prefix) :]
    return name.replace("._orig_mod", "").replace(".module.", ".")


def _activation_modules(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """Modules whose outputs are sampled: activation functions, else layers with weights."""
    found = [
        (_clean(n), m, ACTIVATIONS[type(m)])
        for n, m in model.named_modules()
        if type(m) in ACTIVATIONS
    ]
    if not found:
        found = [
            (_clean(n), m, "")
            for n, m in model.named_modules()
            if n and not list(m.children()) and list(m.parameters(recurse=False))
        ]
    return found[:MAX_ROWS]


def _device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


class Live:
    """A watched training run: the optimizer hooks, the link to the UI, JSONL records.

    Built by `watch()`. Without a consumer it is inert (`active` is False)."""

    def __init__(
        self,
        model: nn.Module | None,
        optimizer: torch.optim.Optimizer | None,
        connection: Connection | None = None,
        jsonl: str | None = None,
        every: int = 1,
        name: str = "script",
        paused: bool = False,
        clock: Any = time.perf_counter,
    ):
        self.active = model is not None and optimizer is not None
        self.step = 0
        """Optimizer steps taken so far."""
        if not self.active:
            return
        assert model is not None and optimizer is not None
        self.model, self.optimizer, self.name, self.clock = model, optimizer, name, clock
        self.layers = layers_of(model, optimizer)
        self.params = [p for _, ps in self.layers for p in ps]
        self.device = self.params[0].device if self.params else torch.device("cpu")
        index = [i for i, (_, ps) in enumerate(self.layers) for _ in ps]
        self._layer_index = torch.tensor(index, dtype=torch.long, device=self.device)
        self._zeros: dict[int, torch.Tensor] = {}
        self._weights = sum(p.numel() for p in self.params)
        self._frame_lock = threading.Lock()  # the reader's frames and the last one at exit
        self._last_frame: tuple[tuple, Frame] | None = None
        self._acts_modules = _activation_modules(model)
        # -- what the UI sets (reader thread) and the hooks read (training thread) ------
        self._cond = threading.Condition()
        self._playing = not paused
        self._allow = 0
        self._detached = connection is None
        self._lr_factors: list[float] = []
        self.blocked = False
        """True while the script's loop waits in the optimizer's step (paused)."""
        self.events: list[tuple[int, str]] = []
        self.message = ""
        # -- samples: device tensors, read at capture time -------------------------------
        self._sample_due = True
        self._broken: str | None = None
        self._sampled_at = -math.inf
        self._before: list[torch.Tensor] | None = None
        self._grads: torch.Tensor | None = None
        self._sample: tuple[int, torch.Tensor] | None = None  # (step, (3, L) grad/upd/weight)
        self._acts: dict[str, tuple[int, torch.Tensor]] = {}
        self._act_handles: list[Any] = []
        self._act_due = 0.0
        self._batch: int | None = None
        self._pending: collections.deque[tuple[int, str, Any]] = collections.deque()
        self._rate = (clock(), 0, 0.0)  # (time, step, steps/s) at the last measurement
        self._last_step_at = clock()
        # -- consumers ------------------------------------------------------------------
        self.history = History()
        self.last: dict[str, float] = {}
        self._view_id = 0
        self._logged_keys: list[str] = []
        self._layout_for = -1
        self._layout_cache: tuple[Panel, ...] = ()
        self._jsonl_path = jsonl
        self._jsonl: Any = None
        self._every = every
        self._records: list[tuple] = []  # JSONL records not yet written
        self._record: tuple | None = None  # (step, logged, sample, acts): still taking log()s
        self._latest: dict[str, tuple[int, Any]] = {}
        self.final: dict[str, Any] = {"step": 0}
        if jsonl:
            self._jsonl = open(jsonl, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._hooks = [
            optimizer.register_step_pre_hook(self._pre_step),
            optimizer.register_step_post_hook(self._post_step),
        ]
        self._arm_activations()
        self._conn = connection
        self._send_lock = threading.Lock()
        if connection is not None:
            self._send(Hello(self.run_info()))
            threading.Thread(target=self._serve, daemon=True, name="dltui-watch-reader").start()
        atexit.register(self.close)

    # -- the script's side ---------------------------------------------------------------
    def log(self, **scalars: Any) -> None:
        """Record scalars (floats or one-element tensors, read later) at the current step."""
        if not self.active:
            return
        new = False
        for key, value in scalars.items():
            if isinstance(value, torch.Tensor):
                value = value.detach()
            if key not in self._logged_keys:
                self._logged_keys.append(key)
                new = True
            if not self._detached:
                self._pending.append((self.step, key, value))
            self._latest[key] = (self.step, value)
            if self._record is not None and self._record[0] == self.step:
                self._record[1][key] = value
        if new:
            self._send(Hello(self.run_info()))  # a new curve: the UI lays out again

    # -- optimizer hooks (the training thread) -------------------------------------------
    def _pre_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if not self._playing or self._lr_factors:
            self._wait()
        if self._sample_due and self._broken is None:
            self._guarded(self._begin_sample)

    def _wait(self) -> None:
        """Block while paused (in short waits, so ctrl+c / SIGINT still lands); apply lr
        changes; let one step through per `n`."""
        start = self.clock()
        waited = False
        with self._cond:
            while True:
                self._apply_lr()
                if self._playing or self._detached:
                    break
                if self._allow > 0:
                    self._allow -= 1
                    break
                self.blocked = waited = True
                self._cond.wait(0.05)
            self.blocked = False
        if waited:  # time spent paused is not training time
            t0, s0, rate = self._rate
            self._rate = (t0 + self.clock() - start, s0, rate)

    def _apply_lr(self) -> None:
        factors, self._lr_factors = self._lr_factors, []
        for factor in factors:
            for group in self.optimizer.param_groups:
                if isinstance(group["lr"], torch.Tensor):
                    group["lr"].mul_(factor)
                else:
                    group["lr"] = group["lr"] * factor
            lr = self.lrs()[0]
            self.events.append((self.step, f"lr={lr:.3g}"))
            del self.events[:-MAX_EVENTS]
            self.message = f"lr = {lr:.4g} in every param group, from step {self.step + 1}"

    def _post_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self.step += 1
        self._last_step_at = now = self.clock()
        if self._before is not None:
            self._guarded(self._end_sample)
        if self._jsonl is not None:
            self._next_record()
        if now >= self._act_due and not self._act_handles:
            self._arm_activations()

    # -- samples ---------------------------------------------------------------------------
    def _guarded(self, sample: Any) -> None:
        """A sample that fails (a sparse gradient, parameters on two kinds of device) stops
        sampling, with one line on the screen: it never takes the user's training down."""
        try:
            sample()
        except Exception as exc:  # noqa: BLE001 - the user's loop goes on
            self._broken = f"per-layer sampling stopped: {type(exc).__name__}: {exc}"
            self.message = self._broken
            self._before = self._grads = None

    def _zero(self, p: torch.Tensor) -> torch.Tensor:
        zero = self._zeros.get(id(p))
        if zero is None:
            zero = self._zeros[id(p)] = torch.zeros((), device=p.device, dtype=p.dtype)
        return zero

    def _norms(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        norms = torch._foreach_norm(tensors)
        return torch.stack([n.to(self.device, torch.float32) for n in norms])

    def _begin_sample(self) -> None:
        """Before a sampled step: gradient norms, and a copy of the weights to diff."""
        self._sample_due = False
        self._sampled_at = self.clock()
        with torch.no_grad():
            grads = [p.grad if p.grad is not None else self._zero(p) for p in self.params]
            self._grads = self._norms(grads)
            self._before = [p.detach().clone() for p in self.params]

    def _end_sample(self) -> None:
        """After it: per layer ‖g‖, ‖Δw‖ and ‖w‖ (all on the device, read at capture)."""
        with torch.no_grad():
            after = [p.detach() for p in self.params]
            deltas = torch._foreach_sub(after, self._before)
            squares = torch.stack([self._grads, self._norms(deltas), self._norms(after)]) ** 2
            per_layer = torch.zeros(3, len(self.layers), device=self.device)
            per_layer.index_add_(1, self._layer_index, squares)
            self._sample = (self.step, per_layer.sqrt())
        self._before = self._grads = None

    def _arm_activations(self) -> None:
        """One-shot forward hooks: the next forward pass is sampled, then they go."""
        if not self._acts_modules or (self._detached and self._jsonl is None):
            return
        self._act_due = self.clock() + ACT_PERIOD
        for name, module, kind in self._acts_modules:
            self._act_handles.append(module.register_forward_hook(self._act_hook(name, kind)))
        self._act_handles.append(self.model.register_forward_hook(self._act_done))
        self._act_handles.append(self.model.register_forward_pre_hook(self._act_input))

    def _act_hook(self, name: str, kind: str) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not isinstance(output, torch.Tensor) or output.ndim == 0:
                return
            with torch.no_grad():
                x = output.detach()[:ACT_BATCH].float()
                if kind == "dead":
                    alive = (x > 0).reshape(x.shape[0], -1).any(0)
                    third = 1 - alive.float().mean()
                elif kind == "saturated":
                    bound = 0.99 if isinstance(module, nn.Tanh) else None
                    sat = x.abs() > bound if bound else (x < 0.01) | (x > 0.99)
                    third = sat.float().mean()
                else:
                    third = torch.full((), math.nan, device=x.device)
                std = x.std() if x.numel() > 1 else torch.zeros((), device=x.device)
                # the forward pass of the step in progress: step k's record holds it
                self._acts[name] = (self.step + 1, torch.stack([x.mean(), std, third]))

        return hook

    def _act_input(self, module: nn.Module, inputs: Any) -> None:
        first = inputs[0] if isinstance(inputs, tuple) and inputs else None
        if isinstance(first, torch.Tensor) and first.ndim > 0:
            self._batch = int(first.shape[0])

    def _act_done(self, module: nn.Module, inputs: Any, output: Any) -> None:
        handles, self._act_handles = self._act_handles, []
        for handle in handles:
            handle.remove()

    # -- JSONL records (the training thread) ------------------------------------------------
    def _next_record(self) -> None:
        """Step k is done: the previous step's record is complete; open k's if it is due, with
        the per-layer values sampled at k (device tensors until it is written)."""
        step = self.step
        if self._record is not None:
            self._records.append(self._record)
            self._record = None
        if step % self._every == 0:
            sample = self._sample[1] if self._sample and self._sample[0] == step else None
            acts = {name: stats for name, (at, stats) in self._acts.items() if at == step}
            self._record = (step, {}, sample, acts)
        if (step + 1) % self._every == 0:
            self._sample_due = True  # the next record carries per-layer values too
        on_cpu = self.device.type == "cpu"
        if self._records and (on_cpu or len(self._records) >= SYNC_EVERY):
            self._write_records()

    def _write_records(self) -> None:
        records, self._records = self._records, []
        if self._jsonl is None:
            return
        for record in records:
            self._jsonl.write(json.dumps(self._record_of(*record)) + "\n")
        self._jsonl.flush()

    def _record_of(
        self,
        step: int,
        logged: dict[str, Any],
        sample: torch.Tensor | None,
        acts: dict[str, torch.Tensor],
    ) -> dict[str, Any]:
        """One flat record: the step's logged scalars, lr, per-layer gradient norms and
        update/weight ratios, activation statistics (where that step was sampled)."""
        rec: dict[str, Any] = {"step": step}
        rec.update(_finite(_read(logged)))
        lrs = self.lrs()
        if len(set(lrs)) == 1:
            rec["lr"] = lrs[0]
        else:
            rec.update({f"lr/{i}": lr for i, lr in enumerate(lrs)})
        if sample is not None:
            rec.update(self._layer_values(sample.cpu().double().numpy()))
        for name, stats in acts.items():
            mean, std, third = stats.cpu().tolist()
            rec.update(_finite({f"act_mean/{name}": mean, f"act_std/{name}": std}))
            if math.isfinite(third):
                rec[f"act_dead/{name}"] = third
        return rec

    def _layer_values(self, values: Any) -> dict[str, float]:
        grads, updates, weights = values
        out: dict[str, float] = {"grad_norm": float(math.sqrt((grads**2).sum()))}
        for (name, _), g, u, w in zip(self.layers, grads, updates, weights):
            out[f"grad_norm/{name}"] = float(g)
            if w > 0:
                out[f"update_ratio/{name}"] = float(u / w)
        return _finite(out)

    # -- the UI's side (reader thread) ------------------------------------------------------
    def _serve(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            while True:
                command = conn.recv()
                if isinstance(command, Quit):
                    break
                self.handle(command)
        except (EOFError, OSError):
            pass  # the UI is gone
        except Exception as exc:  # noqa: BLE001 - never take the user's script down
            print(f"dltui: the link to the UI failed ({exc!r}); training goes on", file=sys.stderr)
        self.detach()

    def handle(self, command: Command) -> None:
        """Apply one command from the UI (the reader thread; tests call it directly)."""
        with self._cond:
            if not isinstance(command, WantFrame):  # a key's answer stays until the next key
                self.message = ""
            match command:
                case Play():
                    self._playing = True
                case Pause():
                    self._playing = False
                case Toggle():
                    self._playing = not self._playing
                    self._allow = 0
                case Step(n):
                    self._playing = False
                    self._allow += n
                case ScaleParam("lr", factor):
                    self._lr_factors.append(factor)
                    if self.blocked:  # the loop waits for us: the frame asked for next shows it
                        self._apply_lr()
                    else:  # the loop is busy elsewhere: say when it applies
                        self.message = f"lr ×{factor:g} from the next optimizer step"
                case WantFrame():
                    # bars need no 30 Hz: a fresh sample at most every SAMPLE_PERIOD
                    if self.clock() >= self._sampled_at + SAMPLE_PERIOD:
                        self._sample_due = True
                case _:
                    self.message = f"a watched script does not take {type(command).__name__}"
            self._cond.notify_all()
        if isinstance(command, WantFrame):
            self._send(FrameMsg(self.frame()))

    def _send(self, message: Message) -> None:
        """Straight onto the socket, from the thread that has something to say (the reader
        thread's frames; a Hello from log()). The UI asks for one frame at a time and reads
        all the time, so a send never waits on it; a send to a UI that is gone is dropped
        (the reader sees the socket close and detaches)."""
        if self._conn is None or self._detached:
            return
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self._conn.send(message)

    def detach(self) -> None:
        """No consumer any more: every step goes through, nothing more is sampled for it."""
        with self._cond:
            self._detached = True
            self._playing = True
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return not self._playing and not self._detached

    def lrs(self) -> list[float]:
        return [float(group["lr"]) for group in self.optimizer.param_groups]

    # -- capture -----------------------------------------------------------------------------
    def capture(self) -> None:
        """Read what was logged since the last capture into the history (one transfer)."""
        items = []
        while self._pending:
            items.append(self._pending.popleft())
        values = _read({i: v for i, (_, _, v) in enumerate(items)})
        for i, (step, key, _) in enumerate(items):
            self.history.record(step, {key: values[i]})
            self.last[key] = values[i]
        if self._sample is not None:
            step, per_layer = self._sample
            grads = per_layer[0].square().sum().sqrt()
            total = float(grads)
            series = self.history.series.get("grad_norm")
            if series is None or series.n == 0 or series.steps[series.n - 1] < step:
                self.history.record(step, {"grad_norm": total})

    def run_info(self) -> RunInfo:
        lr = self.lrs()[0] if self.optimizer.param_groups else 0.0
        model = type(self.model).__name__
        return RunInfo(
            name=self.name,
            title=f"{self.name}: {model} with {type(self.optimizer).__name__}",
            caption=(
                "Your own training loop, hooked at the optimizer's step: gradient norms and "
                "update/weight ratios per layer (healthy near 1e-3), activations, lr."
            ),
            panels=self.layout(),
            params=(
                Param(
                    "lr",
                    float(lr),
                    "learning rate of every param group ([ halves, ] doubles)",
                    min=0.0,
                    live=True,
                ),
            ),
            values={"lr": float(lr)},
            keys={},
            columns=3,
            device=_device_label(self.device),
            limit=0,
            speed=None,
            paused=not self._playing,
            seed=0,
            threads=torch.get_num_threads() if self.device.type == "cpu" else 1,
        )

    @property
    def _layout(self) -> tuple[Panel, ...]:
        """The layout for the keys logged so far (made again only when a key is new)."""
        if self._layout_for != len(self._logged_keys):
            self._layout_cache = self.layout()
            self._layout_for = len(self._logged_keys)
        return self._layout_cache

    def layout(self) -> tuple[Panel, ...]:
        logged = list(self._logged_keys)
        first = "loss" if "loss" in logged else (logged[0] if logged else "grad_norm")
        rest = [k for k in logged if k != first]
        lossy = "loss" in first
        panels = [
            Panel(
                "line",
                f"{first} per step" if first != "grad_norm" else "gradient norm (sampled)",
                series=(first,),
                col_span=1 if rest else 2,
                options={"ema": 0.98 if first != "grad_norm" else 0, "logy": lossy},
            )
        ]
        if rest:
            panels.append(
                Panel("line", ", ".join(rest[:3]), series=tuple(rest[:3]), options={"ema": 0.9})
            )
        panels += [
            Panel("bars", "Grad norm per layer", "grads"),
            Panel("bars", "Update ‖Δw‖/‖w‖", "updates"),
            Panel("table", "Activations (sampled)", "acts"),
            Panel("text", "Speed and lr", "run"),
        ]
        return tuple(panels)

    def frame(self) -> Frame:
        """What the UI shows now (the reader thread; reads the device here, not per step)."""
        with self._frame_lock:
            key = (
                self.step,
                len(self._pending),
                self._playing,
                self.blocked,
                self._allow,
                self.message,
                self._sample[0] if self._sample else None,
                tuple(at for at, _ in self._acts.values()),
                tuple(self.lrs()),
            )
            if self._last_frame is None or key != self._last_frame[0]:
                self._last_frame = (key, self._frame())
            return self._last_frame[1]  # nothing new since: the same frame (UI at 30 Hz)

    def _frame(self) -> Frame:
        self.capture()
        now = self.clock()
        t0, s0, rate = self._rate
        if now - t0 >= 0.5:
            rate = (self.step - s0) / (now - t0)
            self._rate = (now, self.step, rate)
        if self.paused:
            rate = 0.0
        self._view_id += 1
        # "paused" once the loop really waits; until then the UI keeps asking for frames
        status = "paused" if self.paused and self.blocked and self._allow == 0 else "running"
        message = self.message
        if self.paused and not self.blocked and not message:
            message = "pausing at the next optimizer step…"
        events = tuple(self.events)
        panels: dict[str, dict[str, Any]] = {}
        for panel in self._layout:
            if panel.kind == "line":
                series = self.history.snapshot(panel.series)
                panels[panel.key] = {"series": series, "events": events}
        panels.update(self._layer_panels())
        panels["run"] = {"text": self._run_text(rate)}
        lrs = self.lrs()
        metrics = dict(self.last)
        if self._batch:
            metrics["samples_per_s"] = rate * self._batch
        return Frame(
            step=self.step,
            limit=0,
            status=status,
            metrics=metrics,
            panels=panels,
            view_id=self._view_id,
            params={"lr": lrs[0] if lrs else 0.0},
            lr=lrs[0] if len(set(lrs)) == 1 else None,
            events=events,
            speed=None,
            steps_per_s=rate,
            device=_device_label(self.device),
            message=message,
        )

    def _layer_panels(self) -> dict[str, dict[str, Any]]:
        labels = [name for name, _ in self.layers]
        out: dict[str, dict[str, Any]] = {"grads": {}, "updates": {}, "acts": {}}
        if self._sample is not None:
            grads, updates, weights = self._sample[1].cpu().double().numpy()
            with _quiet_numpy():
                ratio = updates / weights
            out["grads"] = {"labels": labels, "series": [("‖grad‖", grads)], "log": True}
            out["updates"] = {
                "labels": labels,
                "series": [("‖Δw‖/‖w‖", ratio)],
                "log": True,
                "unit": "≈1e-3 ok",
            }
        if self._acts:
            rows = []
            for name, (_, stats) in list(self._acts.items()):
                mean, std, third = stats.cpu().tolist()
                share = f"{third:.0%}" if math.isfinite(third) else "–"
                rows.append([name, f"{mean:.2g}", f"{std:.2g}", share])
            third = "dead" if any(k == "dead" for _, _, k in self._acts_modules) else "sat."
            out["acts"] = {"columns": ["layer", "mean", "std", third], "rows": rows}
        return out

    def _run_text(self, rate: float) -> str:
        lines = [f"{rate:,.1f} steps/s"]
        if self._batch:
            lines.append(f"{rate * self._batch:,.0f} samples/s")
        groups = self.optimizer.param_groups
        for i, group in enumerate(groups[:4]):
            lines.append(f"lr {float(group['lr']):.4g} (group {i})")
        if len(groups) > 4:
            lines.append(f"… {len(groups) - 4} more param groups")
        if self.device.type == "cuda":
            used = torch.cuda.memory_allocated(self.device) / 2**20
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
            lines.append(f"GPU {used:,.0f} MiB (peak {peak:,.0f})")
        lines.append(f"{len(self.params)} tensors, {self._weights:,} weights")
        if self._sample is not None:
            lines.append(f"layers sampled at step {self._sample[0]:,}")
        return "\n".join(lines)

    # -- the end ------------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """The record of the latest step, with the latest value of every logged scalar (what
        --headless prints last)."""
        logged = {key: value for key, (_, value) in self._latest.items()}
        sample = self._sample[1] if self._sample and self._sample[0] == self.step else None
        acts = {name: stats for name, (at, stats) in self._acts.items() if at == self.step}
        return self._record_of(self.step, logged, sample, acts)

    def close(self) -> None:
        """At exit: the last records and a last frame, then let go of the UI."""
        if not self.active or getattr(self, "_closed", False):
            return
        self._closed = True
        for hook in self._hooks:
            hook.remove()
        if self._jsonl is not None:
            last = self._record or (self._records[-1] if self._records else None)
            if self._record is not None:
                self._records.append(self._record)
                self._record = None
            if last is None or last[0] != self.step:  # always the last step
                self._records.append((self.step, {}, None, {}))
            with contextlib.suppress(OSError, ValueError):
                self._write_records()
                self._jsonl.close()
        self.final = self.record()
        if self._conn is not None and not self._detached:
            self._send(FrameMsg(self.frame()))


def _read(values: dict[Any, Any]) -> dict[Any, float]:
    """Floats of scalars and one-element tensors, the tensors read in one transfer a device."""
    out: dict[Any, float] = {}
    by_device: dict[torch.device, list[tuple[Any, torch.Tensor]]] = {}
    for key, value in values.items():
        if isinstance(value, torch.Tensor):
            if value.numel() == 1:
                by_device.setdefault(value.device, []).append((key, value))
            else:
                out[key] = math.nan
        else:
            try:
                out[key] = float(value)
            except (TypeError, ValueError):
                out[key] = math.nan
    for device, items in by_device.items():
        dtype = torch.float32 if device.type == "mps" else torch.float64
        flat = torch.stack([t.reshape(()).to(dtype) for _, t in items]).cpu().tolist()
        out.update({key: v for (key, _), v in zip(items, flat)})
    return {key: out[key] for key in values}


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, float) and math.isfinite(v) else None) for k, v in values.items()
    }


@contextlib.contextmanager
def _quiet_numpy():
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        yield
