"""Share what is on screen (S): the command line it writes opens the same screen, bit for bit,
after live lr changes, going back, branches, resets and a racer picked with tab."""

from __future__ import annotations

import math
import shlex

import numpy as np
import pytest
import torch

from dltui import protocol as p
from dltui.cli import build_parser, main, run_spec
from dltui.engine.control import build_controller
from dltui.ui.share import ShareScreen


def shared(ctl) -> list[str]:
    ctl.handle(p.Share())
    frame = ctl.frame()
    assert frame.shared is not None and ctl.frame().shared is None  # carried once
    return list(frame.shared)


def reopen(argv: list[str]):
    """What pasting the line does: parse it as the CLI does and build the run."""
    assert argv[:2] == ["dltui", "run"]
    return build_controller(run_spec(build_parser().parse_args(argv[1:])))


WALL_CLOCK = {"images_per_s", "throughput"}  # MNIST's clock: not a function of the run


def same(x, y, where: str = "") -> None:
    """Deep equality of what frames carry: arrays (nan equal to nan), dicts, lists, numbers."""
    if isinstance(x, dict):
        assert x.keys() == y.keys(), where
        for key in x:
            if key not in WALL_CLOCK:
                same(x[key], y[key], f"{where}.{key}")
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y), where
        for i, (a, b) in enumerate(zip(x, y)):
            same(a, b, f"{where}[{i}]")
    elif isinstance(x, np.ndarray):
        assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), where
    elif isinstance(x, float) and math.isnan(x):
        assert math.isnan(y), where
    else:
        assert x == y, where


def assert_same_screen(a, b) -> None:
    """Two runs show the same thing: numbers, curves, marks, pictures, ghosts, weights."""
    fa, fb = a.frame(), b.frame()
    for field in ("step", "head", "limit", "status", "lr", "metrics", "params", "events"):
        same(getattr(fa, field), getattr(fb, field), field)
    same(fa.panels, fb.panels, "panels")
    ga, gb = a.runner.ghosts, b.runner.ghosts
    same(
        [(g.label, g.step, g.mark, g.series) for g in ga],
        [(g.label, g.step, g.mark, g.series) for g in gb],
        "ghosts",
    )
    wa = [t for o in a.runner.optimizers for g in o.param_groups for t in g["params"]]
    wb = [t for o in b.runner.optimizers for g in o.param_groups for t in g["params"]]
    assert len(wa) == len(wb) and all(torch.equal(x, y) for x, y in zip(wa, wb))


def test_live_lr_changes_come_back_exactly(one_thread):
    ctl = build_controller(p.RunSpec("xor", paused=True))
    for command in (p.Step(300), p.ScaleParam("lr", 2), p.Step(200), p.ScaleParam("lr", 10)):
        ctl.handle(command)
    ctl.handle(p.Step(37))
    argv = shared(ctl)
    assert argv == [
        "dltui", "run", "xor", "--at", "300:lr=2", "--at", "500:lr=20",
        "--start", "537", "--paused",
    ]  # fmt: skip
    assert_same_screen(ctl, reopen(argv))


def test_a_branch_with_its_ghost_and_a_screen_behind_it_come_back(one_thread):
    ctl = build_controller(p.RunSpec("xor", paused=True, seed=7))
    ctl.handle(p.Step(600))
    ctl.handle(p.GoTo(400))
    ctl.handle(p.ScaleParam("lr", 4))  # branches: the run to 600 becomes a ghost
    ctl.handle(p.Step(300))
    ctl.handle(p.Back(150))  # behind the branch's head, which the timeline shows
    argv = shared(ctl)
    assert "--seed" in argv and argv[-3:] == ["--start", "550", "--paused"]
    again = reopen(argv)
    assert again.runner.ghosts and again.runner.head == 700 and again.runner.step_count == 550
    assert_same_screen(ctl, again)


def test_a_reset_and_the_race_with_a_racer_picked_come_back(one_thread):
    ctl = build_controller(p.RunSpec("optimizers", paused=True, sets=("landscape=ravine",)))
    ctl.handle(p.Step(40))
    ctl.handle(p.ScaleParam("lr", 0.5))
    ctl.handle(p.Step(20))
    ctl.handle(p.Reset())  # the run so far is a ghost; lr ×0.5 carries over
    ctl.handle(p.Step(25))
    ctl.handle(p.PressKey("tab"))  # a display param: the screen, not training
    ctl.handle(p.PressKey("tab"))
    argv = shared(ctl)
    assert "60:reset" in argv and f"selected={ctl.runner.params['selected']}" in argv
    assert_same_screen(ctl, reopen(argv))


