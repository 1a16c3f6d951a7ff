"""Engine behaviour: loader, params, seeding, history bound, controller, process boundary."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import FakeClock, make_runner, records_of

from dltui.engine.control import Controller
from dltui.engine.history import Series
from dltui.engine.runner import VIEW_SHARE, Runner
from dltui.protocol import (
    Crash,
    Died,
    FrameMsg,
    Hello,
    Pause,
    Reset,
    RunInfo,
    RunSpec,
    ScaleParam,
    SetSpeed,
    Step,
    WantFrame,
)
from dltui.registry import builtins, load
from dltui.scenario import Param, Params, Scenario, UsageError
from dltui.ui.link import ProcessLink

# Settings that let every built-in run offline and quickly: MNIST on the 8×8 digits bundled
# with scikit-learn (no download), for 20 steps (an epoch and its test pass, a second of CPU).
SMOKE_SETS = {"mnist": ("dataset=digits",)}
SMOKE_STEPS = {"mnist": 20}


@pytest.mark.parametrize("name", sorted(builtins()))
def test_every_builtin_runs_with_finite_falling_loss(name):
    steps = SMOKE_STEPS.get(name, 60)
    runner = make_runner(name, *SMOKE_SETS.get(name, ()), steps=steps)
    records = records_of(runner)
    assert runner.step_count == steps and runner.diverged_at is None
    if "loss" in runner.cls.records:  # conv trains nothing: arithmetic, no loss
        losses = [record["loss"] for record in records]
        assert all(np.isfinite(losses))
        assert np.mean(losses[-10:]) < np.mean(losses[:10]), f"{name}: loss did not fall"
    frame = runner.frame()
    assert frame.panels, f"{name}: view() gave no panel data"


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b, c = (make_runner("xor", steps=200, seed=s) for s in (777, 777, 1))
    for r in (a, b, c):
        r.step(200)
    assert a.record() == b.record()
    assert a.record()["loss"] != c.record()["loss"]


def test_loader_by_name_alias_and_errors():
    assert load("xor").name == "xor"
    assert load("MLP").name == "xor"
    with pytest.raises(UsageError, match="Did you mean xor"):
        load("xr")


USER_HEADER = """
from __future__ import annotations
import torch
from dataclasses import dataclass
from dltui.scenario import Scenario
from dltui.scenario.params import Param

@dataclass
class Helper:  # dataclasses need the module in sys.modules: the loader puts it there
    x: int = 1
"""

USER_CLASS = """
class {name}(Scenario):
    name = "{lower}"
    steps = 30
    params = (Param("lr", 0.1, "learning rate", min=0, live=True),)
    records = {{"loss": "squared error", "w": "the weight"}}

    def setup(self):
        self.w = torch.zeros(1, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.w], lr=self.p.lr)

    def step(self):
        loss = ((self.w - 3) ** 2).sum()
        self.optimizer.zero_grad(); loss.backward(); self.optimizer.step()
        return {{"loss": loss.detach(), "w": self.w.detach()[0]}}
