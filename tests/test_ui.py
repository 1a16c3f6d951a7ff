"""The UI driven by a pilot: keys do what the footer says, screens show the right panels."""

from __future__ import annotations

from conftest import make_app, wait_for_step
from rich.table import Table
from textual.widgets import Static

from dltui.ui.help import HelpScreen
from dltui.ui.panel import PanelWidget


async def test_pause_step_reset_and_lr_keys():
    app = make_app("xor", steps=10001, run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        assert app.frame.status == "paused"
        await pilot.press("n")
        await wait_for_step(pilot, 1)
        assert app.frame.step == 1
        await pilot.press("N")
        await wait_for_step(pilot, 11)
        assert app.frame.step == 11
        await pilot.press("right")
        await wait_for_step(pilot, 12)
        await pilot.pause(0.2)
        assert app.frame.step == 12  # paused: nothing moves by itself
        await pilot.press("left_square_bracket")
        await pilot.pause(0.2)
        assert app.frame.params["lr"] == 0.5
        assert app.frame.events[-1] == (12, "lr=0.5")
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause(0.2)
        assert app.frame.params["lr"] == 2.0
        await pilot.press("r")
        await pilot.pause(0.2)
        assert app.frame.step == 0


async def test_space_runs_and_pauses():
    app = make_app("xor", steps=10001, run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("space")
        await wait_for_step(pilot, 5)
        await pilot.press("space")
        await pilot.pause(0.2)
        stopped = app.frame.step
        assert app.frame.status == "paused"
        await pilot.pause(0.3)
        assert app.frame.step == stopped


async def test_panels_follow_the_scenario_declaration_and_help_lists_params():
    app = make_app("xor", steps=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 20)
        titles = [str(p.border_title) for p in app.query(PanelWidget)]
        assert titles[0].startswith("Decision boundary")
        assert {"Loss (BCE)", "Truth table", "The math of the next step"} <= set(titles)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_divergence_pauses_and_says_where():
    app = make_app("xor", steps=100, sets=("lr=1e6",), run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("space")
        await wait_for_step(pilot, 2)
        await pilot.pause(0.2)
        assert app.frame.status == "diverged"
        header = str(app.query_one("#header").render())
        assert "diverged at step 2" in header


def test_too_small_terminal_snapshot(snap_compare):
    app = make_app("xor", steps=5)
    assert snap_compare(app, terminal_size=(60, 16))


def test_help_screen_snapshot(snap_compare):
    app = make_app("xor", steps=5)

    async def open_help(pilot):
        await wait_for_step(pilot, 5)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_help)


def test_xor_snapshot(snap_scenario):
    assert snap_scenario("xor", 3000)


def test_single_layer_xor_snapshot(snap_scenario):
    assert snap_scenario("xor", 1500, "hidden=0")


def test_and_snapshot(snap_scenario):
    assert snap_scenario("and", 500)


KEYED = """
import torch
from dltui.scenario.params import Param
from dltui.scenario import Scenario

class Keyed(Scenario):
    name = "keyed"
    steps = 50
    params = (Param("pick", "a", "which", choices=("a", "b", "c"), live=True),
              Param("probe", 0, "probe index", min=0, max=3, live=True))
    keys = {"tab": ("pick", 1, "next pick"), "right": ("probe", 1, "next probe"),
            "t": ("count", 0, "count presses"), "x": ("nothing", 0, "a typo")}

    def setup(self):
        self.w = torch.zeros(1, requires_grad=True)
        self.presses = 0

    def action_count(self):
        self.presses += 1
        return f"pressed {self.presses} times"

    def step(self):
        return {"loss": torch.tensor(1.0)}
"""


async def test_scenario_keys_take_precedence(tmp_path):
    path = tmp_path / "keyed.py"
    path.write_text(KEYED)
    app = make_app(str(path), steps=50, run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("tab", "tab", "tab", "tab")
        await pilot.pause(0.2)
        assert app.frame.params["pick"] == "b"  # a→b→c→a→b
        await pilot.press("right", "right", "right", "right", "right")
        await pilot.pause(0.2)
        assert app.frame.params["probe"] == 3 and app.frame.step == 0  # clamped; no step
        await pilot.press("t", "t")
        await pilot.pause(0.2)
        assert app.frame.message == "pressed 2 times" and app.frame.step == 0  # an action
        await pilot.press("x")
        await pilot.pause(0.2)
        assert "'nothing', which is neither a param nor an action_nothing()" in app.frame.message
        await pilot.press("question_mark")  # help: → is this scenario's now, not "one step"
        await pilot.pause()
        tables = [w.content for w in app.screen.query(Static) if isinstance(w.content, Table)]
        keys = {cell.plain for cell in tables[0].columns[0].cells}
        assert {"n", "→", "t", "tab"} <= keys and "n  →" not in keys
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await wait_for_step(pilot, 1)


async def test_the_panels_follow_every_resize_at_once():
    from textual.containers import Grid
    from textual.widgets import Static

    from dltui.protocol import RunSpec
    from dltui.ui.app import DltuiApp
    from dltui.ui.link import InlineLink

    app = DltuiApp(InlineLink(RunSpec("xor", device="cpu", paused=True)))
    async with app.run_test(size=(120, 40)) as pilot:
        grid, notice = app.query_one("#grid", Grid), app.query_one("#too-small", Static)
        for size, small in (
            ((60, 20), True),
            ((200, 60), False),
            ((60, 20), True),
            ((120, 40), False),
        ):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
            assert notice.display is small and grid.display is not small, size
