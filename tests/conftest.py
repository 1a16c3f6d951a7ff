"""Shared test helpers: build the real app on an in-process engine stepped to a fixed step."""

from __future__ import annotations

import asyncio

import pytest

from dltui.ui.link import InlineEngine
from dltui.ui.app import DltuiApp
from dltui.protocol import RunSpec

SNAPSHOT_SIZE = (120, 40)


def make_app(target: str, steps: int, sets: tuple[str, ...] = (), run_to_limit: bool = True,
             seed: int | None = None) -> DltuiApp:
    """The app on an in-process CPU engine; with run_to_limit it steps straight to `steps`."""
    spec = RunSpec(target, tuple(sets), seed=seed, device="cpu", steps=steps, paused=True)
    return DltuiApp(InlineEngine(spec), run_to_limit=run_to_limit)


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


@pytest.fixture
def snap_scenario(snap_compare):
    """snap_scenario(target, steps, *sets): snapshot of the real UI after `steps` steps."""

    def check(target: str, steps: int, *sets: str, press: tuple[str, ...] = ()) -> bool:
        app = make_app(target, steps, sets)

        async def run_before(pilot) -> None:
            await wait_for_step(pilot, steps)
            for key in press:
                await pilot.press(key)
            await pilot.pause()

        return snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=run_before)

    return check
