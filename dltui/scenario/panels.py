"""Panel declarations: what a scenario asks the UI to show, and the data each kind expects.

A scenario lists `Panel`s; at capture time its `view()` returns, for every panel key, plain
Python/numpy data in the shape documented below. The UI maps a panel's `kind` to a widget that
draws that data with a pure renderer from `dltui.render`. Nothing here imports torch or textual.

Data per kind (arrays are numpy, read-only; optional keys may be left out):

line     Filled by the engine from the run's history: `series` names the metrics to plot
         (record keys; default: the panel's key). Options: logy (bool), ema (float smoothing
         factor in (0, 1), default 0.98; 0 turns the trend line off), xlabel.
         The data: {"series": {name: (steps, values)}, "events": [(step, label)]}.
         view() may give a line panel {"events": [(step, label)]} of its own under the
         panel's key: marks drawn with the live changes (a schedule's milestones, the step
         of the lowest validation loss).
field2d  {"x": (nx,), "y": (ny,), "z": (ny, nx) scalar field,
          "points": (n, 2), "labels": (n,) class 0/1 or ints,          (optional)
          "trajectories": [(name, (k, 2) array)],                      (optional)
          "selected": name of the trajectory to draw on top, brighter  (optional)
          "markers": [(name, x, y)] (a red ★, e.g. minima) or          (optional)
                     [(name, x, y, glyph)] (that glyph, e.g. ○ start)
          "levels": int or sequence (contour values), "log": bool,     (optional)
          "boundary": float (draw this level as the decision line),   (optional)
          "diverging": bool (colour map centred on `boundary` or 0),  (optional)
          "xlabel", "ylabel", "zlabel": names of x, y and z          (optional)}
heatmap  {"matrices": [(title, (r, c) array)], "row_labels": [...], "col_labels": [...],
          "vmax": optional colour scale (larger |values| saturate)}
         Diverging colours centred on 0; values printed when the matrix is small.
table    {"columns": [str], "rows": [[value, ...]], "highlight": [row index, ...],
          "selected": row index}  (optional: that row in reverse video, kept in view)
         Floats are formatted by the renderer; strings are shown as they are.
text     {"text": str}  plain text (no markup), one or more lines: the math of the step.
curve1d  {"x": (n,), "y": (n,), "w": float, "cost": float, "slope": float,
          "trail": (k, 2) array of earlier (w, cost), "xlabel": str, "ylabel": str}
bars     {"labels": [str], "series": [(name, (n,) values)], "log": bool, "unit": str}
images   {"images": [(title, (h, w) array)], "columns": int (optional)}

Any kind but line may also carry "title": str, which replaces the panel's title on screen (the
race names the landscape it switched to live).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

FIELDS: dict[str, frozenset[str]] = {
    "line": frozenset({"series", "events"}),
    "field2d": frozenset(
        {
            "x",
            "y",
            "z",
            "points",
            "labels",
            "trajectories",
            "markers",
            "selected",
            "xlabel",
            "ylabel",
            "zlabel",
            "levels",
            "log",
            "boundary",
            "diverging",
        }
    ),
    "heatmap": frozenset({"matrices", "row_labels", "col_labels", "vmax"}),
    "table": frozenset({"columns", "rows", "highlight", "selected"}),
    "text": frozenset({"text"}),
    "curve1d": frozenset({"x", "y", "w", "cost", "slope", "trail", "xlabel", "ylabel"}),
    "bars": frozenset({"labels", "series", "log", "unit"}),
    "images": frozenset({"images", "columns"}),
}
"""The fields each kind's data may have (as documented above); anything else is a mistake."""
KINDS = tuple(FIELDS)


@dataclass(frozen=True)
class Panel:
    """One panel of a scenario's screen.

    `key` names the entry of `view()`'s result that holds this panel's data. A `line` panel
    instead plots `series`, record keys whose history the engine keeps (default: `(key,)`,
    or `("loss",)` with no key either); its key then defaults to the series joined by ",".
    `col_span`/`row_span` place it in the scenario's grid; `options` are the renderer's
    (see dltui.render).
    """

    kind: str
    title: str
    key: str = ""
    col_span: int = 1
    row_span: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    series: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in FIELDS:
            raise ValueError(f"unknown panel kind {self.kind!r}; known kinds: {', '.join(KINDS)}")
        if "series" in self.options:
            raise ValueError(
                f"panel {self.title!r}: a line panel's metrics go in series=(...), not in options"
            )
        if self.kind == "line":
            series = tuple(self.series) or ((self.key,) if self.key else ("loss",))
            object.__setattr__(self, "series", series)
            object.__setattr__(self, "key", self.key or ",".join(series))
        elif self.series:
            raise ValueError(f"panel {self.title!r}: only line panels take series=")
        elif not self.key:
            raise ValueError(f"panel {self.title!r} of kind {self.kind} needs a key")


def check_view(panels: tuple[Panel, ...], view: Any) -> dict[str, str]:
    """What is wrong with a view() result for these panels: panel key -> one line (empty: ok).

    A panel whose key is missing, data that is not a dict, and fields its kind does not know
    are mistakes; an empty dict, for a panel or for the whole view, is fine ("no data yet").
    Line panels are the engine's to fill.
    """
    if view == {}:
        return {}
    if not isinstance(view, dict):
        return {
            p.key: f"view() must return a dict of panel key -> data, got {type(view).__name__}"
            for p in panels
            if p.kind != "line"
        }
    errors = {}
    for panel in panels:
        if panel.kind == "line":
            continue
        where = f"panel {panel.title!r} ({panel.kind})"
        data = view.get(panel.key)
        if panel.key not in view:
            errors[panel.key] = (
                f"{where} wants its data under key {panel.key!r}; view() "
                f"returned {_listing(view)}{_hint(panel.key, view)}"
            )
        elif not isinstance(data, dict):
            errors[panel.key] = (
                f"{where}: view()[{panel.key!r}] must be a dict, got {type(data).__name__}"
            )
        elif unknown := sorted(set(data) - FIELDS[panel.kind] - {"title"}, key=str):
            bad = unknown[0]
            errors[panel.key] = (
                f"{where}: unknown field {bad!r} in view()[{panel.key!r}]"
                f"{_hint(bad, FIELDS[panel.kind])}; {panel.kind} data takes "
                f"{', '.join(sorted(FIELDS[panel.kind]))}"
            )
    return errors


def _listing(keys: Any) -> str:
    return "keys " + ", ".join(repr(k) for k in keys) if keys else "no keys"


def _hint(name: Any, known: Any) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
