"""Time travel's machinery: checkpoints of the whole training state, within a memory budget.

A `Checkpoint` is the scenario object deep-copied (model, optimizer, its trails and batch order:
one `copy.deepcopy`, so an optimizer still points at the copied model) plus every RNG (torch's,
CUDA's where used, numpy's, Python's) and the param values, taken after a step. Large read-only
data (a dataset on the device) is shared between the live scenario and every checkpoint, not
copied: tensors of at least `SHARE_BYTES` that take no gradient and are no optimizer's state.
Runs are deterministic, so going to step k is: restore the nearest checkpoint ≤ k and replay.
A scenario that cannot be copied (a lock, torch's graph nodes) still goes back exactly: the
engine builds it anew, as at step 0, and replays from there.

`Checkpoints` keeps them within a byte budget: when over it, every other one of the older half is
dropped (step 0 and the newest stay), so a million-step run holds a few hundred, denser near now.
How often one is taken adapts to its cost: after stepping for `1 / OVERHEAD` times as long as the
last one took, so checkpointing costs training about `OVERHEAD` of its speed, and going back
replays about that long.

`parse_at` reads the `--at STEP:ACTION` script that headless runs (and lectures) replay.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dltui.scenario.params import Params, UsageError

SHARE_BYTES = 1 << 20
"""Tensors this large that take no gradient are data: shared by checkpoints, never copied."""
OVERHEAD = 0.03
"""Share of training time spent taking checkpoints (it also bounds the replay of a step back
to about 1/OVERHEAD times one checkpoint's cost)."""
_OBJECT_BYTES, _TENSOR_BYTES = 128, 1536
"""Bytes per copied object beyond what sys.getsizeof says (the allocator's; a tensor's C++
side): with them a checkpoint's count matches the process's growth (xor: ~50 KB each)."""
KEEP_RECENT = 8
"""The newest checkpoints are never thinned: stepping back near now stays instant."""


class TimeTravelOff(Exception):
    """This run's state cannot be copied (the message names the attribute)."""


@dataclass(eq=False)
class Checkpoint:
    step: int
    scenario: Any
    params: dict[str, Any]
    rng: tuple[Any, ...]
    last: dict[str, float]
    nbytes: int


@dataclass(frozen=True)
class Action:
    """One timed action of an `--at` script: at `step`, set `name` to `value`, or rewind."""

    step: int
    name: str
    value: Any
    text: str


def rng_state(device: torch.device) -> tuple[Any, ...]:
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda, np.random.get_state(), random.getstate()


def set_rng_state(state: tuple[Any, ...], device: torch.device) -> None:
    cpu, cuda, numpy_state, python_state = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state(cuda, device)
    np.random.set_state(numpy_state)
    random.setstate(python_state)


def _values(obj: Any, depth: int = 2):
    """Attribute values of a scenario, and the items of its lists, tuples and dicts."""
    items = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    for value in items:
        yield value
        if depth and isinstance(value, (list, tuple)):
            yield from value
        elif depth and isinstance(value, dict):
            yield from value.values()


def _size(obj: Any) -> int:
    """Bytes a copied object holds: its data, and the object itself with the allocator's share."""
    extra = _TENSOR_BYTES if isinstance(obj, torch.Tensor) else _OBJECT_BYTES
    return _nbytes(obj) + sys.getsizeof(obj) + extra


def _nbytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.nelement() * obj.element_size()
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    return 0


class Checkpoints:
    """The checkpoints of the current branch, by step, within `budget` bytes."""

    def __init__(self, budget: int):
        self.budget = budget
        self.items: list[Checkpoint] = []
        self.cost = 0.0  # seconds the last checkpoint took
        self._due = 0.0  # perf_counter time after which the next one is taken
        self._shared: dict[int, Any] = {}

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.items)

    def steps(self) -> list[int]:
        return [c.step for c in self.items]

    def share(self, scenario: Any, optimizers: list[torch.optim.Optimizer]) -> None:
        """Find the scenario's large read-only data (once a run): it is never copied."""
        state = {id(t) for opt in optimizers for s in opt.state.values() for t in _values_of(s)}
        self._shared = {
            id(v): v
            for v in _values(scenario)
            if isinstance(v, torch.Tensor)
            and not v.requires_grad
            and id(v) not in state
            and _nbytes(v) >= SHARE_BYTES
        }

    def _copy(self, scenario: Any, params: Params) -> tuple[Any, int]:
        memo: dict[int, Any] = {id(params): params, **self._shared}
        shared = set(memo)
        try:
            with _graph_tensors_detached():
                clone = copy.deepcopy(scenario, memo)
        except Exception as exc:  # noqa: BLE001 - any failure names its attribute
            raise TimeTravelOff(_culprit(scenario, exc)) from None
        copied = [v for k, v in memo.items() if k not in shared and k != id(memo)]
        return clone, sum(_size(v) for v in copied)

    def due(self, now: float) -> bool:
        return self.enabled and now >= self._due

    def take(self, step: int, scenario: Any, params: Params, last: dict, device) -> None:
        """Checkpoint the state after `step`; then thin the old ones to stay in budget."""
        start = time.perf_counter()
        clone, nbytes = self._copy(scenario, params)
        ckpt = Checkpoint(step, clone, params.as_dict(), rng_state(device), dict(last), nbytes)
        i = bisect.bisect_left(self.steps(), step)
        self.items[i : i + (i < len(self.items) and self.items[i].step == step)] = [ckpt]
        self._thin()
        end = time.perf_counter()
        self.cost = end - start
        self._due = end + self.cost / OVERHEAD

    def _thin(self) -> None:
        """Every other old checkpoint goes while over budget; then, if one checkpoint is a large
        share of the budget, the oldest recent ones (step 0 and the newest always stay)."""
        while self.nbytes > self.budget and len(self.items) > 2:
            old = self.items[1 : max(2, len(self.items) - KEEP_RECENT)]
            drop = {id(c) for c in old[::2]}
            self.items = [c for c in self.items if id(c) not in drop]

    def at_or_before(self, step: int) -> Checkpoint | None:
        i = bisect.bisect_right(self.steps(), step)
        return self.items[i - 1] if i else None

    def drop_after(self, step: int) -> None:
        """Forget checkpoints past `step` (a branch left them behind)."""
        self.items = [c for c in self.items if c.step <= step]

    def restore(self, ckpt: Checkpoint, params: Params, device: torch.device) -> Any:
        """A fresh copy of the checkpoint's scenario (the checkpoint stays as it was), with the
        params and every RNG as they were then."""
        clone, _ = self._copy(ckpt.scenario, params)
        for name, value in ckpt.params.items():
            params[name] = value
        set_rng_state(ckpt.rng, device)
        self._due = time.perf_counter() + self.cost / OVERHEAD
        return clone

    def clear(self) -> None:
        self.items = []
        self._due = 0.0


