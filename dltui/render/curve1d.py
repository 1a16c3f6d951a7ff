"""A one-parameter cost curve with the optimiser's point, tangent and trail (plotext).

`render_curve1d(data, width, height)` with data {"x": (n,), "y": (n,), "w": float, "cost":
float, "slope": float, "trail": (k, 2) earlier (w, cost), "xlabel": str, "ylabel": str}: the
curve f(w) over x, the trail of earlier points joined in order (so overshooting zig-zags
show), the tangent of slope `slope` over a short span, and the current point as a bold '●'.
The view is the curve's range; trail segments and the tangent are clipped to it, and a current
point off the view is reported in the title ("w → 1e+07 off the plot"). Panels too small for
axes get the numbers as text.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import plotext as plt
from rich.text import Text

from .colors import MARKER
from .line import PLOT_LOCK, nice_ticks, rgb
from .text import fit, fmt_num, message

CURVE, TANGENT, TRAIL = "#4fc3f7", "#ffb74d", "#9e9e9e"
MAX_TRAIL = 40  # earlier points drawn as dots ...
MAX_LINKED = 12  # ... the last ones joined by lines (plotext rasterises lines slowly)


def clip_segment(p: np.ndarray, q: np.ndarray, box: tuple) -> tuple | None:
    """The part of segment p→q inside box (x0, x1, y0, y1) (Liang–Barsky), or None."""
    x0, x1, y0, y1 = box
    d = q - p
    t0, t1 = 0.0, 1.0
    for num, den in ((p[0] - x0, -d[0]), (x1 - p[0], d[0]), (p[1] - y0, -d[1]), (y1 - p[1], d[1])):
        if den == 0:
            if num < 0:
                return None
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    if t0 > t1:
        return None
    return p + t0 * d, p + t1 * d


def _chains(points: np.ndarray, box: tuple) -> list[np.ndarray]:
    """The polyline through `points` clipped to box, as runs of connected points."""
    chains: list[list[np.ndarray]] = []
    for p, q in pairwise(points):
        seg = clip_segment(p, q, box)
        if seg is None:
            continue
        if chains and np.array_equal(chains[-1][-1], seg[0]):
            chains[-1].append(seg[1])
        else:
            chains.append(list(seg))
    return [np.array(c) for c in chains]


def _num(data: dict, key: str) -> float:
    try:
        return float(data.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def render_curve1d(data: dict[str, Any], width: int, height: int, **_: Any) -> Text:
    """f(w) with the current point, its tangent and the trail of earlier steps."""
    data = data or {}
    x = np.asarray(data.get("x") if data.get("x") is not None else [], float).ravel()
    y = np.asarray(data.get("y") if data.get("y") is not None else [], float).ravel()
    n = min(x.size, y.size)
    ok = np.isfinite(x[:n]) & np.isfinite(y[:n])
    x, y = x[:n][ok], y[:n][ok]
    w, cost, slope = _num(data, "w"), _num(data, "cost"), _num(data, "slope")
    xlabel, ylabel = str(data.get("xlabel") or "w"), str(data.get("ylabel") or "cost")
    numbers = f"{xlabel}={fmt_num(w)}  {ylabel}={fmt_num(cost)}  slope={fmt_num(slope)}"
    if x.size < 2 or width < 1 or height < 1:
        return message("no data yet" if np.isnan(w) else numbers, width, height)
    if width < 24 or height < 6:
        return fit(Text(numbers.replace("  ", "\n")), width, height)

    order = np.argsort(x)
    x, y = x[order], y[order]
    x0, x1 = float(x[0]), float(x[-1])
    if x1 <= x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0, y1 = float(y.min()), float(y.max())
    pad = (y1 - y0) * 0.05 or 0.5
    box = (x0, x1, y0 - pad, y1 + pad)
    inside = np.isfinite(w) and np.isfinite(cost) and x0 <= w <= x1 and box[2] <= cost <= box[3]
    trail = np.asarray(data.get("trail") if data.get("trail") is not None else [], float)
    trail = trail.reshape(-1, 2)[-MAX_TRAIL:] if trail.size % 2 == 0 else np.zeros((0, 2))
    trail = trail[np.all(np.isfinite(trail), axis=1)]
    if np.isfinite(w) and np.isfinite(cost):
        trail = np.vstack([trail, [[w, cost]]])
    title = numbers
    if not inside and np.isfinite(w):
        name, value = (xlabel, w) if not x0 <= w <= x1 else (ylabel, cost)
        note = f"{name} → {fmt_num(value, 3)} off the plot"
        # plotext drops a title wider than the plot: the note is the lesson, the numbers go.
        title = f"{note}  {title}" if len(note) + 2 + len(title) <= width - 2 else note

    with PLOT_LOCK:
        plt.clear_figure()
        plt.limitsize(False, False)
        plt.plotsize(width, height)
        plt.theme("pro")
        keep = np.linspace(0, x.size - 1, min(x.size, 2 * width)).astype(int)
        plt.plot(list(x[keep]), list(y[keep]), marker="braille", color=rgb(CURVE))
        for chain in _chains(trail[-MAX_LINKED:], box):  # one plot call per visible run
            plt.plot(list(chain[:, 0]), list(chain[:, 1]), marker="braille", color=rgb(TRAIL))
        dots = trail[:-1][(trail[:-1, 0] >= x0) & (trail[:-1, 0] <= x1)] if len(trail) else trail
        dots = dots[(dots[:, 1] >= box[2]) & (dots[:, 1] <= box[3])]
        if len(dots):
            plt.scatter(list(dots[:, 0]), list(dots[:, 1]), marker="•", color=rgb(TRAIL))
        if inside and np.isfinite(slope):
            s = (x1 - x0) * 0.12
            tangent = np.array([w - s, cost - slope * s]), np.array([w + s, cost + slope * s])
            seg = clip_segment(*tangent, box)
            if seg is not None:
                plt.plot(
                    [seg[0][0], seg[1][0]],
                    [seg[0][1], seg[1][1]],
                    marker="braille",
                    color=rgb(TANGENT),
                )
        if inside:
            plt.scatter([w], [cost], marker="●", color=rgb(MARKER), style="bold")
        xt = nice_ticks(x0, x1, max(2, width // 14))
        plt.xticks(list(xt), [fmt_num(v, 3) for v in xt])
        yt = nice_ticks(box[2], box[3], max(2, height // 5))
        plt.yticks(list(yt), [fmt_num(v, 3) for v in yt])
        plt.xlim(x0, x1)
        plt.ylim(box[2], box[3])
        if height >= 10:
            plt.title(title)
        if height >= 12:
            plt.xlabel(xlabel)
        out = plt.build()
    text = Text.from_ansi(out)
    if height < 10 and not inside:  # no title row: put the note on the first line instead
        text = Text(title, style="bold " + MARKER) + Text("\n") + text
    return fit(text, width, height)