"""


def user_file(*names: str) -> str:
    return USER_HEADER + "".join(USER_CLASS.format(name=n, lower=n.lower()) for n in names)


def test_loader_by_path_picks_single_named_or_explains(tmp_path):
    one = tmp_path / "one.py"
    one.write_text(user_file("Mine"))
    assert load(str(one)).name == "mine"
    two = tmp_path / "two.py"
    two.write_text(user_file("A", "B"))
    with pytest.raises(UsageError, match=r"several scenarios \(A, B\).*two.py:ClassName"):
        load(str(two))
    assert load(f"{two}:B").name == "b"
    with pytest.raises(UsageError, match="no Scenario class 'C'; scenario classes: A, B"):
        load(f"{two}:C")
    with pytest.raises(UsageError, match="not found"):
        load(str(tmp_path / "missing.py"))
    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_xyz\n")
    with pytest.raises(UsageError, match="failed to import: ModuleNotFoundError"):
        load(str(broken))


def test_param_validation_messages():
    params = Params(load("xor").params)
    with pytest.raises(UsageError, match="unknown param 'hiden'. Did you mean 'hidden'"):
        params.set_text("hiden=3")
    with pytest.raises(UsageError, match="not a valid int"):
        params.set_text("hidden=two")
    with pytest.raises(UsageError, match=r"out of range \[0, 64\]"):
        params.set_text("hidden=100")
    with pytest.raises(UsageError, match="choose one of: sigmoid, tanh, relu"):
        params.set_text("activation=softmax")  # elu is one of them now
    with pytest.raises(UsageError, match="KEY=VALUE"):
        params.set_text("lr")
    params.set_text("lr=0.5")
    assert params.lr == 0.5


def test_history_stays_bounded_for_a_million_steps():
    series = Series(capacity=1024)
    for step in range(1, 1_000_001):
        series.append(step, 1.0 / step)
    steps, _ = series.snapshot()
    assert len(steps) <= 1024 and steps[-1] == 1_000_000
    assert np.all(np.diff(steps) > 0)  # still in order, old points thinned
    assert steps[-1] - steps[-200] == 199  # the recent past at full resolution
    assert series.steps.nbytes + series.values.nbytes == 2 * 8 * 1024


def test_controller_pause_step_reset_and_live_lr():
    ctl = Controller(make_runner("xor"), speed=None, playing=True)
    ctl.advance(0.05)
    assert ctl.runner.step_count > 0
    ctl.handle(Pause())
    before = ctl.runner.step_count
    ctl.advance(0.05)
    assert ctl.runner.step_count == before
    ctl.handle(Step(1))
    assert ctl.runner.step_count == before + 1
    ctl.handle(ScaleParam("lr", 0.5))
    assert ctl.runner.params.lr == 0.5
    assert ctl.runner.scenario.optimizer.param_groups[0]["lr"] == 0.5
    frame = ctl.frame()
    assert frame.events[-1] == (before + 1, "lr=0.5") and frame.lr == 0.5
    ctl.handle(Reset())
    assert ctl.runner.step_count == 0 and ctl.runner.params.lr == 0.5


def test_speed_cap_is_respected(fake_clock):
    """At 128 steps/s the controller takes one step per 1/128 s of its clock, however often it
    is asked; a new speed counts from when it was set. (Binary fractions keep the clock exact.)"""
    tick = 1 / 1024
    ctl = Controller(make_runner("xor"), speed=128, playing=True)
    taken = 0
    for _ in range(256):  # asked 256 times in 0.25 s
        fake_clock.advance(tick)
        taken += ctl.advance(0.01)
    assert ctl.runner.step_count == taken == 32
    assert ctl.idle_time() == 1 / 128  # the 33rd step is due 1/128 s after the 32nd
    ctl.handle(SetSpeed(64))
    for _ in range(256):
        fake_clock.advance(tick)
        ctl.advance(0.01)
    assert ctl.runner.step_count == 32 + 16
    ctl.handle(Pause())
    fake_clock.advance(1.0)
    assert ctl.advance(0.01) == 0 and ctl.idle_time() == 1.0


def test_divergence_stops_with_the_step_named():
    runner = make_runner("xor", lr=1e6)
    runner.step(100)
    assert runner.diverged_at == 2 and runner.step_count == 2
    assert runner.record()["diverged"] is True
    assert "diverged at step 2" in runner.frame().message


def test_engine_imports_no_ui_and_ui_imports_no_torch():
    engine_side = textwrap.dedent("""
        import sys
        from dltui.engine.runner import Runner
        from dltui.registry import load
        import dltui.engine.headless, dltui.engine.control, dltui.engine.child
        r = Runner(load("xor"), device="cpu", limit=5); r.step(5); r.frame()
        bad = [m for m in ("textual", "rich", "plotext") if m in sys.modules]
        assert not bad, bad
    """)
    ui_side = textwrap.dedent("""
        import sys
        import dltui.cli, dltui.ui.app, dltui.ui.link, dltui.protocol
        from dltui.registry import builtins, check_target
        assert "xor" in builtins()
        check_target("xor")
        assert "torch" not in sys.modules
    """)
    for code in (engine_side, ui_side):
        done = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


def wait_for(link: ProcessLink, kind: type, timeout: float = 60.0):
    """The next message of type `kind` from the child (others are skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = link.recv()
        if isinstance(message, kind):
            return message
        if message is None:
            time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} message within {timeout}s")


def test_process_link_steps_and_reports_a_dead_child():
    link = ProcessLink(RunSpec("xor", device="cpu", paused=True))
    try:
        info = wait_for(link, Hello).info
        assert isinstance(info, RunInfo) and info.name == "xor" and info.paused
        assert "boundary" in {panel.key for panel in info.panels}
        assert {param.name for param in info.params} >= {"lr", "hidden"}
        link.send(Step(7))
        link.send(WantFrame())
        frame = wait_for(link, FrameMsg).frame
        assert frame.step == 7 and frame.status == "paused"
        link.process.kill()
        assert isinstance(wait_for(link, Died), Died)
    finally:
        link.close()


