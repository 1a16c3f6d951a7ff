"""Play / pause / step / speed over a Runner, driven by commands. No UI imports.

`Controller` is the run loop shared by the engine's child process (`dltui.worker`) and the
in-process engine used by snapshot tests: commands come in as tuples, `advance()` spends a
small time budget taking steps at the requested speed, `frame()` captures what to show.

Commands: ("play",) ("pause",) ("toggle",) ("step", n) ("speed", steps_per_s | None)
("faster",) ("slower",) ("reset",) ("set", name, value) ("scale", name, factor)
("key", key): a scenario key (moves its param or runs its action).
"""

from __future__ import annotations

import time
from typing import Any

from dltui.engine import Runner
from dltui.frame import Frame
from dltui.params import UsageError

SPEEDS: tuple[float | None, ...] = (
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, None,
)


class Controller:
    def __init__(self, runner: Runner, speed: float | None = None, playing: bool = True):
        self.runner = runner
        self.speed = speed
        self.playing = playing
        self.message = ""
        self._clock_start = time.perf_counter()
        self._clock_steps = 0

    # -- commands -----------------------------------------------------------------------
    def handle(self, command: tuple[Any, ...]) -> None:
        """Apply one command; a bad value becomes the frame's message, never an exception."""
        verb, *args = command
        self.message = ""
        try:
            if verb == "play":
                self._set_playing(True)
            elif verb == "pause":
                self._set_playing(False)
            elif verb == "toggle":
                self._set_playing(not self.playing)
            elif verb == "step":
                self._set_playing(False)
                self.runner.step(int(args[0]))
            elif verb == "speed":
                self._set_speed(args[0])
            elif verb in ("faster", "slower"):
                self._set_speed(self._next_speed(+1 if verb == "faster" else -1))
            elif verb == "reset":
                self.runner.reset()
                self._restart_clock()
            elif verb == "set":
                self.runner.set_param(args[0], args[1])
            elif verb == "key":
                self.message = self.runner.press(args[0])
            elif verb == "scale":
                value = self.runner.scale_param(args[0], float(args[1]))
                self.message = f"{args[0]} = {value:g}"
            else:
                self.message = f"unknown command {verb!r}"
        except UsageError as exc:
            self.message = str(exc)

    def _set_playing(self, playing: bool) -> None:
        if playing and self.runner.done and self.runner.diverged_at is None:
            self.runner.limit = self.runner.step_count + self.runner.scenario.length()  # go on
        self.playing = playing
        self._restart_clock()

    def _set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._restart_clock()

    def _next_speed(self, direction: int) -> float | None:
        current = float("inf") if self.speed is None else self.speed
        ladder = [float("inf") if s is None else s for s in SPEEDS]
        if direction > 0:
            bigger = [s for s in ladder if s > current]
            target = bigger[0] if bigger else float("inf")
        else:
            smaller = [s for s in ladder if s < current]
            target = smaller[-1] if smaller else ladder[0]
        return None if target == float("inf") else target

    def _restart_clock(self) -> None:
        self._clock_start = time.perf_counter()
        self._clock_steps = 0

    # -- running ------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while there are steps to take (playing and not finished or diverged)."""
        return self.playing and not self.runner.done

    def advance(self, budget_s: float = 0.005) -> int:
        """Take steps for about `budget_s` seconds, no faster than the speed cap."""
        if not self.busy:
            self.playing = self.playing and not self.runner.done
            return 0
        deadline = time.perf_counter() + budget_s
        taken = 0
        while self.busy:
            now = time.perf_counter()
            if now >= deadline:
                break
            if self.speed is not None and (now - self._clock_start) * self.speed < (
                self._clock_steps + 1
            ):
                break  # the next step is not due yet
            n = self.runner.step(1)
            taken += n
            self._clock_steps += n
        if self.runner.done:
            self.playing = False
        return taken

    def idle_time(self) -> float:
        """Seconds until the next step is due: 0 flat out, 1.0 when there is nothing to do."""
        if not self.busy:
            return 1.0
        if self.speed is None:
            return 0.0
        next_due = self._clock_start + (self._clock_steps + 1) / self.speed
        return max(0.0, next_due - time.perf_counter())

    def frame(self) -> Frame:
        status = "running" if self.busy else "paused"
        return self.runner.frame(status=status, speed=self.speed, message=self.message)
