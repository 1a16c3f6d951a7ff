"""Palettes per colour depth: the one chosen for a terminal, what 16 colours and NO_COLOR draw,
a negligible range drawn neutral, and the colour key each field and heatmap panel shows."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from conftest import make_app, wait_for_step
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.text import Text

from dltui.render.field2d import field_key, render_field2d
from dltui.render.heatmap import heatmap_key, render_heatmap
from dltui.render.palettes import ANSI, PALETTES, XTERM_256, palette_name
from dltui.ui.panel import PanelWidget

GRID = np.linspace(-0.5, 1.5, 21)
XX, YY = np.meshgrid(GRID, GRID)


def decision(z: np.ndarray) -> dict:
    """field2d data shaped like dltui.scenario.show.decision_field's, for XOR's four points."""
    return {
        "x": GRID,
        "y": GRID,
        "z": z,
        "points": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float),
        "labels": np.array([0, 1, 1, 0]),
        "boundary": 0.5,
        "diverging": True,
        "zlabel": "output",
        "xlabel": "x₁",
        "ylabel": "x₂",
    }


SOLVED = decision(1 / (1 + np.exp(-10 * (XX - YY))))  # class 1 lower right, class 0 upper left


def colours(text: Text) -> set[str]:
    """Every colour (fg and bg) the spans of `text` use, as hex."""
    out = set()
    for span in text.spans:
        for c in (span.style.color, span.style.bgcolor):
            if c is not None:
                out.add(c.get_truecolor().hex)
    return out


def sgr_codes(text: Text, system: str) -> set[str]:
    console = Console(file=io.StringIO(), color_system=system, force_terminal=True, width=200)
    console.print(text)
    return {
        p for m in re.findall(r"\x1b\[([0-9;]*)m", console.file.getvalue()) for p in m.split(";")
    }


def cell_bg(text: Text, row: int, col: int) -> str | None:
    """The background colour (hex) of the cell at (row, col), None when default."""
    offset = sum(len(line) + 1 for line in text.plain.split("\n")[:row]) + col
    bg = None
    for span in text.spans:
        if span.start <= offset < span.end and span.style.bgcolor is not None:
            bg = span.style.bgcolor.get_truecolor().hex
    return bg


@pytest.mark.parametrize(
    ("system", "no_color", "headless", "forced", "expected"),
    [
        ("truecolor", False, False, False, "truecolor"),
        ("256", False, False, False, "256"),
        ("standard", False, False, False, "16"),
        ("windows", False, False, False, "16"),
        (None, False, False, False, "mono"),
        ("truecolor", True, False, False, "mono"),
        ("standard", False, True, False, "truecolor"),  # screenshots: the same SVG anywhere
        ("standard", False, True, True, "16"),  # ... unless TEXTUAL_COLOR_SYSTEM says so
    ],
)
def test_the_palette_follows_the_terminal(system, no_color, headless, forced, expected):
    assert palette_name(system, no_color, headless, forced) == expected


def test_256_colours_are_exact_xterm_colours_of_one_hue_each_side():
    ramp = XTERM_256.diverging
    for i, c in enumerate(ramp):
        for shown in (c, XTERM_256.contrast(ramp, i)):
            n = Color.parse(shown).downgrade(ColorSystem.EIGHT_BIT).number
            assert Color.from_ansi(n).get_truecolor().hex == shown  # sent unchanged
    for c in XTERM_256.sequential:
        n = Color.parse(c).downgrade(ColorSystem.EIGHT_BIT).number
        assert Color.from_ansi(n).get_truecolor().hex == c
    rgb = [Color.parse(c).get_truecolor() for c in ramp]
    mid = len(ramp) // 2
    assert all(t.blue > t.red for t in rgb[:mid]) and all(t.red > t.blue for t in rgb[mid + 1 :])


def test_16_colour_field_uses_only_ansi_colours_and_solid_class_regions():
    text = render_field2d(SOLVED, 40, 16, colors="16")
    assert colours(text) <= set(ANSI.values())
    codes = sgr_codes(text, "standard") - {"", "0", "1"}
    assert codes and all(re.fullmatch(r"3[0-7]|9[0-7]|4[0-7]|10[0-7]", c) for c in codes), codes
    upper_left, lower_right = cell_bg(text, 1, 1), cell_bg(text, 13, 38)
    assert upper_left == ANSI["bright_blue"] and lower_right == ANSI["bright_red"]
    # no interpolated bands: the field takes at most its four levels and the boundary line
    field = {cell_bg(text, r, c) for r in range(13) for c in range(40)}
    assert field <= {*PALETTES["16"].diverging, ANSI["bright_white"]}


def test_no_color_separates_regions_by_shading_and_points_by_glyph():
    text = render_field2d(SOLVED, 40, 16, colors="mono")
    assert colours(text) == set()
    rows = text.plain.split("\n")
    assert rows[1][1] in "·░" and rows[13][38] in "▒▓" and rows[1][1] != rows[13][38]
    plain = text.plain
    assert plain.count("○") == 2 and plain.count("●") == 2
    data = {"matrices": [("W", np.linspace(-1, 1, 40).reshape(4, 10))]}  # drawn as blocks
    mono = render_heatmap(data, 20, 5, colors="mono")
    assert colours(mono) == set() and colours(render_heatmap(data, 20, 5))
    assert [line[0] for line in mono.plain.split("\n")[1:]] == list("·░▒▓")  # a row each


@pytest.mark.parametrize("colors", ["truecolor", "256", "16"])
def test_a_negligible_range_is_drawn_neutral(colors):
    # the single neuron on XOR: 0.5 ± 1e-7 everywhere, float noise, not red and blue corners
    flat = decision(0.5 + 1e-7 * (XX - YY))
    text = render_field2d(flat, 40, 16, colors=colors)
    field = {cell_bg(text, r, c) for r in range(13) for c in range(40)}
    assert field == {PALETTES[colors].neutral}
    assert "output=0.5±" in text.plain
    assert field_key(flat, colors).plain.startswith("grey=flat")
    assert " " in render_field2d(flat, 40, 16, colors="mono").plain.split("\n")[2]


def test_the_colour_key_says_what_colours_and_glyphs_mean():
    assert field_key(SOLVED).plain == "blue<0.5<red ●1 ○0"
    assert field_key(SOLVED, "16").plain == "blue<0.5<red ●1 ○0"
    assert field_key(SOLVED, "mono").plain == "·░<0.5<▒▓ ●1 ○0"
    landscape = {"x": GRID, "y": GRID, "z": XX**2 + YY**2, "log": True}
    assert field_key(landscape).plain == "purple<yellow"
    assert field_key(landscape, "16").plain == "blue<yellow"
    assert heatmap_key().plain == "blue<0<red"
    assert heatmap_key("mono").plain == "·░<0<▒▓"
    assert len(field_key(SOLVED).plain) <= 20  # fits the border of a field panel at 80×24


def test_ranges_are_whole_or_left_out():
    for width in (12, 24, 30, 40, 60):
        footer = render_field2d(SOLVED, width, 12).plain.split("\n")[-1]
        assert footer.count("[") == footer.count("]"), (width, footer)
    assert "output∈[" in render_field2d(SOLVED, 24, 12).plain  # z first when not all fit


async def test_panels_show_their_colour_key_in_the_border():
    app = make_app("xor", steps=20)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_step(pilot, 20)
        keys = {p.kind: p.border_subtitle for p in app.query(PanelWidget)}
        assert "0.5" in keys["field2d"] and "●" in keys["field2d"]
        assert "0" in keys["heatmap"]
        assert app.palette() == "truecolor"  # headless: the same screenshots on any TERM


def test_16_colour_heatmap_prints_zero_on_grey_and_signs_on_red_and_blue():
    text = render_heatmap({"matrices": [("W", np.array([[-1.5, 0.0, 1.5]]))]}, 40, 3, colors="16")
    assert colours(text) <= set(ANSI.values())
    line = text.plain.split("\n")[1]
    bgs = [cell_bg(text, 1, line.index(v) + 1) for v in ("-1.5", " 0 ", "+1.5")]
    assert bgs == [ANSI["bright_blue"], ANSI["bright_black"], ANSI["bright_red"]]


def test_no_color_tells_trajectories_apart_by_their_head_glyph():
    data = {
        "x": GRID,
        "y": GRID,
        "z": XX**2 + YY**2,
        "trajectories": [("sgd", [[1, 1], [0.5, 0.5]]), ("adam", [[-0.4, 1], [0, 0.2]])],
    }
    mono = render_field2d(data, 40, 16, colors="mono").plain
    assert "◆ sgd" in mono and "■ adam" in mono and mono.count("■") == 2
    assert "■" not in render_field2d(data, 40, 16).plain  # colours tell them apart there
