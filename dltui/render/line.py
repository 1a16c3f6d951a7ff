"""Line plots of metric histories (loss vs step) drawn with plotext.

`render_line(data, width, height, *, logy=False, ema=0.98, xlabel="step")` with data
{"series": {name: (steps, values)}, "events": [(step, label)], "ghosts": [{"label", "step",
"mark", "series"}]}: raw points faint, an EMA trend (computed over all raw points, debiased like
TensorBoard) bold on top, events as vertical lines labelled at the top, ghosts (runs left behind
by time travel) as dimmed trends under them with their branch point marked, a legend when there
are several series or ghosts, log10 y with readable ticks when `logy`. Every series is min/max-decimated to ≈2× width points first (plotting 100k raw
points costs ~1 s a frame). Panels too small for axes get one line per series: name, last value
and a sparkline of the trend. Also provides `ema_trend`, `nice_ticks`, `decimate` and
`PLOT_LOCK` (plotext keeps one global figure; hold the lock while building one).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import plotext as plt
from rich.style import Style
from rich.text import Span, Text

from .colors import DIM, SERIES, shade

GHOST = "#b39ddb"
"""Branch points and ghost legend entries (the ghost curves are their series' colours, dimmed)."""
from .text import fit, fmt_num, message

PLOT_LOCK = threading.Lock()
SPARKS = "▁▂▃▄▅▆▇█"
BOLD = Style(bold=True)


def rgb(color: str) -> tuple[int, int, int]:
    """A hex colour as the (r, g, b) tuple plotext takes."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def ema_trend(values: np.ndarray, factor: float) -> np.ndarray:
    """Debiased exponential moving average, vectorised in chunks (no per-point Python loop)."""
    y = np.asarray(values, dtype=float)
    a = float(factor)
    if y.size == 0 or not 0 < a < 1:
        return y.copy()
    m = int(np.clip(12 / -np.log10(a), 1, 1024))  # chunk length so that a**-m stays ≤ 1e12
    k = np.arange(m)
    up, down = (1 - a) * a**k, a ** (-k)  # the same powers serve every chunk
    out, carry = np.empty_like(y), 0.0
    for s in range(0, y.size, m):
        chunk = y[s : s + m]
        n = chunk.size
        acc = up[:n] * np.cumsum(chunk * down[:n]) + carry * a * (up[:n] / (1 - a))
        out[s : s + n], carry = acc, acc[-1]
    debias = 1 - a ** np.arange(1, min(y.size, int(14 / -np.log10(a))) + 1)  # then 1 - 1e-14
    out[: debias.size] /= debias
    return out


def decimate(x: np.ndarray, y: np.ndarray, buckets: int, envelope: bool) -> tuple:
    """≈2·buckets points: per x-bucket the min and max (envelope) or evenly spaced samples."""
    if x.size <= 2 * buckets:
        return x, y
    if not envelope:
        idx = np.unique(np.r_[np.linspace(0, x.size - 1, 2 * buckets).astype(int), x.size - 1])
        return x[idx], y[idx]
    edges = np.linspace(0, x.size, buckets + 1).astype(int)[:-1]
    lo = np.minimum.reduceat(y, edges)
    hi = np.maximum.reduceat(y, edges)
    xs = x[edges]
    return np.repeat(xs, 2), np.column_stack([lo, hi]).ravel()


def nice_ticks(lo: float, hi: float, count: int) -> np.ndarray:
    """About `count` round tick values (1, 2, 5 × 10^k steps) inside [lo, hi]; at least 3
    when `count` asks for 3 or more, so a value can be read between two labelled ticks."""
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo or count < 1:
        return np.array([lo]) if np.isfinite(lo) else np.array([])
    mag = 10 ** np.floor(np.log10((hi - lo) / count))
    steps = sorted(
        (mag * s * f for f in (0.1, 1.0) for s in (1, 2, 5, 10)),
        key=lambda step: abs((hi - lo) / step - count),
    )

    def ticks_of(step: float) -> np.ndarray:
        return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step)

    want = min(count, 3)
    step = next((st for st in steps if ticks_of(st).size >= want), steps[0])
    return np.round(ticks_of(step), 12) + 0.0  # + 0.0 turns -0.0 into 0.0


def _one_per_row(ticks: np.ndarray, lo: float, hi: float, rows: int) -> np.ndarray:
    """Ticks at least two rows apart in a short plot (where plotext must pick between labels
    sharing a row, it picks by hash order: a different label each run)."""
    if rows < 1 or hi <= lo:
        return ticks[:1]
    kept: list[float] = []
    for tick in ticks:
        if not kept or (tick - kept[-1]) / (hi - lo) * rows >= 2:
            kept.append(float(tick))
    return np.array(kept)


def _first_zero(steps: Any, values: Any) -> float | None:
    """The step at which a series first reached 0 (or below), if its last value is there."""
    y = np.asarray(values if values is not None else [], dtype=float).ravel()
    if not y.size or not y[-1] <= 0:
        return None
    x = np.asarray(steps if steps is not None else [], dtype=float).ravel()
    x = x if x.size == y.size else np.arange(1, y.size + 1, dtype=float)
    return float(x[np.argmax(y <= 0)])


def _clean(steps: Any, values: Any, logy: bool) -> tuple[np.ndarray, np.ndarray]:
    """Finite (and, for log y, positive) points as float arrays."""
    y = np.asarray(values if values is not None else [], dtype=float).ravel()
    x = np.asarray(steps if steps is not None else [], dtype=float).ravel()
    if x.size != y.size:
        x = np.arange(1, y.size + 1, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if logy:
        ok &= y > 0
    return x[ok], y[ok]


def _events(data: Any, xmin: float, xmax: float) -> list[tuple[float, str]]:
    """The last six steps with events inside the plotted range; several changes at one step
    share one label ("lr=0.5, noise=1") instead of drawing over each other, and the same
    param changed twice at one step shows its last value."""
    merged: dict[float, dict[str, str]] = {}
    for item in list((data or {}).get("events") or []):
        try:
            step, label = float(item[0]), str(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if xmin <= step <= xmax:
            labels = merged.setdefault(step, {})
            labels.pop(label.split("=")[0], None)  # re-inserted last: its newest value
            labels[label.split("=")[0]] = label
    return [(step, ", ".join(labels.values())) for step, labels in merged.items()][-6:]


def _event_align(label: str, step: float, xmin: float, xmax: float, width: int) -> str:
    """Labels go right of their line, or left of it where they would run off the edge."""
    column = (step - xmin) / (xmax - xmin) * width
    return "right" if column + len(label) + 1 > width else "left"


def _compact(series: dict, width: int, height: int) -> Text:
    """One line per series: name, last value, sparkline of the trend."""
    lines = []
    for i, (name, (_, y, trend)) in enumerate(series.items()):
        line = Text(f"{name} ", style=SERIES[i % len(SERIES)]) + Text(fmt_num(y[-1], 4))
        room = width - line.cell_len - 1
        if room >= 4:
            t = trend[np.linspace(0, trend.size - 1, min(room, trend.size)).astype(int)]
            span = np.ptp(t) or 1.0
            spark = "".join(SPARKS[int(v)] for v in (t - t.min()) / span * 7.999)
            line += Text(" " + spark, style=SERIES[i % len(SERIES)])
        lines.append(line)
    return fit(Text("\n").join(lines), width, height)


def render_line(
    data: dict[str, Any],
    width: int,
    height: int,
    *,
    logy: bool = False,
    ema: float = 0.98,
    xlabel: str = "step",
    ylim: tuple[float, float] | None = None,
    **_: Any,
) -> Text:
    """Metric histories vs step: faint raw points, bold EMA trend, event lines, legend.
    `ylim` fixes the y range (accuracy on [0, 1]: a flat 0.5 stays flat, not square waves)."""
    series: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    zeros: list[str] = []  # log y cannot draw a loss of 0: say so instead of stopping silently
    for name, xy in dict((data or {}).get("series") or {}).items():
        steps, values = xy if isinstance(xy, (tuple, list)) and len(xy) == 2 else (None, xy)
        x, y = _clean(steps, values, logy)
        if logy and (hit := _first_zero(steps, values)) is not None:
            zeros.append(f"{name} reached 0 at step {fmt_num(hit, 6)}")
        if y.size:
            # `ema` is per step: points recorded every k steps (test accuracy per epoch, old
            # decimated history) decay by ema**k, so a sparse series' trend does not lag.
            spacing = float(np.median(np.diff(x))) if x.size > 1 else 1.0
            trend = ema_trend(y, ema ** max(spacing, 1.0)) if ema and 0 < ema < 1 else y
            series[str(name)] = (x, y, trend)
    if not series or width < 1 or height < 1:
        return message("no data yet", width, height)
    if width < 24 or height < 4:
        return _compact(series, width, height)

    smooth = bool(ema) and 0 < ema < 1
    tf = np.log10 if logy else (lambda v: v)
    ghosts = _ghosts(data, list(series), logy, ema if smooth else 0.0)
    drawn = [(s[0], s[1]) for s in series.values()]
    drawn += [(x, y) for _, _, lines in ghosts for x, y, _, _ in lines]
    xmin = min(float(x.min()) for x, _ in drawn)
    xmax = max(float(x.max()) for x, _ in drawn)
    ylo = min(float(np.min(tf(y))) for _, y in drawn)
    yhi = max(float(np.max(tf(y))) for _, y in drawn)
    if xmax <= xmin:
        xmin, xmax = xmin - 1, xmax + 1
    if ylim is not None and not logy:
        ylo, yhi = float(ylim[0]), float(ylim[1])
    if yhi <= ylo:
        ylo, yhi = ylo - 0.5, yhi + 0.5
    title = (
        "; ".join(zeros)
        if zeros
        else "  ".join(
            f"{n} {fmt_num(s[2][-1] if smooth else s[1][-1], 4)}" for n, s in series.items()
        )
    )
    # Several series: a coloured legend line above the plot (plotext's own legend sits on the
    # data in the top-left corner and hides it in short panels).
    legend = _legend(series, smooth, width, ghosts) if len(series) > 1 or ghosts else None
    if legend is not None and len(series) == 1 and height - len(legend.split("\n")) < 6:
        legend = None  # a short panel keeps its rows for the curves (the timeline names ghosts)
    plot_height = height - len(legend.split("\n")) if legend is not None else height
    with PLOT_LOCK:
        plt.clear_figure()
        plt.limitsize(False, False)
        plt.plotsize(width, plot_height)
        plt.theme("pro")
        for age, (_, _, lines) in enumerate(reversed(ghosts)):  # ghosts under everything
            for x, _, trend, i in lines:
                color = shade([SERIES[i % len(SERIES)]], 0.55 - 0.12 * age)[0]
                xt, yt = decimate(x, tf(trend), width, envelope=False)
                plt.plot(xt, yt, marker="braille", color=rgb(color))
        for i, (name, (x, y, trend)) in enumerate(series.items()):  # raw points first ...
            color = SERIES[i % len(SERIES)]
            xs, ys = decimate(x, tf(y), width, envelope=True)
            if smooth:
                plt.scatter(xs, ys, marker="braille", color=rgb(shade([color], 0.45)[0]))
            else:
                plt.plot(xs, ys, marker="braille", color=rgb(color))
        for i, (name, (x, _, trend)) in enumerate(series.items()):  # ... then trends on top
            if smooth:
                color = SERIES[i % len(SERIES)]
                xt, yt = decimate(x, tf(trend), width, envelope=False)
                plt.plot(xt, yt, marker="braille", color=rgb(color))
        marks = _branch_marks(ghosts)
        for step, label in marks:
            plt.vline(step, color=rgb(GHOST))
            align = _event_align(label, step, xmin, xmax, width)
            plt.text(label, step, yhi, color=rgb(GHOST), alignment=align)
        for step, label in _events(data, xmin, xmax):
            if any(step == at for at, _ in marks):
                continue  # the branch mark says it ("lr=0.5 from step 1,200")
            plt.vline(step, color=rgb(DIM))
            align = _event_align(label, step, xmin, xmax, width)
            plt.text(label, step, yhi, color=rgb("#e0e0e0"), alignment=align)
        xt = nice_ticks(xmin, xmax, max(2, width // 16))
        plt.xticks(list(xt), [fmt_num(v, 4) for v in xt])
        yt = nice_ticks(ylo, yhi, max(3, height // 5))  # at least 3 ticks to read a value by
        if logy:
            yt = yt[np.isclose(yt, np.round(yt))] if np.ptp(yt) >= 2 else yt
        yt = _one_per_row(yt, ylo, yhi, plot_height - 3)
        if logy:
            plt.yticks(list(yt), [fmt_num(10.0**v, 2) for v in yt])
        else:
            plt.yticks(list(yt), [fmt_num(v, 3) for v in yt])
        plt.xlim(xmin, xmax)
        plt.ylim(ylo, yhi)
        if plot_height >= 12:
            plt.xlabel(xlabel)
        if legend is None and height >= 10:
            plt.title(title + ("  (log y)" if logy else ""))
        out = plt.build()
    plot = _embolden(Text.from_ansi(out), SERIES if smooth else ())
    if legend is not None:
        last = legend.plain.split("\n")[-1]
        if logy and len(last) + 9 <= width:  # else the panel's "log y" subtitle says it
            legend.append("  (log y)", style=DIM)
        if zeros:
            legend.append("  " + "; ".join(zeros), style="bold")
        plot = Text("\n").join([legend, plot])
    return fit(plot, width, height)


def _ghosts(data: Any, names: list[str], logy: bool, ema: float) -> list[tuple]:
    """The ghosts that have some of this panel's series: (label, ghost, [(x, y, trend, i)]),
    i being the series' place in the panel (its colour)."""
    out = []
    for ghost in (data or {}).get("ghosts") or ():
        lines = []
        for i, name in enumerate(names):
            xy = (ghost.get("series") or {}).get(name)
            x, y = _clean(xy[0], xy[1], logy) if xy is not None else (np.zeros(0), np.zeros(0))
            if x.size:
                spacing = float(np.median(np.diff(x))) if x.size > 1 else 1.0
                trend = ema_trend(y, ema ** max(spacing, 1.0)) if ema else y
                lines.append((x, y, trend, i))
        if lines:
            out.append((str(ghost.get("label", "ghost")), ghost, lines))
    return out


def _branch_marks(ghosts: list[tuple]) -> list[tuple[float, str]]:
    """Where each ghost parted from the run, labelled ("lr=0.5 from step 1,200")."""
    return [(float(g["step"]), str(g.get("mark") or "")) for _, g, _ in ghosts if g.get("mark")]


def _legend(series: dict, smooth: bool, width: int, ghosts: list | None = None) -> Text:
    """Every series named: a coloured ■, the name and the latest (trend) value. A suffix all
    names share ("/loss", which the panel's title says) is left out, values go when they don't
    fit, and what still doesn't fit wraps onto more lines (the caller gives them plot rows)."""
    names = list(series)
    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1] if len(names) > 1 else ""
    suffix = suffix[suffix.find("/") :] if "/" in suffix else ""
    for with_values in (True, False):
        items = []
        for i, (name, (_, y, trend)) in enumerate(series.items()):
            value = f" {fmt_num(trend[-1] if smooth else y[-1], 4)}" if with_values else ""
            item = Text("■ ", style=SERIES[i % len(SERIES)])
            item.append(f"{name[: len(name) - len(suffix)] if suffix else name}{value}")
            items.append(item)
        for label, _, _ in ghosts or ():
            items.append(Text(f"┄ ghost: {label}", style=GHOST))
        lines, line = [], Text(" ")
        for item in items:
            if line.cell_len > 1 and line.cell_len + item.cell_len > width:
                lines.append(line)
                line = Text(" ")
            line.append_text(item)
            line.append("  ")
        lines.append(line)
        if len(lines) == 1 or not with_values:
            break
    return Text("\n").join(lines)


def _embolden(text: Text, colors: tuple[str, ...]) -> Text:
    """Make cells drawn in one of `colors` bold (plotext ignores `style` for braille lines)."""
    bold = {c.lower() for c in colors}
    for i, span in enumerate(text.spans):
        style = span.style
        color = style.color if isinstance(style, Style) else None
        if color is not None and color.triplet is not None and color.triplet.hex in bold:
            text.spans[i] = Span(span.start, span.end, style + BOLD)
    return text
