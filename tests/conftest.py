"""Shared test helpers: build a run (a Runner, or the real app on an in-process link), a fake
clock for the engine's pacing, and snapshots of the UI stepped to a fixed step."""

from __future__ import annotations

import asyncio
import types

import pytest
import torch

from dltui.engine.runner import Runner
from dltui.protocol import RunSpec
from dltui.registry import load
from dltui.scenario.params import Params
from dltui.ui.app import DltuiApp
from dltui.ui.link import InlineLink

SNAPSHOT_SIZE = (120, 40)


def make_runner(
    target: str,
    *sets: str,
    steps: int | None = None,
    seed: int | None = None,
    advance: int = 0,
    at: tuple[str, ...] = (),
    checkpoint_mb: float = 256,
    **values,
) -> Runner:
    """A CPU run of `target` (a built-in name or path/to/file.py[:Class]).

    `sets` are `--set` assignments as the command line gives them ("compare=relu"), `values`
    typed param values (lr=0.5); `steps` is --steps (the run's limit, None for the scenario's
    own); `at` the --at script, `checkpoint_mb` time travel's budget; the run takes `advance`
    steps before it is returned."""
    cls = load(target)
    params = Params(cls.params, values)
    for assignment in sets:
        params.set_text(assignment)
    runner = Runner(
        cls, params, seed=seed, device="cpu", limit=steps, at=at, checkpoint_mb=checkpoint_mb
    )
    runner.step(advance)
    return runner


def records_of(runner: Runner) -> list[dict]:
    """Step the run to its end one step at a time; the record after every step."""
    records = []
    while not runner.done:
        runner.step(1)
        records.append(runner.record())
    return records


class FakeClock:
    """A `time.perf_counter` that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """The engine's pacing (Controller) and picture refresh (Runner) on a clock the test moves."""
    clock = FakeClock()
    fake_time = types.SimpleNamespace(perf_counter=clock)
    monkeypatch.setattr("dltui.engine.control.time", fake_time)
    monkeypatch.setattr("dltui.engine.runner.time", fake_time)
    return clock


def make_app(
    target: str,
    steps: int,
    sets: tuple[str, ...] = (),
    run_to_limit: bool = True,
    seed: int | None = None,
) -> DltuiApp:
    """The app on an in-process CPU engine; with run_to_limit it steps straight to `steps`."""
    spec = RunSpec(target, tuple(sets), seed=seed, device="cpu", steps=steps, paused=True)
    return DltuiApp(InlineLink(spec), run_to_limit=run_to_limit)


async def wait_for_step(pilot, step: int, timeout: float = 60.0) -> None:
    """Wait until the app shows a frame at `step` (or the run diverged before it)."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while app.frame is None or (app.frame.step < step and app.frame.status != "diverged"):
        if loop.time() > deadline:
            raise AssertionError(f"no frame at step {step} within {timeout}s")
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a module: the same float sums on any machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def snap_scenario(snap_compare):
    """snap_scenario(target, steps, *sets): snapshot of the real UI after `steps` steps."""

    def check(
        target: str,
        steps: int,
        *sets: str,
        press: tuple[str, ...] = (),
        size: tuple[int, int] = SNAPSHOT_SIZE,
    ) -> bool:
        app = make_app(target, steps, sets)

        async def run_before(pilot) -> None:
            await wait_for_step(pilot, steps)
            for key in press:
                await pilot.press(key)
            await pilot.pause()

        return snap_compare(app, terminal_size=size, run_before=run_before)

    return check
