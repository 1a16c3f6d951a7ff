"""Horizontal bar charts: per-layer gradient norms, weight scales, timings.

`render_bars(data, width, height, *, log=None)` with data {"labels": [str], "series": [(name,
(n,) values)], "log": bool, "unit": str}: one row per label (label left, value right, e.g.
1.2e-06), several series as adjacent bars per label in the series colours, and a legend line
(series names, unit, "log scale"). With log the bar length is ∝ log10(value) from a decade
below the smallest positive value to the largest, so 1e-8 and 1e-1 are both visible; otherwise
∝ |value| (negative values in a paler shade). Eighth-blocks give sub-cell resolution.
A `log` keyword overrides the data's key.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import SERIES, shade
from .text import DIM_STYLE, fit, fmt_num, message

EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, cells: int) -> str:
    """A bar of `fraction` × `cells` cells drawn in eighth-blocks (at least ▏ when > 0)."""
    eighths = round(min(max(fraction, 0.0), 1.0) * cells * 8)
    if fraction > 0:
        eighths = max(eighths, 1)
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def _fractions(values: np.ndarray, log: bool) -> np.ndarray:
    """Bar lengths in [0, 1] for all values at once (NaN → 0)."""
    v = np.asarray(values, dtype=float)
    out = np.zeros(v.shape)
    if log:
        pos = np.isfinite(v) & (v > 0)
        if pos.any():
            lv = np.log10(v[pos])
            lo, hi = lv.min() - 1.0, lv.max()  # a decade of headroom: the smallest still shows
            out[pos] = (lv - lo) / (hi - lo)
        return out
    fin = np.isfinite(v)
    top = np.abs(v[fin]).max() if fin.any() else 0.0
    if top > 0:
        out[fin] = np.abs(v[fin]) / top
    return out


def render_bars(
    data: dict[str, Any], width: int, height: int, *, log: bool | None = None, **_: Any
) -> Text:
    """Labelled horizontal bars, one per label and series, with values and a legend."""
    data = data or {}
    log = bool(data.get("log")) if log is None else bool(log)
    series = []
    for item in list(data.get("series") or []):
        name, vals = item if isinstance(item, (tuple, list)) and len(item) == 2 else ("", item)
        series.append((str(name), np.asarray(vals if vals is not None else [], float).ravel()))
    n = max([len(data.get("labels") or [])] + [v.size for _, v in series])
    if not series or n == 0 or width < 1 or height < 1:
        return message("no data yet", width, height)
    labels = [str(s) for s in data.get("labels") or []]
    labels += [str(i) for i in range(len(labels), n)]
    values = np.full((len(series), n), np.nan)
    for k, (_, v) in enumerate(series):
        values[k, : v.size] = v[:n]
    frac = _fractions(values, log)
    unit = str(data.get("unit") or "")

    lines: list[Text] = []
    if (len(series) > 1 or log or unit) and height >= 3:
        legend = Text()
        for k, (name, _) in enumerate(series):
            if len(series) > 1:
                legend.append("█ ", style=SERIES[k % len(SERIES)]).append(f"{name}  ")
        note = ", ".join(s for s in (unit, "log scale" if log else "") if s)
        legend.append(f"({note})" if note else "", style=DIM_STYLE)
        lines.append(legend)
    label_w = min(max(len(s) for s in labels), max(width // 3, 1))
    texts = [[fmt_num(v, 2) if np.isfinite(v) else "–" for v in row] for row in values]
    value_w = max(len(s) for row in texts for s in row)
    bar_w = width - label_w - value_w - 2
    room = height - len(lines)
    shown = n if n * len(series) <= room else max((room - 1) // len(series), 0)
    spaced = len(series) > 1 and n * (len(series) + 1) - 1 <= room
    for i in range(shown):
        if spaced and i > 0:
            lines.append(Text(""))
        for k in range(len(series)):
            name = labels[i] if k == 0 else ""
            line = Text(f"{name[:label_w]:<{label_w}} ", style="#d0d0d0")
            color = SERIES[k % len(SERIES)]
            if values[k, i] < 0 and not log:
                color = shade([color], 0.6)[0]
            if bar_w >= 1:
                line.append(f"{bar(frac[k, i], bar_w):<{bar_w}}", style=color)
            line.append(f" {texts[k][i]:>{value_w}}", style="#e0e0e0")
            lines.append(line)
    if shown < n:
        lines.append(Text(f"… {n - shown} more", style=DIM_STYLE))
    return fit(Text("\n").join(lines[:height]), width, height)
