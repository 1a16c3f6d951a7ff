"""Unit tests of the pure renderers in dltui.render: no app, no terminal, no torch.

Every renderer must return exactly `height` lines of at most `width` cells for any size, never
raise on empty or non-finite data, and show what a user needs to see (numbers, glyphs, lines).
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text

from dltui.render import RENDERERS, render
from dltui.render.bars import render_bars
from dltui.render.colors import BOUNDARY, CLASS_COLORS, SERIES
from dltui.render.curve1d import render_curve1d
from dltui.render.field2d import render_field2d
from dltui.render.heatmap import render_heatmap
from dltui.render.images import render_images
from dltui.render.line import render_line
from dltui.render.table import render_table
from dltui.render.text import render_text
from dltui.scenario.panels import KINDS

CONSOLE = Console(file=io.StringIO(), width=200)
RNG = np.random.default_rng(0)
GRID = np.linspace(-2, 2, 30)


def sample(kind: str) -> dict:
    """Realistic data for each panel kind."""
    steps = np.arange(1, 501)
    xx, yy = np.meshgrid(GRID, GRID)
    return {
        "line": {
            "series": {
                "loss": (steps, np.exp(-steps / 100) + 0.1 * RNG.random(500)),
                "val": (steps[::10], np.exp(-steps[::10] / 120)),
            },
            "events": [(200, "lr=0.05")],
        },
        "field2d": {
            "x": GRID,
            "y": GRID,
            "z": xx**2 + yy**2,
            "points": RNG.uniform(-2, 2, (9, 2)),
            "labels": np.arange(9) % 2,
            "trajectories": [("sgd", np.array([[1.5, 1.5], [0.5, 0.8], [0.1, 0.1]]))],
            "markers": [("min", 0.0, 0.0)],
            "boundary": 1.0,
        },
        "heatmap": {
            "matrices": [("W", RNG.normal(size=(3, 2))), ("b", RNG.normal(size=(1, 2)))],
            "row_labels": ["a", "b", "c"],
            "col_labels": ["h1", "h2"],
        },
        "table": {"columns": ["x", "p"], "rows": [[0, 0.25], [1, 0.75]], "highlight": [1]},
        "text": {"text": "# Step 3\nw ← w − η·g = [0.5] − 0.1·[1.2]\n"},
        "curve1d": {
            "x": GRID,
            "y": GRID**2,
            "w": 1.0,
            "cost": 1.0,
            "slope": 2.0,
            "trail": np.array([[-1.5, 2.25], [1.2, 1.44]]),
        },
        "bars": {
            "labels": ["l1", "l2"],
            "series": [("a", [1e-8, 0.1]), ("b", [0.5, 0.2])],
            "log": True,
            "unit": "‖g‖",
        },
        "images": {
            "images": [("digit", RNG.random((28, 28)))]
            + [(f"f{i}", RNG.random((14, 14))) for i in range(8)]
        },
    }[kind]


def nonfinite(kind: str) -> dict:
    """The sample with NaN and inf sprinkled into every array."""

    def spoil(v):  # type: ignore[no-untyped-def]
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size:
            v = v.copy()
            flat = v.reshape(-1)
            flat[:: max(1, v.size // 3)] = np.nan
            flat[1 :: max(1, v.size // 2)] = np.inf
            return v
        if isinstance(v, dict):
            return {k: spoil(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(spoil(x) for x in v)
        return v

    data = spoil(sample(kind))
    if kind == "field2d":
        data["z"] = np.where(RNG.random((30, 30)) < 0.3, np.nan, sample(kind)["z"])
    if kind == "curve1d":
        data.update(w=math.inf, cost=math.nan, slope=math.nan)
    if kind == "bars":
        data["series"] = [("a", [math.nan, math.inf]), ("b", [-math.inf, 0.0])]
    return data


def degenerate(kind: str) -> dict:
    """Legal but awkward data: one point, constant values, all-NaN, ragged rows."""
    return {
        "line": {
            "series": {"a": ([5], [0.0]), "b": ([1, 2], [np.nan, np.nan]), "c": [3.0, 3.0]},
            "events": [(None, "x"), (5, "here")],
        },
        "field2d": {
            "z": np.ones((1, 1)),
            "points": np.zeros((0, 2)),
            "levels": [1.0, np.nan],
            "trajectories": [("t", np.zeros((0, 2)))],
            "log": True,
            "diverging": True,
        },
        "heatmap": {"matrices": [("nan", np.full((2, 2), np.nan)), ("scalar", 3.0)]},
        "table": {"columns": ["a"], "rows": [[1, "two", 3.0, None]], "highlight": [5, "x"]},
        "text": {"text": "\n\n\t[/]"},
        "curve1d": {"x": [0.0, 0.0], "y": [1.0, 1.0], "w": 0.0, "cost": 1.0, "trail": [1, 2, 3]},
        "bars": {"labels": ["a", "b", "c"], "series": [("z", [0.0, 0.0])], "log": True},
        "images": {
            "images": [
                ("one", np.ones((1, 1))),
                ("rgb", RNG.random((4, 4, 3))),
                ("flat", np.zeros(5)),
            ],
            "columns": 9,
        },
    }[kind]


def lines(text: Text) -> list[str]:
    return text.plain.split("\n")


def assert_size(text: Text, width: int, height: int) -> None:
    rows = text.split("\n", allow_blank=True)
    assert len(lines(text)) == height
    assert all(row.cell_len <= width for row in rows), [r.plain for r in rows]
    CONSOLE.print(text)  # renders without error


def cell_styles(text: Text) -> list[list[tuple[str, object]]]:
    """(character, style) of every cell, row by row."""
    out = []
    for row in text.split("\n", allow_blank=True):
        out.append([(ch, row.get_style_at_offset(CONSOLE, i)) for i, ch in enumerate(row.plain)])
    return out


def hexes(style) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.triplet.hex for c in (style.color, style.bgcolor) if c is not None and c.triplet}


SIZES = [(1, 1), (2, 1), (1, 3), (7, 3), (20, 5), (33, 9), (80, 24), (120, 40)]


def test_every_kind_has_a_renderer() -> None:
    assert set(RENDERERS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width,height", SIZES)
def test_exact_size(kind: str, width: int, height: int) -> None:
    assert_size(RENDERERS[kind](sample(kind), width, height), width, height)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width,height", [(1, 1), (10, 4), (60, 20)])
def test_empty_and_nonfinite_data(kind: str, width: int, height: int) -> None:
    for data in ({}, {k: [] for k in sample(kind)}, nonfinite(kind), degenerate(kind)):
        assert_size(RENDERERS[kind](data, width, height), width, height)


def test_no_data_message() -> None:
    assert "no data yet" in render("line", {"series": {}}, 40, 5).plain


def test_dispatch_passes_options_and_rejects_unknown_kinds() -> None:
    data = {"series": {"loss": ([1, 2, 3], [1.0, 0.1, 0.01])}}
    text = render("line", data, 60, 12, {"series": ("loss",), "logy": True})
    assert "log y" in text.plain
    with pytest.raises(ValueError, match="unknown panel kind"):
        render("pie", {}, 10, 3)


def test_dispatch_turns_malformed_data_into_a_message() -> None:
    text = render("table", {"rows": 5}, 30, 3)
    assert_size(text, 30, 3)
    assert "cannot draw" in text.plain


def test_render_package_imports_neither_textual_nor_torch() -> None:
    code = "import sys, dltui.render; print('textual' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_text_is_plain_not_markup() -> None:
    text = render_text({"text": "loss [paused] = [bold]0.5[/bold]\n# Heading"}, 40, 3)
    assert "loss [paused] = [bold]0.5[/bold]" in text.plain
    heading = cell_styles(text)[1][0][1]
    assert lines(text)[1].startswith("Heading") and heading.bold


def test_text_wraps_to_width() -> None:
    text = render_text({"text": "word " * 30}, 20, 10)
    assert sum("word" in row for row in lines(text)) > 5


def test_line_draws_bold_trend_and_events() -> None:
    steps = np.arange(1, 1001)
    noisy = np.tile([0.0, 1.0], 500)  # per-step loss alternating 0/1: the trend is ~0.5
    data = {"series": {"loss": (steps, noisy)}, "events": [(600, "lr=0.05")]}
    text = render_line(data, 80, 20, ema=0.98)
    assert abs(float(lines(text)[0].split()[1]) - 0.5) < 0.05  # title shows the trend value
    assert "lr=0.05" in text.plain
    bold_series = [
        s
        for row in cell_styles(text)
        for ch, s in row
        if ch.strip() and s.bold and SERIES[0] in hexes(s)
    ]
    assert len(bold_series) > 20
    raw = render_line(data, 80, 20, ema=0)
    assert float(lines(raw)[0].split()[1]) in (0.0, 1.0)
    assert not any(s.bold for row in cell_styles(raw) for ch, s in row if ch.strip())


def test_line_legend_names_every_series() -> None:
    text = render_line(sample("line"), 80, 20)
    assert "loss" in text.plain and "val" in text.plain


def test_field2d_draws_a_glyph_per_point() -> None:
    pts = np.array([[-1.5, -1.5], [-0.5, 0.5], [0.5, -0.5], [1.5, 1.5], [0.0, 1.2]])
    xx, yy = np.meshgrid(GRID, GRID)
    text = render_field2d(
        {"x": GRID, "y": GRID, "z": xx + yy, "points": pts, "labels": [0, 1, 0, 1, 1]}, 60, 20
    )
    glyphs = [(ch, s) for row in cell_styles(text) for ch, s in row if ch in "●○"]
    assert len(glyphs) == 5
    assert sum(ch == "●" and CLASS_COLORS[1] in hexes(s) for ch, s in glyphs) == 3


def test_field2d_boundary_is_the_diagonal() -> None:
    xx, yy = np.meshgrid(GRID, GRID)
    width, height = 40, 21  # 20 field rows + the axis line
    text = render_field2d({"x": GRID, "y": GRID, "z": xx - yy, "boundary": 0.0}, width, height)
    rows = cell_styles(text)[:20]
    for r, row in enumerate(rows):
        cols = [c for c, (_, s) in enumerate(row) if BOUNDARY in hexes(s)]
        assert cols, f"no boundary in row {r}"
        expected = (1 - (r + 0.5) / 20) * width  # y = x: top row at the right
        assert min(abs(c - expected) for c in cols) <= 3
    assert "x∈[-2,2] y∈[-2,2]" in lines(text)[-1]


def test_field2d_trajectory_and_marker() -> None:
    text = render_field2d(sample("field2d"), 60, 20)
    trail = any("\u2801" <= ch <= "\u28ff" for ch in text.plain)  # braille, not dots
    assert "◆" in text.plain and "★" in text.plain and trail
    assert "sgd" in lines(text)[-2] and "min" in lines(text)[-2]


def test_heatmap_prints_numbers_only_when_they_fit() -> None:
    small = render_heatmap({"matrices": [("W", np.array([[1.2345, -0.5], [0.0, 2.0]]))]}, 40, 6)
    assert "+1.234" in small.plain and "-0.500" in small.plain and "W ±2" in small.plain
    big = render_heatmap({"matrices": [("W", RNG.normal(size=(50, 50)))]}, 40, 20)
    assert not any(ch.isdigit() for row in lines(big)[1:] for ch in row)
    assert "▀" in big.plain


def test_heatmap_vmax_keeps_small_entries_visible_beside_huge_ones() -> None:
    """A confusion matrix: 1000 right answers would wash out the 3 mistakes; vmax=3 colours
    the 3 as strongly as the 1000 (both saturate) and the 0 stays neutral."""
    m = np.array([[1000, 3], [0, 900]])

    def bg_of(data: dict) -> dict[str, object]:
        row0, row1 = cell_styles(render_heatmap(data, 40, 6))[1:3]
        first = {"1000": ("1", row0), "3": ("3", row0), "0": ("0", row1)}
        return {
            k: next(style.bgcolor for ch, style in row if ch == c) for k, (c, row) in first.items()
        }

    plain, clipped = bg_of({"matrices": [("C", m)]}), bg_of({"matrices": [("C", m)], "vmax": 3})
    assert plain["3"] != plain["1000"] and plain["3"] == plain["0"]  # 3/1000 rounds to grey
    assert clipped["3"] == clipped["1000"] != clipped["0"]
    assert "C clip ±3" in render_heatmap({"matrices": [("C", m)], "vmax": 3}, 40, 6).plain


def test_heatmap_prints_counts_narrower_than_floats() -> None:
    """A 10×10 confusion matrix (int counts) prints in 62 columns; the same values as floats
    (or all-zero float gradients) keep the 8-character cells and fall back to pixels."""
    m = np.full((10, 10), 3) + np.diag(np.full(10, 1127))
    labels = {"row_labels": list("0123456789"), "col_labels": list("0123456789")}
    counts = lines(render_heatmap({"matrices": [("C", m)], **labels}, 63, 12))
    assert counts[1].split() == list("0123456789") and counts[3].split()[:3] == ["1", "3", "1130"]
    floats = render_heatmap({"matrices": [("C", m.astype(float))], **labels}, 63, 12)
    assert "1130" not in floats.plain and "▀" in floats.plain


def test_heatmap_labels() -> None:
    text = render_heatmap(sample("heatmap"), 80, 10)
    assert "h1" in text.plain and "h2" in text.plain and lines(text)[2].lstrip().startswith("a")


def test_bars_log_scale_shows_tiny_and_large_values() -> None:
    data = {"labels": ["tiny", "large"], "series": [("g", [1e-8, 1e-1])], "log": True}
    rows = lines(render_bars(data, 50, 4))
    tiny, large = (next(r for r in rows if r.startswith(name)) for name in ("tiny", "large"))
    blocks = "█▉▊▋▌▍▎▏"
    assert any(ch in blocks for ch in tiny) and "1e-08" in tiny
    assert sum(ch in blocks for ch in large) > sum(ch in blocks for ch in tiny)


def test_bars_legend_for_several_series() -> None:
    text = render_bars(sample("bars"), 60, 8)
    assert "a" in lines(text)[0] and "b" in lines(text)[0] and "log" in lines(text)[0]


def test_table_formats_floats_and_crops_rows() -> None:
    text = render_table({"columns": ["p", "loss"], "rows": [[0.5, 0.693147], [1, 1.2e-05]]}, 30, 5)
    assert "0.6931" in text.plain and "0.693147" not in text.plain and "1.2e-05" in text.plain
    many = render_table({"columns": ["i"], "rows": [[i] for i in range(100)]}, 20, 8)
    assert "…" in lines(many)[-1] and "more" in lines(many)[-1]


def test_table_highlight_stays_visible() -> None:
    data = {"columns": ["i"], "rows": [[i] for i in range(100)], "highlight": [70]}
    text = render_table(data, 20, 8)
    row = next(r for r in cell_styles(text) if "".join(ch for ch, _ in r).strip() == "70")
    assert row[0] == ("7", row[0][1]) and row[0][1].bgcolor is not None


def test_images_grid_of_33_maps() -> None:
    maps = [("digit", RNG.random((28, 28)))] + [(f"m{i}", RNG.random((28, 28))) for i in range(32)]
    text = render_images({"images": maps}, 120, 40)
    assert all(f"m{i}" in text.plain for i in range(32)) and "digit" in text.plain
    title_rows = [r for r in lines(text) if "m" in r and "▀" not in r]
    assert len(title_rows) >= 3 and max(r.count("m") for r in title_rows) >= 5
    crowded = render_images({"images": maps}, 20, 4)
    assert "more" in lines(crowded)[-1]


def test_images_keep_feature_maps_readable_and_count_the_rest() -> None:
    """32 maps of 14×14 in a 56×11 panel: shrunk at most 2× (7 pixels, the digit still shows),
    as many as fit at that size, and a line saying how many more there are."""
    maps = [("", RNG.random((14, 14)) + 0.1) for _ in range(32)]
    rows = lines(render_images({"images": maps}, 56, 11))
    tiles = [len(run) for run in re.findall(r"[^ ]+", rows[0])]
    assert tiles == [7] * 7  # 7 pixels wide, 7 to a row
    shown = 32 - int(re.match(r"\+(\d+) more", rows[-1]).group(1))
    assert shown == 14  # two rows of 7; a third would not fit above the "+18 more" line
    assert "more" not in render_images({"images": maps}, 120, 24).plain  # room: all 32


def test_curve1d_marks_point_and_reports_off_plot() -> None:
    text = render_curve1d(sample("curve1d"), 60, 16)
    assert "●" in text.plain and "slope=2" in text.plain
    off = render_curve1d({**sample("curve1d"), "w": 1e7, "cost": 1e14}, 60, 16)
    assert "w → 1e+07 off the plot" in off.plain and "●" not in off.plain


def test_a_confusion_matrix_keeps_its_digit_labels_when_drawn_as_blocks():
    from dltui.render.heatmap import render_heatmap

    m = np.arange(100).reshape(10, 10) % 5
    digits = list("0123456789")
    data = {"matrices": [("epoch 1", m)], "row_labels": digits, "col_labels": digits}
    for width, height in [(26, 8), (26, 12)]:
        lines = render_heatmap(data, width, height).plain.splitlines()
        assert lines[1].split() == digits  # the columns, over their blocks
        rows = "".join(line.split()[0] for line in lines[2:] if line.strip())
        assert rows == "0123456789", (width, height, rows)  # every row named, in order


def test_classes_read_apart_without_colour():
    from dltui.render.field2d import render_field2d

    g = np.linspace(0, 1, 5)
    data = {
        "x": g,
        "y": g,
        "z": np.zeros((5, 5)),
        "points": [[0.1, 0.1], [0.9, 0.9]],
        "labels": [0, 1],
    }
    plain = render_field2d(data, 30, 10).plain
    assert "○" in plain and "●" in plain  # one glyph per class, not one colour per class


def test_a_field_names_its_axes():
    from dltui.render.field2d import render_field2d

    g = np.linspace(0, 1, 5)
    data = {"x": g, "y": g, "z": np.zeros((5, 5)), "xlabel": "x₁", "ylabel": "x₂"}
    plain = render_field2d(data, 50, 10).plain
    assert "x₁∈[0,1]" in plain and "x₂∈[0,1]" in plain
