"""Panel declarations: what a scenario asks the UI to show, and the data each kind expects.

A scenario lists `Panel`s; at capture time its `view()` returns, for every panel key, plain
Python/numpy data in the shape documented below. The UI maps a panel's `kind` to a widget that
draws that data with a pure renderer from `dltui.render`. Nothing here imports torch or textual.

Data per kind (arrays are numpy, read-only; optional keys may be left out):

line     History-driven: the panel's `series` option names the metrics to plot; the frame's
         history supplies them. Options: series (tuple of metric names), logy (bool), ema (float
         smoothing factor in (0, 1), default 0.98; 0 turns the trend line off), xlabel.
         Renderer input: {"series": {name: (steps, values)}, "events": [(step, label)], ...}.
field2d  {"x": (nx,), "y": (ny,), "z": (ny, nx) scalar field,
          "points": (n, 2), "labels": (n,) class 0/1 or ints,          (optional)
          "trajectories": [(name, (k, 2) array)],                      (optional)
          "markers": [(name, x, y)],  e.g. minima                      (optional)
          "levels": int or sequence (contour values), "log": bool,     (optional)
          "boundary": float (draw this level as the decision line),   (optional)
          "diverging": bool (colour map centred on `boundary` or 0)}   (optional)
heatmap  {"matrices": [(title, (r, c) array)], "row_labels": [...], "col_labels": [...],
          "vmax": optional colour scale (larger |values| saturate)}
         Diverging colours centred on 0; values printed when the matrix is small.
table    {"columns": [str], "rows": [[value, ...]], "highlight": [row index, ...]}
         Floats are formatted by the renderer; strings are shown as they are.
text     {"text": str}  plain text (no markup), one or more lines: the math of the step.
curve1d  {"x": (n,), "y": (n,), "w": float, "cost": float, "slope": float,
          "trail": (k, 2) array of earlier (w, cost), "xlabel": str, "ylabel": str}
bars     {"labels": [str], "series": [(name, (n,) values)], "log": bool, "unit": str}
images   {"images": [(title, (h, w) array)], "columns": int (optional)}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("line", "field2d", "heatmap", "table", "text", "curve1d", "bars", "images")


@dataclass(frozen=True)
class Panel:
    """One panel of a scenario's screen.

    `key` names the entry of the frame's panel data (for `line` panels: nothing; the `series`
    option names history metrics). `col_span`/`row_span` place it in the scenario's grid.
    """

    kind: str
    title: str
    key: str = ""
    col_span: int = 1
    row_span: int = 1
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown panel kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if self.kind != "line" and not self.key:
            raise ValueError(f"panel {self.title!r} of kind {self.kind} needs a key")
        if self.kind == "line":
            self.options.setdefault("series", ("loss",))

    @property
    def series(self) -> tuple[str, ...]:
        """History metrics this panel plots (line panels only)."""
        return tuple(self.options["series"]) if self.kind == "line" else ()

    def describe(self) -> dict[str, Any]:
        """Plain-data form sent to the UI process."""
        return {
            "kind": self.kind,
            "title": self.title,
            "key": self.key,
            "col_span": self.col_span,
            "row_span": self.row_span,
            "options": dict(self.options),
        }
