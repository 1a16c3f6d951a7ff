"""Half-block renderer of a scalar field z(y, x) over the plane: decision boundaries, landscapes.

`render_field2d(data, width, height, **options)` resamples z bilinearly to 2·rows × width pixels
(larger y drawn higher; where the grid is finer than the pixels, each pixel is the mean over
its area, so fine ripples do not alias), colours it (sequential map; `log` colours by
log10(z − min + eps); `diverging` centres a blue/red map on `boundary` or 0), draws contour
lines where the contour band changes between neighbouring pixels (only as many levels as the
pixels can show) and the `boundary` level as a white line, then puts
`points` as ● (class 1) and ○ (class 0, and -1), a glyph per class so that classes survive
a terminal without colour, coloured by class, `trajectories` as braille lines in the series
colours with the current position as a bold '◆' (the `selected` one on top, the others
dimmed), and `markers` as '★' (minima) or their own glyph (a start). Below the field: a
legend (trajectories, markers; a second line when one does not hold them) and the axis ranges
(named by `xlabel`/`ylabel`: x₁ and x₂ on a decision boundary, W and b on a cost surface),
when there is room.
Options passed by keyword (levels, log, diverging, boundary) override the data's keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import (
    BOUNDARY,
    DIM,
    DIVERGING,
    LEVELS,
    MARKER,
    SEQUENTIAL,
    SERIES,
    Canvas,
    class_color,
    class_glyph,
    luminance,
    quantize,
    quantize_diverging,
    shade,
)
from .text import fmt_num, message

DEFAULT_LEVELS = 8
MARK = "#ffffff"
MAX_LINES = 2 / 3
"""Contours may cover at most this share of the field; beyond it they are noise, not lines."""


def _number(v: Any) -> float | None:
    """A finite float, or None."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _axis(a: Any, n: int) -> np.ndarray:
    """A finite, increasing coordinate axis of length n (indices when missing or broken)."""
    a = np.asarray(a if a is not None else [], dtype=float).ravel()
    if a.size != n or not np.all(np.isfinite(a)) or n < 2 or np.any(np.diff(a) <= 0):
        return np.arange(n, dtype=float)
    return a


