"""What a lecturer reads off the screen at every size: the header's numbers, the footer's ? and
q, a panel zoomed to the whole screen, one log-y switch, compact layouts at 80×24 and 100×30."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import make_app, wait_for_step
from rich.text import Text

from dltui.protocol import Frame, RunInfo
from dltui.ui.header import header_text
from dltui.ui.panel import PanelWidget

SIZES = [(80, 24), (100, 30)]


def frame(**kw) -> Frame:
    base = {
        "step": 1234,
        "limit": 10001,
        "status": "running",
        "metrics": {"loss": 0.012345},
        "panels": {},
        "view_id": 1,
        "params": {"lr": 0.5},
        "lr": 0.5,
        "speed": None,
        "steps_per_s": 3456.0,
        "device": "cpu",
    }
    return Frame(**{**base, **kw})


INFO = RunInfo(
    name="xor",
    title="XOR: the 2-2-1 MLP of the backprop lab",
    caption="",
    panels=(),
    params=(),
    values={},
    keys={},
    columns=3,
    device="cpu",
    limit=10001,
    speed=None,
    paused=False,
    seed=777,
)


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_the_header_keeps_step_status_lr_and_loss_at_every_width(width):
    text: Text = header_text(INFO, frame(), width)
    plain = text.plain
    assert text.cell_len <= width
    for part in ("step 1,234/10,001", "running", "lr 0.5", "loss 0.0123"):
        assert part in plain, (width, plain)


def test_the_title_and_rate_give_way_first():
    wide = header_text(INFO, frame(), 200).plain
    assert "XOR: the 2-2-1 MLP" in wide and "3,456 steps/s" in wide and "speed max" in wide
    narrow = header_text(INFO, frame(), 60).plain
    assert "steps/s" not in narrow and "XOR: the" not in narrow


def test_a_diverged_run_says_where_in_the_header():
    plain = header_text(INFO, frame(status="diverged", diverged_at=7, lr=1e6), 80).plain
    assert "diverged at step 7" in plain and "lr 1e+06" in plain


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_shows_help_and_quit(size):
    app = make_app("xor", 3)
    async with app.run_test(size=size) as pilot:
        await wait_for_step(pilot, 3)
        footer = app.query_one("Footer")
        shown = [k.region for k in footer.query("FooterKey") if k.region.width]
        keys = {
            k.key for k in footer.query("FooterKey") if k.region.width and k.region.right <= size[0]
        }
        assert shown and {"question_mark", "q"} <= keys, keys


async def test_z_zooms_the_focused_panel_and_back():
    app = make_app("xor", 5)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_step(pilot, 5)
        await pilot.press("tab", "tab")  # focus moves panel to panel
        focused = app.focused
        assert isinstance(focused, PanelWidget) and focused is app._panels[1]
        await pilot.press("z")
        assert app.screen.maximized is focused
        assert focused.region.width == 100 and focused.region.height >= 26
        assert app.query_one("#header").region.height == 1  # the numbers stay in view
        await pilot.press("z")
        assert app.screen.maximized is None and focused.region.width < 100


async def test_l_is_one_switch_and_leaves_accuracy_linear():
    app = make_app("mnist", 2, ("dataset=digits",))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 2)
        loss, acc = (next(w for w in app._panels if w.key == k) for k in ("loss", "test_accuracy"))
        assert loss.options["logy"] is True  # as the scenario declares it
        await pilot.press("l")
        assert loss.options["logy"] is False and not acc.options.get("logy")
        await pilot.press("l")
        assert loss.options["logy"] is True and not acc.options.get("logy")  # never accuracy


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "target,steps,sets",
    [
        ("xor", 200, ()),
        ("optimizers", 40, ()),
        ("mnist", 12, ("dataset=digits",)),
        ("linreg", 90, ("batch=3,2,1", "lr=0.06")),
    ],
)
def test_small_screen_snapshots(snap_scenario, monkeypatch, target, steps, sets, size):
    import itertools

    from dltui.registry import load

    ticks = itertools.count()  # images/s from a fake clock: the same picture every run
    monkeypatch.setattr(load("mnist"), "clock", staticmethod(lambda: next(ticks) * 0.01))
    assert snap_scenario(target, steps, *sets, size=size)


def test_only_changes_to_training_are_marked_on_the_curves():
    from conftest import make_runner

    runner = make_runner("optimizers", advance=3)
    runner.press("tab")  # which racer the math panel shows: not a change to training
    assert runner.events == []
    runner.set_param("lr", 0.5)
    runner.set_param("noise", 0.1)
    assert runner.events == [(3, "lr=0.5"), (3, "noise=0.1")]


def test_changes_at_one_step_share_a_label_and_none_runs_off_the_edge():
    import numpy as np

    from dltui.render.line import render_line

    x = np.arange(1, 101)
    data = {
        "series": {"loss": (x, 1 / x)},
        "events": [(50, "lr=0.5"), (50, "noise=1"), (99, "lr=2")],
    }
    plain = render_line(data, 60, 14).plain
    assert "lr=0.5, noise=1" in plain and "lr=2" in plain


async def test_a_diverged_run_says_which_keys_bring_it_back():
    app = make_app("xor", steps=10001, sets=("lr=1e6",), run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("space")
        await until(pilot, lambda: app.frame.status == "diverged")
        message = str(app.query_one("#message").render())
        assert "{ divides it by 10" in message and "r starts over" in message
        for _ in range(6):
            await pilot.press("left_curly_bracket")
        await until(pilot, lambda: app.frame.lr == pytest.approx(1.0))
        await pilot.press("r", "space")
        await until(pilot, lambda: app.frame.step > 5)
        assert app.frame.status != "diverged"


async def until(pilot, condition, timeout: float = 30.0) -> None:
    """Wait (polling the app) until condition() holds; fail after `timeout` seconds."""
    for _ in range(int(timeout / 0.05)):
        if pilot.app.frame is not None and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen never got there")


def test_a_legend_names_every_series_even_in_a_narrow_panel():
    import numpy as np

    from dltui.render.line import render_line

    x = np.arange(1, 101)
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    data = {"series": {f"{n}/loss": (x, (i + 1) / x) for i, n in enumerate(names)}}
    plain = render_line(data, 36, 10, logy=True).plain
    assert all(f"■ {n} " in plain + " " for n in names), plain


@pytest.mark.parametrize("width", [30, 40, 60])
def test_gd_says_w_left_the_plot_at_any_width(width):
    from dltui.render.curve1d import render_curve1d

    ws = np.linspace(-1, 3, 161)
    data = {
        "x": ws,
        "y": (ws - 1) ** 2 * 4.67,
        "w": 14.3,
        "cost": 800.0,
        "slope": 120.0,
        "trail": np.zeros((0, 2)),
        "xlabel": "W",
        "ylabel": "cost(W)",
    }
    assert "W → 14.3 off the plot" in render_curve1d(data, width, 14).plain


def test_a_log_plot_says_the_loss_reached_zero():
    from dltui.render.line import render_line

    x = np.arange(1, 51)
    data = {"series": {"loss": (x, np.maximum(1 / x - 0.05, 0))}}
    assert "loss reached 0 at step 20" in render_line(data, 60, 12, logy=True, ema=0).plain


def test_gd_says_a_new_lr_has_nothing_to_scale_once_w_has_converged():
    from conftest import make_runner

    runner = make_runner("gd", advance=100)
    assert "nothing to scale" in runner.scenario.math() and "press r" in runner.scenario.math()
    assert "nothing to scale" not in make_runner("gd", advance=2).scenario.math()


def test_the_race_header_says_its_lr_is_a_scale():
    from dltui.scenario import Param

    info = replace(INFO, params=(Param("lr", 1.0, "scale", live=True, label="lr ×"),))
    plain = header_text(info, frame(lr=None, params={"lr": 2.0}), 120).plain
    assert "lr ×2" in plain