@contextlib.contextmanager
def _graph_tensors_detached():
    """While copying: a tensor in the middle of an autograd graph (a pre-activation kept for
    display) is copied detached, as torch refuses to deep-copy it; replay recomputes it."""
    original = torch.Tensor.__deepcopy__

    def deepcopy(tensor: torch.Tensor, memo: dict[int, Any]) -> torch.Tensor:
        if tensor.requires_grad and not tensor.is_leaf:
            memo[id(tensor)] = out = tensor.detach().clone()
            return out
        return original(tensor, memo)

    torch.Tensor.__deepcopy__ = deepcopy
    try:
        yield
    finally:
        torch.Tensor.__deepcopy__ = original


def _values_of(state: Any):
    if isinstance(state, dict):
        yield from state.values()


def _culprit(scenario: Any, exc: Exception) -> str:
    """Which attribute of the scenario could not be copied, in one line."""
    for name, value in vars(scenario).items():
        try:
            copy.deepcopy(value, {})
        except Exception:  # noqa: BLE001 - this is the one
            kind = type(value).__name__
            return f"{type(scenario).__name__}.{name} (a {kind}) cannot be copied"
    return f"the scenario cannot be copied ({exc})"


@dataclass
class Script:
    """Timed actions, fired in the order given when the run is at their step; the actions
    after a rewind that share its step fire right after it, on the new branch."""

    actions: list[Action] = field(default_factory=list)
    next: int = 0

    def due(self, step: int) -> list[Action]:
        """The actions to fire now (at `step`): the next one if it is due, and every one after
        it with the same step."""
        fired: list[Action] = []
        while self.next < len(self.actions) and self.actions[self.next].step == step:
            fired.append(self.actions[self.next])
            self.next += 1
        return fired

    def __bool__(self) -> bool:
        return self.next < len(self.actions)

    def pending_by(self, step: int) -> bool:
        """Whether an action still to fire is at `step` or before it (it lies past a rewind
        or a reset still to come)."""
        return any(a.step <= step for a in self.actions[self.next :])


def parse_at(texts: tuple[str, ...], params: Params, limit: int) -> Script:
    """`STEP:NAME=VALUE` (a live param), `STEP:rewind=K` (`goto` is the same word) or
    `STEP:reset` (start over from step 0 with the params of then, as `r` does), checked: a
    UsageError names the first mistake. Actions run in the order given, so a step may not go
    back in time except through a rewind or a reset."""
    actions: list[Action] = []
    at = 0  # where the run is when this action's turn comes
    for text in texts:
        where = f"--at {text}"
        step_text, colon, action = text.partition(":")
        name, equals, value_text = action.partition("=")
        name = name.strip()
        if not colon or not name or not (equals or name == "reset"):
            raise UsageError(f"{where}: write STEP:NAME=VALUE, e.g. --at 1000:lr=0.5")
        step = _int(step_text, where, "STEP")
        if step < at:
            raise UsageError(f"{where}: step {step} is already past then (the run is at {at})")
        if step > limit:
            raise UsageError(f"{where}: the run stops at step {limit}; use --steps to go on")
        if name == "reset":
            if equals:
                raise UsageError(f"{where}: reset takes no value: write {step}:reset")
            value, at = None, 0
        elif name in ("rewind", "goto"):
            value = _int(value_text, where, name)
            if value > step:
                raise UsageError(f"{where}: {name} goes back, to a step ≤ {step}")
            at = value
        else:
            try:
                param = params.declared(name)
            except UsageError as exc:
                raise UsageError(f"{where}: {exc}") from None
            if not param.live:
                raise UsageError(f"{where}: {name} cannot change during a run; use --set")
            value = param.parse(value_text.strip())
            at = step
        actions.append(Action(step, name, value, action))
    return Script(actions)


def _int(text: str, where: str, what: str) -> int:
    try:
        value = int(text.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise UsageError(f"{where}: {what} must be a whole number, not {text.strip()!r}") from None
    if value < 0:
        raise UsageError(f"{where}: {what} must be 0 or more")
    return value
