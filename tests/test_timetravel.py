"""Time travel: back and forward again is the straight run bit for bit, a branch is a fresh run
that changed at that step, ghosts and the timeline show on screen, memory stays in its budget."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import make_app, make_runner, wait_for_step

from dltui import protocol as p
from dltui.cli import main
from dltui.engine.control import build_controller
from dltui.protocol import Frame, Ghost
from dltui.registry import builtins
from dltui.ui.goto import GoToScreen, parse_target
from dltui.ui.panel import PanelWidget
from dltui.ui.timeline import timeline_text

WALL_CLOCK = {"images_per_s"}  # the only record key that is not a function of the run


def weights(runner) -> list[torch.Tensor]:
    return [
        p.detach().clone() for o in runner.optimizers for g in o.param_groups for p in g["params"]
    ]


def optimizer_state(runner) -> list[torch.Tensor]:
    return [
        v.clone()
        for o in runner.optimizers
        for s in o.state.values()
        for v in s.values()
        if isinstance(v, torch.Tensor)
    ]


def run_records(runner, to: int) -> list[dict]:
    out = []
    while runner.step_count < to:
        runner.step(1)
        out.append({k: v for k, v in runner.record().items() if k not in WALL_CLOCK})
    return out


@pytest.mark.parametrize(
    ("target", "sets", "steps"),
    [("xor", (), 600), ("optimizers", (), 90), ("mnist", ("dataset=digits",), 40)],
)
def test_back_then_forward_is_the_straight_run_bit_for_bit(one_thread, target, sets, steps):
    straight = make_runner(target, *sets)
    expected = run_records(straight, steps)
    want_weights, want_state = weights(straight), optimizer_state(straight)

    runner = make_runner(target, *sets, advance=steps * 2 // 3)
    runner.back(1)
    runner.back(10)
    runner.goto(steps // 4)
    assert runner.step_count == steps // 4
    shown = {k: v for k, v in runner.record().items() if k not in WALL_CLOCK}
    assert shown == expected[steps // 4 - 1]  # the screen's numbers at that step
    again = run_records(runner, steps)
    assert again == expected[steps // 4 :]
    assert all(torch.equal(a, b) for a, b in zip(weights(runner), want_weights, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(optimizer_state(runner), want_state, strict=True))


def test_going_forward_through_the_branch_reuses_its_checkpoints_and_history():
    straight = make_runner("xor", advance=500)
    runner = make_runner("xor", advance=500)
    runner.goto(100)
    assert runner.history.series["loss"].snapshot()[0][-1] == 100  # the curve ends where we are
    runner.goto(450)
    assert runner.step_count == 450 and runner.head == 500
    runner.step(50)
    assert torch.equal(weights(runner)[0], weights(straight)[0])
    steps, values = runner.history.series["loss"].snapshot()
    assert list(steps) == list(range(1, 501))  # each step once: replay added nothing twice
    assert list(values) == list(straight.history.series["loss"].snapshot()[1])


def test_a_branch_equals_a_fresh_run_that_changed_lr_at_that_step():
    fresh = make_runner("xor", at=("300:lr=0.25",), advance=800)
    runner = make_runner("xor", advance=800)
    runner.goto(300)
    runner.set_param("lr", 0.25)  # a live change after going back: a new branch
    assert runner.branch == 1 and runner.head == 300
    runner.step(500)
    assert runner.record()["loss"] == fresh.record()["loss"]
    assert torch.equal(weights(runner)[0], weights(fresh)[0])
    ghost = runner.ghosts[-1]
    assert (ghost.label, ghost.step, ghost.mark) == ("lr=1", 300, "lr=0.25 from step 300")
    assert ghost.series["loss"][0][-1] == 800  # the run left behind, to where it had got
    assert runner.events == [(300, "lr=0.25")]


def test_live_changes_are_made_again_when_going_forward_over_them():
    straight = make_runner("xor", advance=200)
    straight.set_param("lr", 2.0)
    straight.step(200)
    runner = make_runner("xor", advance=200)
    runner.set_param("lr", 2.0)
    runner.step(200)
    runner.goto(150)
    assert runner.params["lr"] == 1.0 and runner.events == []  # as it was at step 150
    runner.step(250)
    assert runner.params["lr"] == 2.0 and runner.events == [(200, "lr=2")]
    assert runner.record() == straight.record()
    assert runner.branch == 0 and not runner.ghosts  # the same run: no branch


def test_reset_keeps_the_previous_run_as_a_ghost_and_at_least_three_are_kept():
    runner = make_runner("xor", advance=50)
    for lr in (1.0, 2.0, 4.0):
        runner.set_param("lr", lr)
        runner.reset()
        runner.step(20)
    assert len(runner.ghosts) == 3 and runner.branch == 3
    assert runner.ghosts[0].label == "previous run"
    assert runner.ghosts[-1].label == "previous run (lr=2)"
    assert all(g.step == 0 and g.mark == "" for g in runner.ghosts)


def test_going_back_before_a_divergence_recovers_it():
    runner = make_runner("xor", lr=1e6, advance=100)
    assert runner.diverged_at == 2  # step 1's update threw the weights out
    runner.goto(0)
    assert runner.diverged_at is None and not runner.done
    runner.set_param("lr", 0.5)
    runner.step(50)
    assert runner.diverged_at is None and runner.step_count == 50
    assert runner.ghosts[-1].mark == "lr=0.5 from step 0"


def test_checkpoints_stay_within_the_budget_over_a_long_run(one_thread):
    runner = make_runner("xor", checkpoint_mb=1)  # ~20 of xor's ~45 KB checkpoints
    for _ in range(40):  # a checkpoint after every 100 steps, whatever they cost here
        runner.step(100)
        runner._checkpoint()
    assert runner.travel.nbytes <= 2**20
    steps = runner.travel.steps()
    assert steps[0] == 0 and steps[-1] == 4000 and len(steps) >= 9  # step 0 and recent kept
    assert steps[-8] >= 3300  # the newest are never thinned
    runner.goto(7)  # far back: exact all the same
    straight = make_runner("xor", advance=7)
    assert runner.record() == straight.record()


UNCOPYABLE = """
import threading, torch
from dltui.scenario import Panel, Scenario, Param

