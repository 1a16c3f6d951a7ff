"""What a panel draws each frame, and what it skips: the fast path from a renderer's Text to
the terminal's segments (Rich's own `Text.render` is the oracle), and frames whose picture is
the one already on screen (a probe image, a curve that moves once an epoch)."""

from __future__ import annotations

import random

import numpy as np
from conftest import make_app, wait_for_step
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from dltui.render import render
from dltui.ui.panel import PanelWidget, same_data, segments

CONSOLE = Console(width=200, color_system="truecolor", force_terminal=True)
STYLES = ["bold", "red on blue", Style(color="#102030", bgcolor="#405060"), "dim", "italic"]


def rich(text: Text) -> list[Segment]:
    return list(Segment.simplify(text.render(CONSOLE)))


def fast(text: Text) -> list[Segment]:
    return list(Segment.simplify(segments(text, CONSOLE)))


def test_spans_side_by_side_give_rich_s_segments():
    rng = random.Random(0)
    for case in range(300):
        plain = "".join(rng.choice("▀▄█ ab·") for _ in range(rng.randint(0, 40)))
        spans, at = [], 0
        while at < len(plain) and rng.random() < 0.9:
            start = at + rng.randint(0, 3)  # gaps, and spans that touch
            stop = min(len(plain), start + rng.randint(0, 6))  # empty ones too
            if start > len(plain):
                break
            spans.append(Span(start, stop, rng.choice(STYLES)))
            at = max(at, stop)
        text = Text(plain, style=rng.choice(["", "on black", "bold"]), spans=spans)
        assert fast(text) == rich(text), (case, plain, spans)


def test_overlapping_spans_go_to_rich():
    text = Text("abcdef", spans=[Span(0, 4, "bold"), Span(2, 6, "red")])
    assert fast(text) == rich(text)
    assert any(s.style == Style(bold=True, color="red") for s in fast(text))


def test_every_renderer_s_rows_are_the_ones_rich_makes():
    rng = np.random.default_rng(1)
    pictures = {
        "images": {"images": [("a", rng.random((14, 14))), ("b", rng.random((7, 7)))]},
        "heatmap": {"matrix": rng.random((10, 10)), "labels": list("0123456789")},
        "line": {"series": [("loss", np.arange(50.0), rng.random(50))]},
        "bars": {"labels": list("abc"), "series": [("p", rng.random(3))]},
    }
    for colors in ("truecolor", "256", "16", "none"):
        for kind, data in pictures.items():
            text = render(kind, data, 40, 12, {"colors": colors})
            for row in text.split("\n", allow_blank=True):
                assert fast(row) == rich(row), (kind, colors)


def test_same_data_compares_arrays_by_value():
    a = {"images": [("#3: 7", np.ones((2, 2)))], "n": 3}
    assert same_data(a, {"images": [("#3: 7", np.ones((2, 2)))], "n": 3})
    assert not same_data(a, {"images": [("#3: 7", np.zeros((2, 2)))], "n": 3})
    assert not same_data(a, {"images": [("#3: 7", np.ones((2, 3)))], "n": 3})
    assert not same_data(a, {"images": [("#3: 7", np.ones((2, 2)))], "n": 4})
    assert not same_data({"x": np.ones(2)}, {"x": [1.0, 1.0]})
    assert not same_data({"x": np.ones(2)}, {"x": np.ones(2, dtype=np.float32)})
    assert not same_data((1, 2), [1, 2])


async def test_a_new_frame_with_the_same_picture_is_not_drawn_again(monkeypatch):
    """Each frame brings a new view() of MNIST; the probe image is the same in every one and
    is drawn once, while the feature maps, which change with every step, are drawn again."""
    made: list[str] = []
    make = PanelWidget._make_strips

    def counting(self):
        made.append(self.key)
        return make(self)

    monkeypatch.setattr(PanelWidget, "_make_strips", counting)
    app = make_app("mnist", steps=1000, sets=("dataset=digits",), run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("n")
        await wait_for_step(pilot, 1)
        await pilot.pause(0.2)
        made.clear()
        await pilot.press("n")
        await wait_for_step(pilot, 2)
        await pilot.pause(0.2)
    assert "conv1" in made and "loss" in made
    assert "probe" not in made


async def test_lines_that_say_the_same_are_not_laid_out_again(monkeypatch):
    """Each update of a Static lays out the whole screen again: the message line, which says
    nothing while training runs, took a few ms of every frame."""
    from textual.widgets import Static

    updates: list[tuple[str | None, bool]] = []
    update = Static.update

    def counting(self, content="", *, layout=True):
        updates.append((self.id, layout))
        return update(self, content, layout=layout)

    monkeypatch.setattr(Static, "update", counting)
    app = make_app("xor", steps=10**6, run_to_limit=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_step(pilot, 0)
        await pilot.press("space")
        await wait_for_step(pilot, 20)
        await pilot.pause(0.3)
        before, step = len(updates), app.frame.step
        await wait_for_step(pilot, step + 100)
        lines = updates[before:]
    assert ("header", False) in lines  # the header's step moved, in its one row
    assert ("header", True) not in lines
    assert ("message", True) not in lines  # nothing new to say: not laid out again
