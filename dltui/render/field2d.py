"""Half-block renderer of a scalar field z(y, x) over the plane: decision boundaries, landscapes.

`render_field2d(data, width, height, **options)` resamples z bilinearly to 2·rows × width pixels
(larger y drawn higher), colours it (sequential map; `log` colours by log10(z − min + eps);
`diverging` centres a blue/red map on `boundary` or 0), draws contour lines where the contour
band changes between neighbouring pixels and the `boundary` level as a white line, then puts
`points` as ● (class 1) and ○ (class 0, and -1), a glyph per class so that classes survive
a terminal without colour, coloured by class, `trajectories` as dotted paths in the series colours with
the current position as a bold '◆', and `markers` (e.g. minima) as '★'. Below the field: a
legend line (trajectories, markers) and the axis ranges (named by `xlabel`/`ylabel`: x₁ and x₂
on a decision boundary, W and b on a cost surface), when there is room.
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
    """Bilinear samples of z at pixel centres: row 0 is the largest y."""
    px = x[0] + (np.arange(cols) + 0.5) / cols * (x[-1] - x[0])
    py = y[-1] - (np.arange(rows) + 0.5) / rows * (y[-1] - y[0])
    fx = np.interp(px, x, np.arange(x.size)) if x.size > 1 else np.zeros(cols)
    fy = np.interp(py, y, np.arange(y.size)) if y.size > 1 else np.zeros(rows)
    x0 = np.minimum(fx.astype(int), max(x.size - 2, 0))
    y0 = np.minimum(fy.astype(int), max(y.size - 2, 0))
    x1, y1 = np.minimum(x0 + 1, x.size - 1), np.minimum(y0 + 1, y.size - 1)
    tx, ty = (fx - x0)[None, :], (fy - y0)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite corners give NaN pixels
        top = z[y0][:, x0] * (1 - tx) + z[y0][:, x1] * tx
        bottom = z[y1][:, x0] * (1 - tx) + z[y1][:, x1] * tx
        return top * (1 - ty) + bottom * ty


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


def _to_pixels(pts: Any, x: np.ndarray, y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(k, 2) data points → (k, 2) fractional (pixel column, pixel row); NaN when not finite."""
    p = np.asarray(pts, dtype=float).reshape(-1, 2)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        c = (p[:, 0] - x[0]) / (x[-1] - x[0]) * cols
        r = (y[-1] - p[:, 1]) / (y[-1] - y[0]) * rows
    return np.stack([c, r], axis=1)


def _path_cells(pix: np.ndarray, cols: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells (row, col) on the polyline through `pix`, densely interpolated, inside the view."""
    p = pix[np.all(np.isfinite(pix), axis=1)]
    if len(p) == 0:
        return np.array([], int), np.array([], int)
    p = np.stack([np.clip(p[:, 0], -cols, 2 * cols), np.clip(p[:, 1] / 2, -rows, 2 * rows)], 1)
    if len(p) > 1:
        d = np.abs(np.diff(p, axis=0)).max(axis=1)
        n = np.maximum(np.ceil(d).astype(int), 1)
        seg = np.repeat(np.arange(len(n)), n)
        t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / n[seg]
        p = np.concatenate([p[seg] + (p[seg + 1] - p[seg]) * t[:, None], p[-1:]])
    c, r = np.floor(p[:, 0]).astype(int), np.floor(p[:, 1]).astype(int)
    ok = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    return r[ok], c[ok]


def render_field2d(data: dict[str, Any], width: int, height: int, **options: Any) -> Text:
    """The field, its contours/boundary, points, trajectories and markers as half-block Text."""
    d = {**(data or {}), **options}
    z = np.asarray(d.get("z") if d.get("z") is not None else [], dtype=float)
    if z.ndim != 2 or z.size == 0 or not np.isfinite(z).any() or width < 1 or height < 1:
        return message("no data yet", width, height)
    x, y = _axis(d.get("x"), z.shape[1]), _axis(d.get("y"), z.shape[0])
    trajectories = list(d.get("trajectories") or [])
    markers = list(d.get("markers") or [])
    footer = (height > 4) + (height > 6 and bool(trajectories or markers))
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
    levels = _levels(d.get("levels"), lo, hi, log, zmin, eps)
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

    # trajectories: dotted path, bold current position; markers on top
    heads = []
    for i, item in enumerate(trajectories):
        name, path = item if isinstance(item, (tuple, list)) and len(item) == 2 else ("", item)
        color = SERIES[i % len(SERIES)]
        tp = _to_pixels(path, x, y, 2 * rows, cols) if np.size(path) else np.zeros((0, 2))
        r, c = _path_cells(tp, cols, rows)
        canvas.chars[r, c], canvas.fg[r, c], canvas.bold[r, c] = "•", canvas.color(color), False
        last = tp[np.all(np.isfinite(tp), axis=1)][-1:] if len(tp) else tp
        heads.append((str(name), color, last))
    for _, color, last in heads:
        for pc, pr in last.tolist():
            if 0 <= pc < cols and 0 <= pr < 2 * rows:
                canvas.text(int(pr) // 2, int(pc), "◆", fg=color, bold=True, keep_bg=True)
    for item in markers:
        if isinstance(item, (tuple, list)) and len(item) >= 3:
            mp = _to_pixels([item[1], item[2]], x, y, 2 * rows, cols)[0]
            if np.isfinite(mp).all() and 0 <= mp[0] < cols and 0 <= mp[1] < 2 * rows:
                canvas.text(int(mp[1]) // 2, int(mp[0]), "★", fg=MARKER, bold=True, keep_bg=True)

    # legend and axis ranges
    row = rows
    if footer == 2:
        col = 0
        names = [str(m[0]) for m in markers if isinstance(m, (tuple, list)) and m]
        entries = [("◆ ", n, c) for n, c, _ in heads] + [("★ ", n, MARKER) for n in names]
        for glyph, name, color in entries:
            col += canvas.text(row, col, glyph, fg=color, bold=True)
            col += canvas.text(row, col, f"{name}  ", fg="#d0d0d0")
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