class Locked(Scenario):
    name = "locked"
    steps = 50
    params = (Param("lr", 0.1, "learning rate", live=True),)
    records = {"loss": "squared error"}
    panels = (Panel("line", "Loss", key="loss"),)

    def setup(self):
        self.lock = threading.Lock()
        self.w = torch.zeros(1, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.w], lr=self.p.lr)

    def step(self):
        loss = ((self.w - 2) ** 2).sum()
        self.optimizer.zero_grad(); loss.backward(); self.optimizer.step()
        return {"loss": loss.detach()}

    def view(self):
        return {}
"""


def test_a_scenario_that_cannot_be_copied_says_which_attribute_and_still_goes_back(tmp_path):
    path = tmp_path / "locked.py"
    path.write_text(UNCOPYABLE)
    straight = make_runner(str(path), advance=12)
    runner = make_runner(str(path), advance=20)
    assert runner.uncopyable == "Locked.lock (a lock) cannot be copied"
    assert not runner.travel.items
    runner.set_param("lr", 0.05)
    runner.step(10)
    runner.goto(12)  # built anew and replayed from step 0, its live change made again
    assert runner.record() == straight.record()
    runner.step(18)
    assert runner.params["lr"] == 0.05 and runner.step_count == 30


def test_the_ui_says_why_going_back_replays_from_step_0(tmp_path):
    path = tmp_path / "locked.py"
    path.write_text(UNCOPYABLE)
    ctl = build_controller(p.RunSpec(str(path), device="cpu", paused=True))
    ctl.handle(p.Step(5))
    ctl.handle(p.Back(1))
    frame = ctl.frame()
    assert frame.step == 4
    assert frame.message == "going back replays from step 0: Locked.lock (a lock) cannot be copied"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--at", "500:lr=2", "--at", "100:lr=3"], "step 100 is already past then"),
        (["--at", "100:hidden=3"], "hidden cannot change during a run"),
        (["--at", "100:lrr=2"], "unknown param 'lrr'"),
        (["--at", "100lr=2"], "write STEP:NAME=VALUE"),
        (["--at", "100:rewind=200"], "rewind goes back, to a step ≤ 100"),
        (["--at", "99999:lr=2"], "the run stops at step 3000"),
    ],
)
def test_bad_timed_actions_are_one_line_and_exit_2(capsys, args, error):
    code = main(["run", "xor", "--headless", "--steps", "3000", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert error in err and err.count("\n") == 1 and "Traceback" not in err


def test_headless_script_rewinds_and_branches_and_records_say_which_branch(capsys, tmp_path):
    jsonl = tmp_path / "run.jsonl"
    script = ["--at", "1000:lr=2", "--at", "2000:rewind=1000", "--at", "2000:lr=0.25"]
    args = ["run", "xor", "--headless", "--steps", "3000", "--every", "500"]
    assert main([*args, "--jsonl", str(jsonl), *script]) == 0
    final = json.loads(capsys.readouterr().out.splitlines()[-1])
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["step"], r["branch"]) for r in records] == [
        (500, 0), (1000, 0), (1500, 0), (2000, 0), (1500, 1), (2000, 1), (2500, 1), (3000, 1),
    ]  # fmt: skip
    assert main(["run", "xor", "--headless", "--steps", "3000", "--at", "1000:lr=0.25"]) == 0
    fresh = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert final["loss"] == fresh["loss"] and final["branch"] == 1


def test_parse_target_takes_steps_shares_and_offsets():
    assert parse_target("1,200", 50, 10000) == 1200
    assert parse_target("50%", 50, 10001) == 5000
    assert parse_target("-100", 50, 10000) == 0
    assert parse_target("+100", 50, 10000) == 150
    with pytest.raises(ValueError, match="type 1200, 50% or -100"):
        parse_target("soon", 50, 10000)


def a_frame(step: int, head: int, limit: int = 1000) -> Frame:
    return Frame(step, limit, "paused", {}, {}, 0, {}, head=head)


def test_the_timeline_shows_where_you_are_and_where_branches_start():
    assert timeline_text(a_frame(500, 500), (), 120) is None  # nothing to say: no row taken
    back = timeline_text(a_frame(250, 500), (), 120).plain
    assert back.startswith(" step 250 (went back from 500) ") and "●" in back and "┄" in back
    ghost = Ghost("lr=1", 300, "lr=0.5 from step 300", {})
    line = timeline_text(a_frame(400, 400), (ghost,), 80)
    assert "┬ lr=0.5 from step 300 1 ghost · c hides" in line.plain and len(line.plain) <= 80
    narrow = timeline_text(a_frame(400, 900), (ghost,), 40).plain
    assert narrow.startswith(" step 400 (went back from 900)")


async def test_keys_go_back_jump_and_branch_with_a_ghost_on_the_loss_panel():
    app = make_app("xor", steps=10001, run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("N", "N", "N")
        await wait_for_step(pilot, 30)
        await pilot.press("b")
        await pilot.pause(0.2)
        assert app.frame.step == 29 and app.frame.head == 30
        await pilot.press("B")
        await pilot.pause(0.2)
        assert app.frame.step == 19
        assert app.query_one("#timeline").display
        await pilot.press("g")
        await pilot.pause(0.1)
        assert isinstance(app.screen, GoToScreen)
        await pilot.press("1", "0", "enter")
        await pilot.pause(0.2)
        assert app.frame.step == 10
        await pilot.press("right_square_bracket")  # lr ×2 here: a branch
        await pilot.pause(0.2)
        assert app.frame.branch == 1 and app.frame.head == 10
        loss = next(p for p in app.query(PanelWidget) if p.key == "loss")
        assert loss.ghosts and loss.ghosts[0]["mark"] == "lr=2 from step 10"
        assert "ghost: lr=1" in loss.render().plain
        await pilot.press("c")
        await pilot.pause(0.1)
        assert not loss.ghosts and "ghost" not in loss.render().plain
        await pilot.press("home")
        await pilot.pause(0.2)
        assert app.frame.step == 0


def test_snapshot_of_a_ghost_beside_the_branch(snap_compare):
    app = make_app("xor", steps=10001, run_to_limit=False)

    async def run_before(pilot) -> None:
        await wait_for_step(pilot, 0)
        app.command(p.Step(2500))
        await wait_for_step(pilot, 2500)
        await pilot.press("g", "8", "0", "0", "enter")
        await pilot.pause(0.2)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause(0.2)
        app.command(p.Step(1700))
        await wait_for_step(pilot, 2500)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_changes_made_at_the_branch_point_all_name_it():
    runner = make_runner("xor", advance=300)
    runner.goto(100)
    runner.set_param("lr", 0.5)
    runner.set_param("lr", 0.25)
    assert runner.branch == 1 and len(runner.ghosts) == 1  # one branch, not two
    assert runner.ghosts[-1].label == "lr=1"
    assert runner.ghosts[-1].mark == "lr=0.25 from step 100"
    assert runner.events == [(100, "lr=0.5"), (100, "lr=0.25")]


@pytest.mark.parametrize("name", sorted(builtins()))
def test_every_builtin_goes_back_exactly(name):
    sets = ("dataset=digits",) if name == "mnist" else ()
    straight = make_runner(name, *sets, steps=12, advance=6)
    expected = {k: v for k, v in straight.record().items() if k not in WALL_CLOCK}
    runner = make_runner(name, *sets, steps=12, advance=12)
    runner.goto(6)
    assert {k: v for k, v in runner.record().items() if k not in WALL_CLOCK} == expected


def test_start_opens_the_run_at_a_step_with_the_timed_actions_on_the_way(one_thread):
    spec = p.RunSpec("xor", start=400, at=("100:lr=4", "300:rewind=150", "300:lr=0.5"), paused=True)
    ctl = build_controller(spec)
    fresh = make_runner("xor", at=("100:lr=4", "150:lr=0.5"), advance=400)
    assert ctl.runner.step_count == 400 and not ctl.playing
    assert ctl.runner.record()["loss"] == fresh.record()["loss"]
    assert torch.equal(weights(ctl.runner)[0], weights(fresh)[0])
    assert ctl.runner.ghosts[-1].mark == "lr=0.5 from step 150"  # the branch's ghost is there


def test_a_screenshot_with_start_shows_that_step_and_the_run_still_has_its_length(tmp_path):
    svg = tmp_path / "s.svg"
    assert main(["run", "xor", "--start", "500", "--screenshot", str(svg)]) == 0
    assert "step&#160;500/10,001" in svg.read_text()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--start", "20000", "--screenshot", "x.svg"], "--start 20,000 is past the run's last"),
        (["--start", "5", "--headless"], "--start opens the UI at a step"),
        (["--start", "x", "--screenshot", "x.svg"], "expected a whole number (0 or more)"),
    ],
)
def test_bad_start_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, args, error):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "xor", *args]) == 2
    err = capsys.readouterr().err
    assert error in err and err.count("\n") == 1
