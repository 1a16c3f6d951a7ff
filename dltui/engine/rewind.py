"""Time travel, the Runner's half of it: go to any step exactly, branch, keep ghosts.

`Rewind` is a mixin of `dltui.engine.runner.Runner` (it uses the Runner's scenario, params,
history and step loop): `goto(k)` / `back(n)` restore the nearest checkpoint before step k
(`dltui.engine.timetravel.Checkpoints`) or, for a scenario that cannot be copied, build it anew
as at step 0, then replay, making this branch's live changes (`actions`) again at their steps.
A live change made while the branch has a future forks it: the run left behind becomes a
`Ghost` (so does a reset run). `fire_script` runs the `--at` actions due at the current step.
Every change to the run's course (live changes, going back, resets, by a key or a script) is
also written down in `log`, in the `--at` language, so the whole session can be replayed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import torch

from dltui.engine.timetravel import TimeTravelOff, set_rng_state
from dltui.protocol import Ghost
from dltui.scenario.params import UsageError

if TYPE_CHECKING:
    from dltui.engine.history import History
    from dltui.scenario.base import Scenario

GHOSTS = 3
"""Runs left behind by branches and resets that stay on the curves (the newest)."""
GHOST_POINTS = 400
"""Points per ghost series: a dimmed curve needs no more than a panel's width of them."""
MAX_EVENTS = 200
"""Live changes marked on the curves: the latest ones (all are kept, to replay them)."""


class Rewind:
    """Going back and branching, for the Runner (see the module docstring)."""

    _left: History | None
    log: list[str]
    """The session's changes to the run's course as `--at` actions, in the order made:
    `STEP:NAME=VALUE`, `STEP:rewind=K`, `STEP:reset` (`dltui.engine.share` replays them)."""

    def _build(self) -> Scenario:
        """The scenario as at step 0: seeded, set up."""
        set_rng_state(self._start_rng, torch.device("cpu"))
        torch.manual_seed(self.seed)
        scenario = self.cls(self.params, self.device)
        scenario.setup()
        return scenario

    def _checkpoint(self) -> None:
        if self.travel_off or self.uncopyable:
            return
        self.sync()
        try:
            self.travel.take(self.step_count, self.scenario, self.params, self.last, self.device)
        except TimeTravelOff as exc:
            self.uncopyable = str(exc)
            self.travel.clear()

    @property
    def travel_note(self) -> str:
        """What the user should know about going back in this run ("" when nothing)."""
        if self.uncopyable:
            return f"going back replays from step 0: {self.uncopyable}"
        return self.travel_off

    def back(self, n: int = 1) -> int:
        """Go back n updates (to step 0 at most); returns the step now shown."""
        return self.goto(max(0, self.step_count - n))

    def goto(self, target: int) -> int:
        """Be at step `target` exactly as the run was there: the nearest checkpoint at or
        before it, then replay (forward past this branch's end: train on). Returns the step."""
        if self.travel_off:
            raise UsageError(self.travel_off)
        target = max(0, min(int(target), max(self.limit, self.head)))
        self.sync()
        if target == self.step_count:
            return target
        ckpt = None if self.uncopyable else self.travel.at_or_before(max(target - 1, 0))
        if target > self.step_count and (ckpt is None or ckpt.step <= self.step_count):
            self.step(target - self.step_count)  # ahead of every checkpoint: train on
            return self.step_count
        if target < self.step_count:
            self.log.append(f"{self.step_count}:rewind={target}")
            if self._left is None:
                self._left, self._left_head = self.history, self.head
        limit = max(self.limit, target)
        shown = {q.name: self.params[q.name] for q in self.cls.params if q.display and q.live}
        if ckpt is not None:
            self.scenario = self.travel.restore(ckpt, self.params, self.device)
            start, last = ckpt.step, ckpt.last
        else:  # nothing to restore: the run anew, from step 0
            for name, value in self._start_params.items():
                self.params[name] = value
            self.scenario, start, last = self._build(), 0, {}
        self.scenario.limit = limit
        self.optimizers = self.scenario.optimizers()
        for name, value in shown.items():  # what is shown stays as the user chose it now
            self.params[name] = value
            self.scenario.on_param(name, value)
        self.step_count, self.last, self.diverged_at = start, dict(last), None
        self._lazy, self._lazy_to = {}, target
        self._applied = next(
            (i for i, a in enumerate(self.actions) if a[0] >= start), len(self.actions)
        )
        self.history = (self._left or self.history).truncated(target)
        self._recorded = target
        self._replaying = True
        try:
            self.step(target - start)
        finally:
            self._replaying = False
        self._view_due = 0.0
        return self.step_count

    def _redo_changes(self) -> None:
        """Make this branch's live changes recorded at the current step again (replay)."""
        while (
            self._applied < len(self.actions) and self.actions[self._applied][0] < self.step_count
        ):
            self._applied += 1  # before the checkpoint replay started from: already in it
        while (
            self._applied < len(self.actions) and self.actions[self._applied][0] == self.step_count
        ):
            _, name, value, _ = self.actions[self._applied]
            self.params[name] = value
            self.scenario.on_param(name, self.params[name])
            self._applied += 1

    def fire_script(self) -> None:
        """The `--at` actions due at this step, in their order (a rewind, then changes)."""
        for action in self.script.due(self.step_count):
            if action.name in ("rewind", "goto"):
                self.goto(action.value)
            elif action.name == "reset":
                self.reset()
            else:
                self.set_param(action.name, action.value)

    def _fork(self, label: str) -> None:
        """A live change while this branch has a future: the future becomes a ghost, marked
        with the changes made at the branch point."""
        step = self.step_count
        self._keep_ghost(label, step, "")
        self._fork_labels = {}
        self.actions = self.actions[: self._applied]
        self.travel.drop_after(step)
        self._left = None
        self.head = step
        self.branch += 1
        self.branched = True
        self._fork_at = (self.branch, step)

    def _keep_ghost(self, label: str, step: int, mark: str) -> None:
        history = self._left or self.history
        self.sync()
        series = history.snapshot(None, max_points=GHOST_POINTS)
        self.ghosts = [*self.ghosts, Ghost(label, step, mark, series)][-GHOSTS:]
        self._ghosts_sent = False
        self.branched = True

    @property
    def events(self) -> list[tuple[int, str]]:
        """The live changes made so far on this branch, as (step, label) marks."""
        return [(a[0], a[3]) for a in self.actions[: self._applied][-MAX_EVENTS:]]

    def mark_branch_point(self, name: str, label: str) -> None:
        """The changes made at the step this branch forked at all name its ghost's mark."""
        if self._fork_at == (self.branch, self.step_count):
            self._fork_labels[name] = label
            marks = ", ".join(self._fork_labels.values())
            mark = f"{marks} from step {self.step_count:,}"
            self.ghosts[-1] = replace(self.ghosts[-1], mark=mark)
            self._ghosts_sent = False

    def _take_ghosts(self) -> tuple[Ghost, ...] | None:
        """The ghosts, in the first frame after they changed (None: unchanged)."""
        if self._ghosts_sent:
            return None
        self._ghosts_sent = True
        return tuple(self.ghosts)
