"""Pure renderers: panel data (numpy arrays, plain Python) + a size in cells → `rich.text.Text`.

No textual, no torch: a widget calls `render(kind, data, width, height, options)` from its
`render()` and returns the Text. Every renderer has the signature
`fn(data: dict, width: int, height: int, **options) -> Text` and returns exactly `height` lines
of exactly `width` cells, for any size down to 1×1, empty or missing data ("no data yet") and
NaN/inf values (only what is finite is drawn). Data shapes per kind: `dltui.panels`.

Options (keyword arguments; unknown ones are ignored, so a panel's options can be passed whole):
    line     logy, ema (0 = no trend line), xlabel
    field2d  levels, log, diverging, boundary (override the data's keys of the same name),
             colors (the palette: truecolor, 256, 16 or mono; dltui.render.palettes)
    heatmap  colors
    bars     log (overrides data["log"])
    images   columns (overrides data["columns"])
    text     wrap (False crops long lines instead of wrapping them)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from .bars import render_bars
from .curve1d import render_curve1d
from .field2d import render_field2d
from .heatmap import render_heatmap
from .images import render_images
from .line import render_line
from .table import render_table
from .text import fit, render_text

__all__ = ["RENDERERS", "render"]

Renderer = Callable[..., Text]

RENDERERS: dict[str, Renderer] = {
    "line": render_line,
    "field2d": render_field2d,
    "heatmap": render_heatmap,
    "table": render_table,
    "text": render_text,
    "curve1d": render_curve1d,
    "bars": render_bars,
    "images": render_images,
}


def render(
    kind: str, data: dict[str, Any], width: int, height: int, options: dict[str, Any] | None = None
) -> Text:
    """Draw panel data of `kind` at width × height cells.

    Raises ValueError for an unknown kind. A renderer that fails on malformed data does not
    take the UI down: the panel shows the error in red instead (one line, sized to the panel).
    """
    try:
        fn = RENDERERS[kind]
    except KeyError:
        raise ValueError(f"unknown panel kind {kind!r}; known: {', '.join(RENDERERS)}") from None
    width, height = max(0, int(width)), max(0, int(height))
    try:
        return fn(data if isinstance(data, dict) else {}, width, height, **(options or {}))
    except Exception as exc:  # noqa: BLE001 - bad data must not take the UI down
        return fit(
            Text(f"{kind}: cannot draw: {type(exc).__name__}: {exc}", style="red"), width, height
        )