def _resample(z: np.ndarray, x: np.ndarray, y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """z at each pixel, row 0 the largest y: bilinear at the pixel centre, or, where the grid
    is finer than the pixels, the mean of as many bilinear samples across the pixel as it
    covers grid points (a box filter: rastrigin's ripples do not alias into a checkerboard)."""
    kx, ky = max(1, x.size // max(cols, 1)), max(1, y.size // max(rows, 1))
    px = x[0] + (np.arange(cols * kx) + 0.5) / (cols * kx) * (x[-1] - x[0])
    py = y[-1] - (np.arange(rows * ky) + 0.5) / (rows * ky) * (y[-1] - y[0])
    fx = np.interp(px, x, np.arange(x.size)) if x.size > 1 else np.zeros(px.size)
    fy = np.interp(py, y, np.arange(y.size)) if y.size > 1 else np.zeros(py.size)
    x0 = np.minimum(fx.astype(int), max(x.size - 2, 0))
    y0 = np.minimum(fy.astype(int), max(y.size - 2, 0))
    x1, y1 = np.minimum(x0 + 1, x.size - 1), np.minimum(y0 + 1, y.size - 1)
    tx, ty = (fx - x0)[None, :], (fy - y0)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite corners give NaN pixels
        top = z[y0][:, x0] * (1 - tx) + z[y0][:, x1] * tx
        bottom = z[y1][:, x0] * (1 - tx) + z[y1][:, x1] * tx
        fine = top * (1 - ty) + bottom * ty
        return fine.reshape(rows, ky, cols, kx).mean(axis=(1, 3))


def _edges(mask_or_band: np.ndarray) -> np.ndarray:
    """Pixels whose value differs from their right or lower neighbour (a thin line)."""
    a = mask_or_band
    e = np.zeros(a.shape, dtype=bool)
    e[:, :-1] |= a[:, 1:] != a[:, :-1]
    e[:-1, :] |= a[1:, :] != a[:-1, :]
    return e


def _levels(spec: Any, lo: float, hi: float, log: bool, zmin: float, eps: float) -> np.ndarray:
    """Contour values in the coloured (possibly log) space."""
    if spec is None:
        spec = DEFAULT_LEVELS
    if np.ndim(spec) == 0:
        n = int(spec) if np.isfinite(spec) else 0
        return np.linspace(lo, hi, n + 2)[1:-1] if n > 0 and hi > lo else np.array([])
    vals = np.asarray(spec, dtype=float).ravel()
    if log:
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = np.log10(vals - zmin + eps)
    return np.sort(vals[np.isfinite(vals)])


def _resolvable(levels: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The contour levels the pixels can show: every other one goes while their lines would
    cover more than MAX_LINES of the field (ripples a few pixels wide, rastrigin's at 120×40,
    turn a dozen levels into a checkerboard)."""
    v = np.nan_to_num(v, nan=-np.inf)
    while levels.size > 1 and _edges(np.searchsorted(levels, v)).mean() > MAX_LINES:
        levels = levels[::2]
    return levels


def _to_pixels(pts: Any, x: np.ndarray, y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(k, 2) data points → (k, 2) fractional (pixel column, pixel row); NaN when not finite."""
    p = np.asarray(pts, dtype=float).reshape(-1, 2)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        c = (p[:, 0] - x[0]) / (x[-1] - x[0]) * cols
        r = (y[-1] - p[:, 1]) / (y[-1] - y[0]) * rows
    return np.stack([c, r], axis=1)


BRAILLE = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])
"""Bit of the braille dot [row][col] of a cell (2 dots across, 4 down; U+2800 + bits)."""


def _path_dots(pix: np.ndarray, cols: int, rows: int) -> tuple[np.ndarray, ...]:
    """The polyline through `pix` in braille dots (2 per pixel each way), densely interpolated
    so that neighbouring dots touch: the cells (row, col) it crosses inside the view and each
    cell's dot bits."""
    p = pix[np.all(np.isfinite(pix), axis=1)]
    if len(p) == 0:
        return np.array([], int), np.array([], int), np.array([], int)
    p = np.stack(
        [np.clip(2 * p[:, 0], -2 * cols, 4 * cols), np.clip(2 * p[:, 1], -4 * rows, 8 * rows)], 1
    )
    if len(p) > 1:
        d = np.abs(np.diff(p, axis=0)).max(axis=1)
        n = np.maximum(np.ceil(d).astype(int), 1)
        seg = np.repeat(np.arange(len(n)), n)
        t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / n[seg]
        p = np.concatenate([p[seg] + (p[seg + 1] - p[seg]) * t[:, None], p[-1:]])
    c, r = np.floor(p[:, 0]).astype(int), np.floor(p[:, 1]).astype(int)
    ok = (c >= 0) & (c < 2 * cols) & (r >= 0) & (r < 4 * rows)
    c, r = c[ok], r[ok]
    bits = np.zeros(rows * cols, dtype=int)
    np.bitwise_or.at(bits, (r // 4) * cols + c // 2, BRAILLE[r % 4, c % 2])
    cells = np.flatnonzero(bits)
    return cells // cols, cells % cols, bits[cells]


def _marker_look(item: tuple | list) -> tuple[str, str, str]:
    """A marker's glyph, label and colour: (label, x, y) is a red ★, (label, x, y, glyph) that
    glyph in white (the race's ○ start)."""
    if len(item) >= 4 and isinstance(item[3], str) and len(item[3]) == 1:
        return item[3], str(item[0]), MARK
    return "★", str(item[0]), MARKER


def _legend_lines(entries: list[tuple[str, str, str, bool]], width: int, most: int) -> list:
    """Legend entries (glyph, name, colour, selected) packed into at most `most` lines of
    `width`: spaced out where they fit, closer together where not, cut at the end only when
    even that does not fit."""
    for sep, gap in (("  ", " "), (" ", " "), (" ", "")):
        lines: list[list[tuple[str, str, str, bool]]] = [[]]
        used = 0
        for glyph, name, color, selected in entries:
            size = len(glyph) + len(gap) + len(name)
            if lines[-1] and used + len(sep) + size > width:
                lines.append([])
                used = 0
            used += (len(sep) if lines[-1] else 0) + size
            lines[-1].append((glyph + gap, name, color, selected))
        if len(lines) <= most:
            break
    return [(sep, line) for line in lines[:most]]


def render_field2d(data: dict[str, Any], width: int, height: int, **options: Any) -> Text:
    """The field, its contours/boundary, points, trajectories and markers as half-block Text."""
    d = {**(data or {}), **options}
    z = np.asarray(d.get("z") if d.get("z") is not None else [], dtype=float)
    if z.ndim != 2 or z.size == 0 or not np.isfinite(z).any() or width < 1 or height < 1:
        return message("no data yet", width, height)
    x, y = _axis(d.get("x"), z.shape[1]), _axis(d.get("y"), z.shape[0])
    paths = [
        item if isinstance(item, (tuple, list)) and len(item) == 2 else ("", item)
        for item in d.get("trajectories") or []
    ]
    markers = [m for m in d.get("markers") or [] if isinstance(m, (tuple, list)) and len(m) >= 3]
    selected = d.get("selected")
    entries = [
        ("◆", str(name), SERIES[i % len(SERIES)], selected is not None and name == selected)
        for i, (name, _) in enumerate(paths)
    ] + [(*_marker_look(m), False) for m in markers]
    legend = (
        _legend_lines(entries, width, 2 if height >= 12 else 1) if height > 6 and entries else []
    )
    footer = (height > 4) + len(legend)
    rows, cols = height - footer, width
    canvas = Canvas(width, height, list(DIVERGING if d.get("diverging") else SEQUENTIAL))

    # colour the field
    zs = _resample(z, x, y, 2 * rows, cols)
    fin = z[np.isfinite(z)]
    zmin, zmax = float(fin.min()), float(fin.max())
    log, boundary = bool(d.get("log")), _number(d.get("boundary"))
    eps = max((zmax - zmin) * 1e-3, 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.log10(np.maximum(zs - zmin, 0) + eps) if log else zs
    vfin = v[np.isfinite(v)]
    lo, hi = (float(vfin.min()), float(vfin.max())) if vfin.size else (0.0, 1.0)
    if d.get("diverging"):
        centre = boundary if boundary is not None else 0.0
        pix = quantize_diverging(zs, centre, float(np.nanmax(np.abs(fin - centre))))
    else:
        pix = quantize(v, lo, hi)
    pix = pix.astype(np.int32)

    # contour lines: a darker (or, on dark colours, lighter) shade of the colour underneath
    levels = _resolvable(_levels(d.get("levels"), lo, hi, log, zmin, eps), v)
    if levels.size:
        base = canvas.palette[:LEVELS]
        contrast = [shade([c], 0.6)[0] if luminance(c) > 0.3 else shade([c], 1.45)[0] for c in base]
        to_contrast = np.array([canvas.color(c) for c in contrast])
        band = np.searchsorted(levels, np.nan_to_num(v, nan=-np.inf))
        line = _edges(band) & (pix >= 0)
        pix[line] = to_contrast[pix[line]]
    if boundary is not None:
        side = np.where(np.isfinite(zs), zs >= boundary, -1)
        pix[_edges(side) & np.isfinite(zs)] = canvas.color(BOUNDARY)
    canvas.pixels(0, 0, pix)

    # data points, coloured by class
    pts = d.get("points")
    if pts is not None and np.size(pts):
        pp = _to_pixels(pts, x, y, 2 * rows, cols)
        labels = np.asarray(d.get("labels") if d.get("labels") is not None else [], dtype=float)
        labels = labels.ravel() if labels.size == len(pp) else np.zeros(len(pp))
        ok = np.all(np.isfinite(pp), axis=1) & (pp[:, 0] >= 0) & (pp[:, 0] < cols)
        ok &= (pp[:, 1] >= 0) & (pp[:, 1] < 2 * rows)
        for (pc, pr), lab in zip(pp[ok].astype(int).tolist(), labels[ok].tolist()):
            k = int(lab) if np.isfinite(lab) else 0
            canvas.text(pr // 2, pc, class_glyph(k), fg=class_color(k), bold=True)
            canvas.bg[pr // 2, pc] = pix[pr, pc]

    # trajectories: braille lines from the start to a bold ◆ now, the selected one brighter
    # and on top; markers (★ minima, a start) under the current positions
    order = sorted(range(len(paths)), key=lambda i: entries[i][3])
    dim = any(e[3] for e in entries)
    heads = []
    for i in order:
        color, chosen = SERIES[i % len(SERIES)], entries[i][3]
        path = paths[i][1]
        tp = _to_pixels(path, x, y, 2 * rows, cols) if np.size(path) else np.zeros((0, 2))
        r, c, bits = _path_dots(tp, cols, rows)
        canvas.chars[r, c] = [chr(0x2800 + b) for b in bits.tolist()]
        canvas.fg[r, c] = canvas.color(shade([color], 0.65)[0] if dim and not chosen else color)
        canvas.bold[r, c] = chosen
        heads.append((color, tp[np.all(np.isfinite(tp), axis=1)][-1:] if len(tp) else tp))
    for item in markers:
        mp = _to_pixels([item[1], item[2]], x, y, 2 * rows, cols)[0]
        if np.isfinite(mp).all() and 0 <= mp[0] < cols and 0 <= mp[1] < 2 * rows:
            glyph, _, color = _marker_look(item)
            canvas.text(int(mp[1]) // 2, int(mp[0]), glyph, fg=color, bold=True, keep_bg=True)
    for color, last in heads:
        for pc, pr in last.tolist():
            if 0 <= pc < cols and 0 <= pr < 2 * rows:
                canvas.text(int(pr) // 2, int(pc), "◆", fg=color, bold=True, keep_bg=True)

    # legend (the selected trajectory's name in its colour) and axis ranges
    row = rows
    for sep, line in legend:
        col = 0
        for k, (glyph, name, color, chosen) in enumerate(line):
            col += canvas.text(row, col, sep if k else "")
            col += canvas.text(row, col, glyph, fg=color, bold=True)
            if chosen:
                col += canvas.text(row, col, name, fg="#000000", bg=color, bold=True)
            else:
                col += canvas.text(row, col, name, fg="#d0d0d0")
        row += 1
    if footer:
        scale = "log z" if log else "z"
        xname, yname = str(d.get("xlabel") or "x"), str(d.get("ylabel") or "y")
        axes = (
            f"{xname}∈[{fmt_num(x[0], 3)},{fmt_num(x[-1], 3)}] {yname}∈[{fmt_num(y[0], 3)},"
            f"{fmt_num(y[-1], 3)}] {scale}∈[{fmt_num(zmin, 3)},{fmt_num(zmax, 3)}]"
        )
        canvas.text(row, 0, axes, fg=DIM)
    return canvas.to_text()
