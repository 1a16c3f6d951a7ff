"""Over SSH: the terminal's byte budget (fake clock), the header's ⇣ link, --fps and
--bandwidth parsing, and a paused screen that sends (almost) nothing."""

from __future__ import annotations

import pytest
from conftest import make_app, wait_for_step
from test_screens import INFO, frame

from dltui.cli import build_parser
from dltui.scenario.params import UsageError
from dltui.ui.budget import SSH_FPS, ByteBudget, default_fps
from dltui.ui.header import header_text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_holds_frames_while_in_debt_and_lets_them_go_as_it_drains():
    clock = Clock()
    budget = ByteBudget(1000, burst=1.0, clock=clock)
    assert budget.allows()
    budget.spend(3000)  # a first full paint: 2 s of debt
    assert not budget.allows()
    clock.now = 1.9
    assert not budget.allows()
    clock.now = 2.01
    assert budget.allows()


def test_the_budget_saves_at_most_one_burst():
    clock = Clock()
    budget = ByteBudget(1000, burst=1.0, clock=clock)
    clock.now = 100.0  # a long quiet spell does not buy a long burst
    budget.spend(1500)
    assert not budget.allows()


def test_no_limit_always_allows():
    budget = ByteBudget(0, clock=Clock())
    budget.spend(10**9)
    assert budget.allows()


def test_the_header_says_when_the_link_holds_frames_back():
    assert "⇣ link" in header_text(INFO, frame(), 200, held=True).plain
    assert "⇣ link" not in header_text(INFO, frame(), 200).plain
    at_100 = header_text(INFO, frame(), 100, held=True).plain
    assert "⇣ link" in at_100 and "steps/s" not in at_100  # the rate gives way first
    narrow = header_text(INFO, frame(), 60, held=True)
    assert narrow.cell_len <= 60 and "loss 0.0123" in narrow.plain


def test_fps_and_bandwidth_parse_and_refuse_nonsense():
    args = build_parser().parse_args(["run", "xor", "--fps", "12", "--bandwidth", "32"])
    assert (args.fps, args.bandwidth) == (12.0, 32.0)
    args = build_parser().parse_args(["run", "xor"])
    assert (args.fps, args.bandwidth) == (None, 64)
    for bad in (["--fps", "0"], ["--fps", "x"], ["--fps", "nan"], ["--bandwidth", "-1"]):
        with pytest.raises(UsageError):
            build_parser().parse_args(["run", "xor", *bad])


def test_over_ssh_the_default_is_ten_frames_a_second():
    assert default_fps({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}) == SSH_FPS == 10
    assert default_fps({}) is None


async def test_a_paused_screen_with_nothing_changing_sends_nothing():
    app = make_app("xor", steps=10001, run_to_limit=False)
    updates = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.pause(0.5)
        display = app._display
        app._display = lambda screen, renderable: (
            updates.append(renderable) if renderable is not None else None,
            display(screen, renderable),
        )
        await pilot.pause(1.0)
        assert app.frame.status == "paused"
    assert len(updates) <= 1, updates
