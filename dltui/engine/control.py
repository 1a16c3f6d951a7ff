"""Play / pause / step / speed over a Runner, driven by Commands. No UI imports.

`start(spec)` builds a Controller from the command line's RunSpec and says hello (or why not);
`Controller` is the run loop shared by the engine's child process (`dltui.engine.child`) and
the in-process link used by snapshot tests: `handle()` applies one `dltui.protocol` command,
`advance()` spends a small time budget taking steps at the requested speed, `frame()` captures
what to show.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import torch

from dltui.engine.runner import Runner, device_label
from dltui.engine.share import command_line
from dltui.protocol import (
    Back,
    Command,
    Crash,
    Error,
    Faster,
    Frame,
    GoTo,
    Hello,
    Message,
    Pause,
    Play,
    PressKey,
    Reset,
    RunInfo,
    RunSpec,
    ScaleParam,
    SetParam,
    SetSpeed,
    Share,
    Slower,
    Step,
    Toggle,
)
from dltui.registry import load
from dltui.scenario.base import describe_failure
from dltui.scenario.params import Params, UsageError

SPEEDS: tuple[float | None, ...] = (
    1,
    2,
    5,
    10,
    20,
    50,
    100,
    200,
    500,
    1000,
    2000,
    5000,
    10000,
    None,
)


class Controller:
    def __init__(
        self,
        runner: Runner,
        speed: float | None = None,
        playing: bool = True,
        spec: RunSpec | None = None,
    ):
        """`spec`: what the run was started from (`Share` writes it back out)."""
        self.runner = runner
        self.spec = spec or RunSpec(runner.cls.name or runner.cls.__name__)
        self.shared: tuple[str, ...] | None = None
        """The command line `Share` made, until a frame has carried it."""
        self.speed = speed
        self.playing = playing
        self.message = ""
        self._clock_start = time.perf_counter()
        self._clock_steps = 0

    # -- commands -----------------------------------------------------------------------
    def handle(self, command: Command) -> None:
        """Apply one command; a bad value becomes the frame's message, never an exception."""
        self.message = ""
        try:
            match command:
                case Play():
                    self._set_playing(True)
                case Pause():
                    self._set_playing(False)
                case Toggle():
                    self._set_playing(not self.playing)
                case Step(n):
                    self._set_playing(False)
                    self.runner.step(n)
                    if self.runner.done:
                        self.runner.fire_script()  # an --at action at the last step goes on
                case SetSpeed(speed):
                    self._set_speed(speed)
                case Faster():
                    self._set_speed(self._next_speed(+1))
                case Slower():
                    self._set_speed(self._next_speed(-1))
                case Reset():
                    self.runner.reset()
                    self._restart_clock()
                case SetParam(name, value):
                    self.runner.set_param(name, value)
                case ScaleParam(name, factor):
                    value = self.runner.scale_param(name, factor)
                    self.message = f"{name} = {self.runner.params.declared(name).format(value)}"
                case PressKey(key):
                    self.message = self.runner.press(key)
                case Back(n):
                    self._set_playing(False)
                    self.runner.back(n)
                    self.message = self.runner.uncopyable and self.runner.travel_note
                case GoTo(step):
                    self._set_playing(False)
                    self.runner.goto(step)
                    self.message = self.runner.uncopyable and self.runner.travel_note
                case Share():
                    self.shared = tuple(command_line(self))
                case _:
                    self.message = f"the engine does not take {command!r}"
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
            self.runner.fire_script()  # an --at action at the last step (a rewind) goes on
            self.playing = self.playing and not self.runner.done
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
        frame = self.runner.frame(status=status, speed=self.speed, message=self.message)
        if self.shared is not None:
            frame, self.shared = replace(frame, shared=self.shared), None
        return frame


def build_runner(spec: RunSpec) -> Runner:
    """Load the scenario, parse `--set`s, resolve the device: UsageError on any mistake."""
    cls = load(spec.target)
    params = Params(cls.params)
    for assignment in spec.sets:
        params.set_text(assignment)
    if spec.threads is not None:
        torch.set_num_threads(spec.threads)
    return Runner(
        cls,
        params,
        seed=spec.seed,
        device=spec.device,
        limit=spec.steps,
        checkpoint_mb=spec.checkpoint_mb,
        at=spec.at,
    )


def scenario_threads(spec: RunSpec) -> RunSpec:
    """The spec with its scenario's `threads` where `--threads` left the count open."""
    if spec.threads is not None:
        return spec
    threads = load(spec.target).threads
    return spec if threads is None else replace(spec, threads=threads)


@contextmanager
def threads_of(spec: RunSpec) -> Iterator[RunSpec]:
    """`scenario_threads` for a run in this process (headless, a screenshot); torch's thread
    count is put back after it, so a caller's later runs are not changed by this one."""
    before = torch.get_num_threads()
    try:
        yield scenario_threads(spec)
    finally:
        torch.set_num_threads(before)


def build_controller(spec: RunSpec) -> Controller:
    runner = build_runner(spec)
    if spec.start > runner.limit:
        raise UsageError(
            f"--start {spec.start:,} is past the run's last step ({runner.limit:,}); "
            "raise --steps or start earlier"
        )
    open_at(runner, spec.start)
    speed = runner.cls.speed if spec.speed == "default" else spec.speed
    return Controller(runner, speed=speed, playing=not spec.paused, spec=spec)


def open_at(runner: Runner, start: int) -> None:
    """Take the run to step `start` (--start), firing the `--at` actions on the way: it opens
    the first time it stands at `start` once every action at a step up to `start` has fired,
    those at `start` itself included. (An action at an earlier step can lie past a rewind or a
    reset still to come: then the run goes on through it and comes back, as a shared screen
    that was taken after going back needs.)"""
    while True:
        here = runner.step_count
        runner.fire_script()  # the actions due here, in their order
        if runner.step_count != here:
            continue  # a rewind or a reset moved the run: what is due there fires next
        if here == start and not runner.script.pending_by(start) or runner.done:
            return
        # Up to `start` in one go (a rewind on the way goes on from where it lands); past it,
        # one step at a time, so that the action that brings the run back fires on its step.
        runner.step(start - here if here < start else 1)


def run_info(ctl: Controller) -> RunInfo:
    """What the UI needs to lay out the screen before the first frame."""
    runner, cls = ctl.runner, ctl.runner.cls
    return RunInfo(
        name=cls.name or cls.__name__,
        title=runner.scenario.title or cls.name,  # a scenario may word them per params
        caption=runner.scenario.caption,
        panels=tuple(runner.scenario.layout()),
        params=tuple(cls.params),
        values=runner.params.as_dict(),
        keys=dict(cls.keys),
        columns=runner.scenario.columns,  # setup() may change it for its params
        device=device_label(runner.device),
        limit=runner.limit,
        speed=ctl.speed,
        paused=not ctl.playing,
        seed=runner.seed,
        start=runner.step_count,
        threads=busy_threads(runner.device),
    )


def busy_threads(device: torch.device) -> int:
    """The CPU threads training on `device` keeps busy (`RunInfo.threads`)."""
    return torch.get_num_threads() if device.type == "cpu" else 1


def start(spec: RunSpec, own_process: bool = False) -> tuple[Controller | None, Message]:
    """Build the run; return it with its first message (Hello, or Error / Crash and None).
    `own_process`: the engine's child, where the scenario's `threads` may set torch's."""
    try:
        ctl = build_controller(scenario_threads(spec) if own_process else spec)
    except UsageError as exc:
        return None, Error(str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing setup() is the UI's Crash message
        return None, Crash(describe_failure(exc))
    return ctl, Hello(run_info(ctl))
