"""Frames while training runs: the UI keeps to its CPU budget.

On a 2-core machine a UI drawing every frame it can took a third of training's speed (xor 0.68×
headless, linreg 0.67×; benchmarks/bench_ui_speed.py). These pin the rule that keeps it near 1×:
a frame that cost the UI much CPU delays the next request, within a floor of MIN_FPS."""

from __future__ import annotations

import types

import dltui.ui.app as app_module
from dltui.protocol import Frame, RunSpec
from dltui.ui.app import DltuiApp
from dltui.ui.link import InlineLink


class Clocks:
    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def perf_counter(self) -> float:
        return self.wall

    def process_time(self) -> float:
        return self.cpu


def running_app(monkeypatch, cpus: int) -> tuple[DltuiApp, Clocks]:
    clocks = Clocks()
    monkeypatch.setattr(
        app_module,
        "time",
        types.SimpleNamespace(
            perf_counter=clocks.perf_counter, process_time=clocks.process_time, time=lambda: 0.0
        ),
    )
    monkeypatch.setattr(app_module, "CPUS", cpus)
    app = DltuiApp(InlineLink(RunSpec("gd", device="cpu", paused=True)))
    app.frame = Frame(10, 100, "running", {}, {}, 0, {})
    app._dirty = False
    return app, clocks


def test_an_expensive_frame_delays_the_next_request_to_keep_the_budget(monkeypatch):
    app, clocks = running_app(monkeypatch, cpus=4)  # budget: 0.1 × 4 = 0.4 of a core
    clocks.cpu = 0.04  # drawing the last frame took 40 ms of CPU
    clocks.wall = 0.09
    assert not app._wants_frame()  # 40 ms / 0.4 = 100 ms must pass first
    clocks.wall = 0.101
    assert app._wants_frame()


def test_the_picture_keeps_moving_however_costly_a_frame_is(monkeypatch):
    app, clocks = running_app(monkeypatch, cpus=2)
    clocks.cpu = 1.0  # a frame that took a second to draw would allow one every 5 s
    clocks.wall = 1 / app_module.MIN_FPS - 0.01
    assert not app._wants_frame()
    clocks.wall = 1 / app_module.MIN_FPS
    assert app._wants_frame()


def test_a_key_press_is_answered_at_once_whatever_the_budget(monkeypatch):
    app, clocks = running_app(monkeypatch, cpus=2)
    clocks.cpu = 1.0
    app._dirty = True
    assert app._wants_frame()


def test_a_paused_run_asks_for_no_frames(monkeypatch):
    app, clocks = running_app(monkeypatch, cpus=2)
    app.frame = Frame(10, 100, "paused", {}, {}, 0, {})
    clocks.wall = 100.0
    assert not app._wants_frame()


def test_a_run_that_keeps_up_with_its_speed_cap_shows_more_frames(monkeypatch):
    """At a scenario's default speed training has CPU to spare: the screen may change ≥ 10
    times a second (issue 17) while a run at max speed keeps to the budget (issue 11)."""
    app, clocks = running_app(monkeypatch, cpus=2)
    clocks.cpu = 1.0
    clocks.wall = 1 / app_module.PACED_FPS
    app.frame = Frame(10, 100, "running", {}, {}, 0, {}, speed=500.0, steps_per_s=498.0)
    assert app._wants_frame()
    app.frame = Frame(10, 100, "running", {}, {}, 0, {}, speed=500.0, steps_per_s=300.0)
    assert not app._wants_frame()  # falling behind its cap: short of CPU, the budget holds
    app.frame = Frame(10, 100, "running", {}, {}, 0, {}, speed=None, steps_per_s=3000.0)
    assert not app._wants_frame()  # max speed: the budget holds


def test_training_on_every_core_leaves_the_ui_a_share_of_one_core(monkeypatch):
    """The CNN on a CPU runs torch's threads on every core: there each CPU second the UI takes
    stalls one of them, and the others wait for it, so the budget is 6 % of one core and the
    floor 1.5 frames a second (mnist on 2 cores: 0.85× of headless at 10 %, 0.92× at 6 %)."""
    app, clocks = running_app(monkeypatch, cpus=2)
    clocks.cpu = 0.03  # 30 ms to draw the last frame
    app.info = types.SimpleNamespace(threads=1)  # a core of its own: 0.2 of a core
    clocks.wall = 0.15
    assert app._wants_frame()
    app.info = types.SimpleNamespace(threads=2)  # every core: 0.06 of one
    assert not app._wants_frame()
    clocks.wall = 0.49
    assert not app._wants_frame()
    clocks.wall = 0.5
    assert app._wants_frame()
    clocks.cpu = 1.0  # however costly, the picture moves
    clocks.wall = 1 / app_module.ALL_CORES_MIN_FPS - 0.01
    assert not app._wants_frame()
    clocks.wall = 1 / app_module.ALL_CORES_MIN_FPS
    assert app._wants_frame()


def test_the_engine_says_how_many_threads_training_keeps_busy():
    import torch

    from dltui.engine.control import build_controller, run_info

    before = torch.get_num_threads()
    try:
        one = run_info(build_controller(RunSpec("xor", device="cpu", threads=1)))
        two = run_info(build_controller(RunSpec("xor", device="cpu", threads=2)))
    finally:
        torch.set_num_threads(before)  # the rest of the suite's runs keep theirs
    assert (one.threads, two.threads) == (1, 2)


def test_cheap_frames_come_at_most_max_fps_a_second_at_max_speed(monkeypatch):
    """conv and autograd draw a frame in 4 ms: at the pump's 30 Hz they took training to 0.86×
    of headless on 2 cores; no eye needs more than 15 a second."""
    app, clocks = running_app(monkeypatch, cpus=2)
    clocks.cpu = 0.001
    clocks.wall = 1 / app_module.MAX_FPS - 0.001
    assert not app._wants_frame()
    clocks.wall = 1 / app_module.MAX_FPS
    assert app._wants_frame()
    paced = Frame(10, 100, "running", {}, {}, 0, {}, speed=500.0, steps_per_s=500.0)
    app.frame = paced  # at its speed cap training has CPU to spare: as often as the pump runs
    clocks.wall = 1 / 30
    assert app._wants_frame()
