"""Engine behaviour: loader, params, seeding, history bound, controller, process boundary."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from dltui.ui.link import ProcessEngine
from dltui.engine.control import Controller
from dltui.engine.runner import Runner
from dltui.engine.history import Series
from dltui.scenario.params import Param, Params, UsageError
from dltui.registry import BUILTINS, load
from dltui.scenario import Scenario
from dltui.protocol import RunSpec

# Settings that let every built-in run offline and quickly.
SMOKE_SETS = {"mnist": {"dataset": "digits"}}


def make_runner(name: str, steps: int | None = None, seed: int | None = None, **values) -> Runner:
    cls = load(name)
    values = {**SMOKE_SETS.get(cls.name, {}), **values}
    return Runner(cls, Params(cls.params, values), seed=seed, device="cpu", limit=steps)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_runs_with_finite_falling_loss(name):
    runner = make_runner(name, steps=60)
    losses = []
    while not runner.done:
        runner.step(1)
        losses.append(runner.record()["loss"])
    assert runner.step_count == 60 and runner.diverged_at is None
    assert all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < np.mean(losses[:10]), f"{name}: loss did not fall"
    frame = runner.frame()
    assert frame.panels, f"{name}: view() gave no panel data"


def test_same_seed_same_numbers_other_seed_other_numbers():
    a, b, c = (make_runner("xor", 200, seed=s) for s in (777, 777, 1))
    for r in (a, b, c):
        r.step(200)
    assert a.record() == b.record()
    assert a.record()["loss"] != c.record()["loss"]


def test_loader_by_name_alias_and_errors():
    assert load("xor").name == "xor"
    assert load("MLP").name == "xor"
    with pytest.raises(UsageError, match="Did you mean xor"):
        load("xr")


USER_HEADER = '''
from __future__ import annotations
import torch
from dataclasses import dataclass
from dltui.scenario import Scenario
from dltui.scenario.params import Param

@dataclass
class Helper:  # dataclasses need the module in sys.modules: the loader puts it there
    x: int = 1
'''

USER_CLASS = '''
class {name}(Scenario):
    name = "{lower}"
    steps = 30
    params = (Param("lr", 0.1, "learning rate", min=0, live=True),)

    def setup(self):
        self.w = torch.zeros(1, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.w], lr=self.p.lr)

    def step(self):
        loss = ((self.w - 3) ** 2).sum()
        self.optimizer.zero_grad(); loss.backward(); self.optimizer.step()
        return {{"loss": loss.detach(), "w": self.w.detach()[0]}}
'''


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
        params.set_text("activation=elu")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        params.set_text("lr")
    params.set_text("lr=0.5")
    assert params.lr == 0.5


def test_history_stays_bounded_for_a_million_steps():
    series = Series(capacity=1024)
    for step in range(1, 1_000_001):
        series.append(step, 1.0 / step)
    steps, values = series.snapshot()
    assert len(steps) <= 1024 and steps[-1] == 1_000_000
    assert np.all(np.diff(steps) > 0)  # still in order, old points thinned
    assert steps[-1] - steps[-200] == 199  # the recent past at full resolution
    assert series.steps.nbytes + series.values.nbytes == 2 * 8 * 1024


def test_controller_pause_step_reset_and_live_lr():
    ctl = Controller(make_runner("xor"), speed=None, playing=True)
    ctl.advance(0.05)
    assert ctl.runner.step_count > 0
    ctl.handle(("pause",))
    before = ctl.runner.step_count
    ctl.advance(0.05)
    assert ctl.runner.step_count == before
    ctl.handle(("step", 1))
    assert ctl.runner.step_count == before + 1
    ctl.handle(("scale", "lr", 0.5))
    assert ctl.runner.params.lr == 0.5
    assert ctl.runner.scenario.optimizer.param_groups[0]["lr"] == 0.5
    assert ctl.frame().events[-1] == (before + 1, "lr=0.5")
    ctl.handle(("reset",))
    assert ctl.runner.step_count == 0 and ctl.runner.params.lr == 0.5


def test_speed_cap_is_respected():
    ctl = Controller(make_runner("xor"), speed=100, playing=True)
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        ctl.advance(0.01)
    assert 15 <= ctl.runner.step_count <= 40


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
        import dltui.headless, dltui.control, dltui.worker
        r = Runner(load("xor"), device="cpu", limit=5); r.step(5); r.frame()
        bad = [m for m in ("textual", "rich", "plotext") if m in sys.modules]
        assert not bad, bad
    """)
    ui_side = textwrap.dedent("""
        import sys
        import dltui.cli, dltui.ui.app, dltui.client
        assert "torch" not in sys.modules
    """)
    for code in (engine_side, ui_side):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def _wait(engine, kind: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = engine.recv(0.1)
        if message is not None and message[0] == kind:
            return message
    raise AssertionError(f"no {kind!r} message")


def test_process_engine_steps_and_reports_a_dead_child():
    engine = ProcessEngine(RunSpec("xor", device="cpu", paused=True))
    try:
        hello = _wait(engine, "hello")[1]
        assert hello["name"] == "xor" and hello["panels"]
        engine.send(("step", 7))
        engine.send(("frame",))
        frame = _wait(engine, "frame")[1]
        assert frame.step == 7 and frame.status == "paused"
        engine.process.kill()
        assert _wait(engine, "died")[0] == "died"
    finally:
        engine.close()


def test_process_engine_reports_a_crash_in_the_scenario(tmp_path):
    path = tmp_path / "crashy.py"
    path.write_text(user_file("Crashy").replace(
        "loss = ((self.w - 3) ** 2).sum()", "raise RuntimeError('boom in step')"))
    engine = ProcessEngine(RunSpec(str(path), paused=True))
    try:
        _wait(engine, "hello")
        engine.send(("step", 1))
        crash = _wait(engine, "crash")[1]
        assert "boom in step" in crash
    finally:
        engine.close()


def test_user_scenario_class_is_a_scenario():
    assert issubclass(load("xor"), Scenario)


def test_batched_metric_reads_give_the_same_records_and_divergence_step():
    """The CUDA path (metrics stay on the device, read 64 steps at a time), run on the CPU."""
    plain, batched = make_runner("xor", 300), make_runner("xor", 300)
    batched._batched, batched._sync_every = True, 64
    plain.step(300)
    batched.step(300)
    assert batched.record() == plain.record()
    a, b = (s.snapshot(max_points=None) for s in (plain.history.series["loss"],
                                                  batched.history.series["loss"]))
    assert np.array_equal(a[1], b[1])
    blown = make_runner("xor", lr=1e6)
    blown._batched, blown._sync_every = True, 64
    blown.step(100)
    assert blown.diverged_at == 2 and blown.record()["diverged"] is True


class SlowView(Scenario):
    """view() takes 5 ms, like a CNN's feature maps on a CPU; step() is free."""

    name = "slowview"
    steps = 10**6
    params = (Param("probe", 0, "which picture", min=0, max=9, live=True),)

    def setup(self):
        self.views = 0

    def step(self):
        return {"loss": 1.0}

    def view(self):
        self.views += 1
        time.sleep(0.005)
        return {"pic": {"text": f"view {self.views} at probe {self.p.probe}"}}


def test_at_max_speed_pictures_refresh_within_their_time_share_and_fresh_otherwise():
    runner = Runner(SlowView, device="cpu")
    sc = runner.scenario
    start = time.perf_counter()
    while time.perf_counter() - start < 0.5:  # 200 frames' worth of requests in 0.5 s
        runner.step(1)
        runner.frame(status="running", speed=None)
    # ≤ 5% of 0.5 s at 5 ms a view (plus the first): a handful, not hundreds.
    assert 1 <= sc.views <= 8
    a, b = runner.frame(status="running"), runner.frame(status="running")
    assert a.view_id == b.view_id == sc.views and a.panels is b.panels  # the UI skips b
    before = sc.views
    runner.set_param("probe", 3)  # ←/→ on MNIST: the next frame shows the new probe
    assert runner.frame(status="running").panels["pic"]["text"].endswith("probe 3")
    runner.frame(status="paused")
    runner.frame(status="running", speed=30.0)  # a set speed leaves time to spare
    runner.step(1)
    runner.frame(status="done")
    assert sc.views == before + 4
