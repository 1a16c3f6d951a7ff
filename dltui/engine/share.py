"""The command line that reproduces a run's screen exactly, for the UI's share key (S).

A run is deterministic: its target, seed, device (and threads, where they change the numbers),
the params it started with, and the changes made to its course since (live changes, going back,
resets: `Runner.log`, already written in the `--at` language) bring back the same state. So
`command_line` writes `dltui run TARGET … --at …  --start STEP --paused`, which opens at the
step on screen with the same numbers, the same marks on the curves and the same ghosts. When
the screen stands behind a rewind or a reset made later in the session, a last
`--at STEP:goto=STEP` places it: `--start` opens once every action up to it has fired
(`dltui.engine.control.open_at`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from dltui.engine.runner import CHECKPOINT_MB
from dltui.scenario.params import Param

if TYPE_CHECKING:
    from dltui.engine.control import Controller


def command_line(ctl: Controller) -> list[str]:
    """argv (from "dltui") that opens this run exactly where it stands now, paused."""
    runner, spec = ctl.runner, ctl.spec
    cls = runner.cls
    argv = ["dltui", "run", spec.target]
    if runner.seed != cls.seed:
        argv += ["--seed", str(runner.seed)]
    if spec.device != "auto" or cls.prefers_gpu:  # another machine might pick another device
        argv += ["--device", str(runner.device)]
    if cls.threads is None:  # a CNN's float sums depend on how many threads share them
        argv += ["--threads", str(spec.threads or torch.get_num_threads())]
    elif spec.threads not in (None, cls.threads):
        argv += ["--threads", str(spec.threads)]
    for assignment in _sets(runner):
        argv += ["--set", assignment]
    if runner.limit != runner.scenario.length():
        argv += ["--steps", str(runner.limit)]
    speed = cls.speed if spec.speed == "default" else spec.speed
    if ctl.speed != speed or spec.speed != "default":
        argv += ["--speed", "max" if ctl.speed is None else f"{ctl.speed:g}"]
    if spec.checkpoint_mb != CHECKPOINT_MB:
        argv += ["--checkpoint-mb", f"{spec.checkpoint_mb:g}"]
    for action in _script(runner):
        argv += ["--at", action]
    if runner.step_count or runner.log:
        argv += ["--start", str(runner.step_count)]
    return [*argv, "--paused"]


def _sets(runner) -> list[str]:
    """`--set`s for every param not at its default: a live param as the run began (its later
    changes are in the script), the others as they are now (hand-set weights, the digit or
    racer on screen)."""
    out = []
    for param in runner.cls.params:
        value = runner.params[param.name]
        if param.live and not param.display:
            value = runner.initial_params[param.name]
        if not _same(value, param.default):
            out.append(f"{param.name}={Param.exact(value)}")
    return out


def _same(a, b) -> bool:
    """Equal, counting nan as equal to nan (the race's unset start point)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return a == b or nan


def _script(runner) -> list[str]:
    """The session's changes, a goto that puts the run back on the screen's step where a
    later rewind or reset left it, and the `--at` actions still to come."""
    here = runner.step_count
    actions = list(runner.log)
    steps = [int(a.partition(":")[0]) for a in actions]
    back = [i for i, a in enumerate(actions) if _moves_back(a) and steps[i] > here]
    if back and not any(step <= here for step in steps[back[-1] + 1 :]):
        actions.append(f"{here}:goto={here}")  # else what follows the rewind places the run
    actions += [f"{a.step}:{a.text}" for a in runner.script.actions[runner.script.next :]]
    return actions


def _moves_back(action: str) -> bool:
    what = action.partition(":")[2]
    return what == "reset" or what.startswith(("rewind=", "goto="))