def test_process_link_reports_a_crash_in_the_scenario(tmp_path):
    path = tmp_path / "crashy.py"
    path.write_text(
        user_file("Crashy").replace(
            "loss = ((self.w - 3) ** 2).sum()", "raise RuntimeError('boom in step')"
        )
    )
    link = ProcessLink(RunSpec(str(path), device="cpu", paused=True))
    try:
        wait_for(link, Hello)
        link.send(Step(1))
        assert "boom in step" in wait_for(link, Crash).text
    finally:
        link.close()


def test_user_scenario_class_is_a_scenario(tmp_path):
    """A user's file may hold other classes (a dataclass, a plain helper): the loader returns
    the user's Scenario subclass, from that file, and refuses a file with none."""
    path = tmp_path / "mine.py"
    path.write_text(user_file("Mine") + "\n\nclass NotAScenario:\n    name = 'impostor'\n")
    cls = load(str(path))
    assert isinstance(cls, type) and issubclass(cls, Scenario) and cls is not Scenario
    assert (cls.__name__, cls.name) == ("Mine", "mine")
    assert sys.modules[cls.__module__].__file__ == str(path)
    assert cls.__module__ not in {load(name).__module__ for name in ("xor", "gd")}
    runner = Runner(cls, device="cpu")
    runner.step(30)
    assert runner.record()["w"] == pytest.approx(3.0, abs=0.01)  # the user's own step() ran
    none = tmp_path / "none.py"
    none.write_text(USER_HEADER)  # a dataclass, no Scenario
    with pytest.raises(UsageError, match="defines no subclass of dltui.scenario.Scenario"):
        load(str(none))


def batched(runner: Runner) -> Runner:
    """Read metrics the CUDA way (kept on the device, 64 steps at a time), on the CPU."""
    runner.sync_every = 64
    return runner


def test_batched_metric_reads_give_the_same_records_and_divergence_step():
    """The CUDA path (metrics stay on the device, read 64 steps at a time), run on the CPU."""
    plain, fast = make_runner("xor", steps=300), batched(make_runner("xor", steps=300))
    plain.step(300)
    fast.step(300)
    assert fast.record() == plain.record()
    a, b = (
        s.snapshot(max_points=None)
        for s in (plain.history.series["loss"], fast.history.series["loss"])
    )
    assert np.array_equal(a[1], b[1])
    blown = batched(make_runner("xor", lr=1e6))
    blown.step(100)
    assert blown.diverged_at == 2 and blown.record()["diverged"] is True


class SlowView(Scenario):
    """view() takes 5 ms of the (fake) clock, like a CNN's feature maps on a CPU; step() is
    free."""

    name = "slowview"
    steps = 10**6
    params = (Param("probe", 0, "which picture", min=0, max=9, live=True),)
    clock: FakeClock

    def setup(self):
        self.views = 0

    def step(self):
        return {"loss": 1.0}

    def view(self):
        self.views += 1
        self.clock.advance(0.005)
        return {"pic": {"text": f"view {self.views} at probe {self.p.probe}"}}


def test_at_max_speed_pictures_refresh_within_their_time_share_and_fresh_otherwise(
    fake_clock, monkeypatch
):
    monkeypatch.setattr(SlowView, "clock", fake_clock, raising=False)
    runner = Runner(SlowView, device="cpu")
    sc = runner.scenario
    start = fake_clock()
    for _ in range(200):  # 200 frames asked for in 0.5 s, at max speed
        fake_clock.advance(0.0025)
        runner.step(1)
        runner.frame(status="running", speed=None)
    elapsed = fake_clock() - start
    # view() took at most VIEW_SHARE of the time (the one under way aside): a handful of
    # pictures, not 200; and more than the first, so the pictures do move.
    assert 2 <= sc.views and sc.views * 0.005 <= VIEW_SHARE * elapsed + 0.005 + 1e-9
    a, b = runner.frame(status="running"), runner.frame(status="running")
    assert a.view_id == b.view_id == sc.views  # the UI skips b
    assert a.panels["pic"] is b.panels["pic"]  # the same picture, not computed again
    before = sc.views
    runner.set_param("probe", 3)  # ←/→ on MNIST: the next frame shows the new probe
    assert runner.frame(status="running").panels["pic"]["text"].endswith("probe 3")
    runner.frame(status="paused")
    runner.frame(status="running", speed=30.0)  # a set speed leaves time to spare
    runner.step(1)
    runner.frame(status="done")
    assert sc.views == before + 4
