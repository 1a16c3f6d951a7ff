"""Renderer details the optimizer race needs (issue 12, item 16), tested without an app:
trails as connected braille lines, the selected trajectory and table row, a marker with its
own glyph, fields finer than the pixels averaged instead of aliased."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console
from rich.text import Text

from dltui.render.colors import SERIES
from dltui.render.field2d import render_field2d
from dltui.render.table import render_table

CONSOLE = Console(file=io.StringIO(), width=200)
GRID = np.linspace(-2, 2, 30)
XX, YY = np.meshgrid(GRID, GRID)


def cells(text: Text) -> list[list[tuple[str, object]]]:
    """(character, style) of every cell, row by row."""
    return [
        [(ch, row.get_style_at_offset(CONSOLE, i)) for i, ch in enumerate(row.plain)]
        for row in text.split("\n", allow_blank=True)
    ]


def is_braille(ch: str) -> bool:
    return "\u2801" <= ch <= "\u28ff"


def test_a_trail_between_two_far_points_is_one_connected_line():
    """Two points a whole panel apart: every cell between them carries the line, with dots
    on both sides of the cell, so it reads as a line and not as a row of dots."""
    path = np.array([[-1.9, 0.05], [1.9, 0.05]])
    text = render_field2d(
        {"x": GRID, "y": GRID, "z": XX + YY, "trajectories": [("sgd", path)]}, 60, 22
    )
    row = next(r for r in cells(text) if sum(is_braille(ch) for ch, _ in r) > 10)
    cols = [c for c, (ch, _) in enumerate(row) if is_braille(ch) or ch == "◆"]
    assert cols == list(range(cols[0], cols[-1] + 1)) and len(cols) >= 55
    left, right = 0x01 | 0x02 | 0x04 | 0x40, 0x08 | 0x10 | 0x20 | 0x80  # braille dot columns
    for ch, style in row[cols[0] + 1 : cols[-1]]:
        bits = ord(ch) - 0x2800
        assert bits & left and bits & right, repr(ch)
        assert style.color.triplet.hex == SERIES[0]


def test_the_selected_trajectory_is_drawn_on_top_and_named_in_its_colour():
    path = np.array([[-1.5, -1.5], [1.5, 1.5]])
    data = {"x": GRID, "y": GRID, "z": XX + YY, "trajectories": [("a", path), ("b", path)]}
    for selected, color in (("a", SERIES[0]), ("b", SERIES[1])):
        text = render_field2d({**data, "selected": selected}, 60, 20)
        trail = [s for r in cells(text)[:17] for ch, s in r if is_braille(ch)]
        assert trail and all(s.color.triplet.hex == color for s in trail)
        legend = cells(text)[-2]
        name = next(s for ch, s in legend if ch == selected)
        assert name.bgcolor.triplet.hex == color  # the legend says which one it is


def test_a_marker_may_bring_its_own_glyph():
    markers = [("min", 0.0, 0.0), ("start", -1.5, 1.5, "○")]
    text = render_field2d({"x": GRID, "y": GRID, "z": XX + YY, "markers": markers}, 60, 20)
    assert "★" in text.plain and "○" in text.plain
    assert "★ min  ○ start" in text.plain.split("\n")[-2]


def test_a_legend_too_long_for_one_line_takes_two_and_loses_no_entry():
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    paths = [(n, np.array([[0.1 * i, 0.0]])) for i, n in enumerate(names)]
    data = {"x": GRID, "y": GRID, "z": XX + YY, "trajectories": paths}
    text = render_field2d({**data, "markers": [("min (1,1)", 1, 1), ("start", 0, 0, "○")]}, 58, 21)
    legend = " ".join(text.plain.split("\n")[-3:-1])
    for name in (*names, "min (1,1)", "start"):
        assert name in legend


def test_stripes_finer_than_the_pixels_average_out_instead_of_aliasing():
    """z = cos(2π·100x) over 2000 grid points in a 40-column panel: 2.5 periods per column.
    Sampling each pixel's centre beats against the stripes into bands of false colour; the
    mean over each pixel is the same grey everywhere."""
    x = np.linspace(0, 1, 2000)
    y = np.linspace(0, 1, 5)
    z = np.cos(2 * np.pi * 100 * x)[None, :].repeat(5, axis=0)
    z[0, 0], z[0, 1] = -1.0, 1.0  # the colour scale still spans [-1, 1]
    text = render_field2d({"x": x, "y": y, "z": z, "levels": 0}, 40, 4)
    colors = {s.color.triplet.hex for ch, s in cells(text)[1][1:-1] if ch == "▀"}
    assert len(colors) <= 2, colors


def test_the_selected_row_is_in_reverse_video_and_stays_in_view():
    rows = [[f"opt{i}", 0.1 * i] for i in range(12)]
    text = render_table({"columns": ["optimizer", "lr"], "rows": rows, "selected": 9}, 40, 6)
    lines = text.split("\n")
    chosen = [ln for ln in lines if ln.plain.startswith("opt9")]
    assert chosen and chosen[0].get_style_at_offset(CONSOLE, 0).reverse
    others = [ln for ln in lines if ln.plain.startswith("opt") and not ln.plain.startswith("opt9")]
    assert others and not any(ln.get_style_at_offset(CONSOLE, 0).reverse for ln in others)