def test_mnist_names_its_device_and_threads(one_thread):
    ctl = build_controller(p.RunSpec("mnist", sets=("dataset=digits",), paused=True))
    ctl.handle(p.Step(3))
    argv = shared(ctl)
    assert argv[argv.index("--device") + 1] == "cpu"
    assert argv[argv.index("--threads") + 1] == str(torch.get_num_threads())
    assert_same_screen(ctl, reopen(argv))


def test_start_fires_the_actions_up_to_it_and_a_later_rewind_only_when_asked():
    # A lecture scene: open at 1200, the rewind at 1500 still to come, live.
    first = build_controller(p.RunSpec("xor", start=1200, at=("1500:rewind=1000",), paused=True))
    assert first.runner.step_count == 1200 and first.runner.head == 1200
    # The screen after that rewind: a last goto puts the run there.
    after = build_controller(
        p.RunSpec("xor", start=1000, at=("1500:rewind=1000", "1000:goto=1000"), paused=True)
    )
    assert after.runner.step_count == 1000 and after.runner.head == 1500
    # An action at the start step has fired when the run opens.
    lr = build_controller(p.RunSpec("xor", start=300, at=("300:lr=4",), paused=True))
    assert lr.runner.params["lr"] == 4


@pytest.mark.parametrize(
    ("at", "error"),
    [
        ("5:reset=1", "reset takes no value: write 5:reset"),
        ("5:resets", "write STEP:NAME=VALUE"),
    ],
)
def test_a_bad_reset_action_is_one_line(capsys, at, error):
    assert main(["run", "xor", "--headless", "--steps", "9", "--at", at]) == 2
    err = capsys.readouterr().err
    assert error in err and err.count("\n") == 1


def test_a_headless_reset_starts_over_with_the_params_of_then(capsys):
    assert (
        main(["run", "xor", "--headless", "--steps", "50", "--at", "20:lr=2", "--at", "30:reset"])
        == 0
    )
    ours = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["run", "xor", "--headless", "--steps", "50", "--set", "lr=2"]) == 0
    fresh = capsys.readouterr().out.strip().splitlines()[-1]
    assert ours.replace(', "branch": 1', "") == fresh


async def test_s_shows_the_line_copies_it_and_prints_it_after_quitting(capsys, tmp_path):
    from dltui.ui.app import DltuiApp, _finish
    from dltui.ui.link import InlineLink

    app = DltuiApp(InlineLink(p.RunSpec("xor", paused=True)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("n", "n", "right_square_bracket", "n")
        await pilot.pause(0.1)
        await pilot.press("S")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ShareScreen)
        line = "dltui run xor --at 2:lr=2 --start 3 --paused"
        assert app.screen.line == line and app.clipboard == line
        assert app.screen.scene == (
            '[[scene]]\nscenario = "xor"\nstart = 3\npaused = true\nat = ["2:lr=2"]\n'
        )
        scene = app.screen.scene
        await pilot.press("escape")
        assert not isinstance(app.screen, ShareScreen)
    (tmp_path / "shared.toml").write_text(scene)  # a lecture file of that one scene
    assert main(["lecture", str(tmp_path / "shared.toml"), "--check"]) == 0
    assert _finish(app) == 0
    assert capsys.readouterr().out.splitlines()[-1] == line
    assert shlex.split(line)[0] == "dltui"


def test_the_readme_example_line_opens_where_it_says(one_thread):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Share what is on screen.**", 1)[1]
    line = section.split("```sh\n", 1)[1].split("\n", 1)[0]
    ctl = reopen(shlex.split(line))
    assert ctl.runner.step_count == 1500 and ctl.runner.head == 1500 and not ctl.playing
    assert ctl.runner.params["lr"] == 0.5 and ctl.runner.ghosts[-1].mark == "lr=0.5 from step 1,200"
    assert shared(ctl) == shlex.split(line)  # and sharing it again gives the same line
