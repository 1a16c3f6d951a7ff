"""The engine side of the UI's process boundary: a run spec, and the child process's loop.

`RunSpec` is what the command line asked for. `build_runner` turns it into a Runner (importing
torch and the scenario). `serve` is the child's loop: it answers the UI's commands within a few
milliseconds, trains in between at the requested speed, and sends a frame whenever the UI asks
for one. This module imports torch only inside functions, so the UI process can import it to
name the child's entry point without paying for torch.

Messages to the UI: ("hello", description) ("frame", Frame) ("error", one line) ("crash", text).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    target: str
    sets: tuple[str, ...] = ()
    seed: int | None = None
    device: str = "auto"
    steps: int | None = None
    speed: float | None | str = "default"
    """Steps per second, None for max, "default" for the scenario's own."""
    paused: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def build_runner(spec: RunSpec):
    """Load the scenario, parse `--set`s, resolve the device: UsageError on any mistake."""
    from dltui.engine import Runner
    from dltui.params import Params
    from dltui.registry import load

    cls = load(spec.target)
    params = Params(cls.params)
    for assignment in spec.sets:
        params.set_text(assignment)
    return Runner(cls, params, seed=spec.seed, device=spec.device, limit=spec.steps)


def describe(runner, speed: float | None, paused: bool) -> dict[str, Any]:
    """What the UI needs to lay out the screen before the first frame."""
    from dltui.engine import device_label

    info = runner.cls.describe()
    info.update(
        title=runner.scenario.title or info["title"],  # a scenario may word them per params
        caption=runner.scenario.caption,
        panels=[p.describe() for p in runner.scenario.layout()],
        columns=runner.cls.columns,
        device=device_label(runner.device),
        limit=runner.limit,
        speed=speed,
        paused=paused,
        seed=runner.seed,
        values={k: str(v) for k, v in runner.params.as_dict().items()},
    )
    return info


def make_controller(spec: RunSpec):
    from dltui.control import Controller

    runner = build_runner(spec)
    speed = runner.cls.speed if spec.speed == "default" else spec.speed
    return Controller(runner, speed=speed, playing=not spec.paused)


def main(conn, spec: RunSpec) -> None:
    """Entry point of the engine child process (spawned, so CUDA is safe)."""
    from dltui.params import UsageError

    try:
        ctl = make_controller(spec)
    except UsageError as exc:
        conn.send(("error", str(exc)))
        return
    except Exception:
        conn.send(("crash", traceback.format_exc()))
        return
    conn.send(("hello", describe(ctl.runner, ctl.speed, not ctl.playing)))
    try:
        serve(conn, ctl)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return  # the UI went away
    except Exception:
        conn.send(("crash", traceback.format_exc()))


def serve(conn, ctl) -> None:
    """Answer commands, train in between, send a frame when asked. Returns on ("quit",)."""
    want_frame = False
    while True:
        # Block when idle; otherwise only peek at the pipe between slices of training.
        wait = 0.0 if want_frame else min(ctl.idle_time(), 0.5)
        while conn.poll(wait):
            command = conn.recv()
            if command[0] == "quit":
                return
            if command[0] == "frame":
                want_frame = True
            else:
                ctl.handle(command)
            wait = 0.0
        ctl.advance(0.005)
        if want_frame:
            conn.send(("frame", ctl.frame()))
            want_frame = False
