"""Half-block renderer of a scalar field z(y, x) over the plane: decision boundaries, landscapes.

`render_field2d(data, width, height, colors=None, **options)` resamples z bilinearly to
2·rows × width pixels (larger y drawn higher; where the grid is finer than the pixels, each
pixel is the mean over its area, so fine ripples do not alias), colours it in the `colors` palette (truecolor,
256, 16 or mono: `dltui.render.palettes`; sequential map; `log` colours by log10(z − min + eps);
`diverging` centres a blue/red map on `boundary` or 0), draws contour lines where the contour
band changes between neighbouring pixels (only as many levels as the pixels can show) and the
`boundary` level as a white line, then puts
`points` as ● (class 1) and ○ (class 0, and -1), a glyph per class so that classes survive
a terminal without colour, coloured by class, `trajectories` as braille lines in the series
colours with the current position as a bold '◆' (the `selected` one on top, the others dimmed;
in mono, where colours cannot tell racers apart, a head glyph each: ◆ ■ ▲ ▼ ◇ □), and `markers`
as '★' (minima) or their own glyph (a start). In mono
(NO_COLOR) the field is one shading character a cell (· ░ ▒ ▓: denser = larger). A field whose
range is negligible (float noise around one value) is drawn in the neutral colour, without
lines. Below the field: a legend (trajectories, markers; a second line when one does not hold them) and the ranges of z, x and y
(named by `zlabel`, `xlabel`, `ylabel`), each whole or left out, when there is room.
`field_key(data, colors)` says what the colours and glyphs mean ("blue<0.5<red ●1 ○0"), for
the panel's border. Options passed by keyword (levels, log, diverging, boundary) override the
data's keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import Canvas, class_glyph, quantize, quantize_diverging, shade
from .palettes import Palette, get_palette
from .text import fmt_num, message

DEFAULT_LEVELS = 8
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


def _marker_look(item: tuple | list, pal: Palette) -> tuple[str, str, str | None]:
    """A marker's glyph, label and colour: (label, x, y) is a ★ in the marker colour,
    (label, x, y, glyph) that glyph in the label colour (the race's ○ start)."""
    if len(item) >= 4 and isinstance(item[3], str) and len(item[3]) == 1:
        return item[3], str(item[0]), pal.label
    return "★", str(item[0]), pal.marker


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


NEGLIGIBLE = 1e-5
"""A field whose range is below this share of its magnitude is flat: float noise (the single
neuron on XOR: 0.5 ± 1e-7), drawn in the neutral colour, not stretched to saturated corners."""


def flat(zmin: float, zmax: float) -> bool:
    """Whether the range [zmin, zmax] is negligible next to the values' size."""
    return zmax - zmin <= NEGLIGIBLE * max(abs(zmin), abs(zmax))


def _finite_range(z: Any) -> tuple[float, float] | None:
    a = np.asarray(z if z is not None else [], dtype=float)
    fin = a[np.isfinite(a)]
    return (float(fin.min()), float(fin.max())) if fin.size else None


def _class_color(pal: Palette, label: int) -> str | None:
    """The glyph colour of class `label` in `pal` (0 and -1 alike; None: the default colour)."""
    if label <= 1:
        return pal.classes[max(label, 0)] or None
    return pal.series[(label - 2) % len(pal.series)] or None


def field_key(data: dict[str, Any], colors: str | None = None) -> Text:
    """What the colours (or, in mono, the shading characters) and glyphs of a field mean, in a
    few cells for the panel's subtitle: "blue<0.5<red ●1 ○0", "purple<yellow", "grey=flat"."""
    d = data or {}
    pal = get_palette(colors)
    rng = _finite_range(d.get("z"))
    key = Text()
    if rng is None:
        return key
    diverging = bool(d.get("diverging"))
    ramp = pal.diverging if diverging else pal.sequential

    def ink(color: str | None) -> str | None:
        return None if pal.mono else color

    if flat(*rng):
        # the range line gives the value (output=0.5±6e-08); the key says it is flat
        key.append("flat" if pal.mono else "grey=flat", style=ink(pal.neutral))
    elif diverging:
        centre = _number(d.get("boundary"))
        low = pal.low_name if not pal.mono else "".join(ramp[: len(ramp) // 2])
        high = pal.high_name if not pal.mono else "".join(ramp[len(ramp) // 2 :])
        key.append(low, style=ink(ramp[0]))
        key.append(f"<{fmt_num(centre if centre is not None else 0.0, 3)}<", style=pal.dim)
        key.append(high, style=ink(ramp[-1]))
    else:
        if pal.mono:
            key.append("<".join(ramp))
        else:
            key.append(pal.seq_names[0], style=ramp[1])
            key.append("<", style=pal.dim)
            key.append(pal.seq_names[1], style=ramp[-1])
    labels = np.asarray(d.get("labels") if d.get("labels") is not None else [], dtype=float)
    classes = sorted({max(int(v), 0) for v in labels.ravel() if np.isfinite(v)}, reverse=True)
    if d.get("points") is not None and len(classes) > 1:
        for k in classes:
            key.append(" ")
            key.append(class_glyph(k), style=ink(_class_color(pal, k)))
            key.append(str(k), style=pal.dim)
    return key


def render_field2d(
    data: dict[str, Any], width: int, height: int, colors: str | None = None, **options: Any
) -> Text:
    """The field, its contours/boundary, points, trajectories and markers as half-block Text
    (in the `colors` palette: truecolor, 256, 16 or mono; see dltui.render.palettes)."""
    d = {**(data or {}), **options}
    pal = get_palette(colors)
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
        (
            pal.heads[i % len(pal.heads)],
            str(name),
            pal.series[i % len(pal.series)] or None,
            selected is not None and name == selected,
        )
        for i, (name, _) in enumerate(paths)
    ] + [(*_marker_look(m, pal), False) for m in markers]
    diverging = bool(d.get("diverging"))
    ramp = pal.diverging if diverging else pal.sequential
    zname = str(d.get("zlabel") or "z")
    fin = z[np.isfinite(z)]
    zmin, zmax = float(fin.min()), float(fin.max())
    log, boundary = bool(d.get("log")), _number(d.get("boundary"))
    xname, yname = str(d.get("xlabel") or "x"), str(d.get("ylabel") or "y")
    if flat(zmin, zmax):
        half = (zmax - zmin) / 2
        zrange = f"{zname}={fmt_num(zmin + half, 4)}" + (f"±{fmt_num(half, 2)}" if half else "")
    else:
        zrange = f"{'log ' if log else ''}{zname}∈[{fmt_num(zmin, 3)},{fmt_num(zmax, 3)}]"
    xrange = f"{xname}∈[{fmt_num(x[0], 3)},{fmt_num(x[-1], 3)}]"
    yrange = f"{yname}∈[{fmt_num(y[0], 3)},{fmt_num(y[-1], 3)}]"
    # every range whole or not at all: when not all fit, z (what the colours show) comes first
    max_rows = 0 if height <= 4 else 1 if height <= 12 else 2
    choices = ([xrange, yrange, zrange], [zrange, xrange], [zrange], [])
    footer = next(f for c in choices if (f := _flow(c, width, max_rows)) is not None)
    legend = (
        _legend_lines(entries, width, 2 if height >= 12 else 1) if height > 6 and entries else []
    )
    rows, cols = height - len(legend) - len(footer), width
    canvas = Canvas(width, height, [] if pal.mono else list(ramp))
    # mono draws one character a cell; colours draw two pixels a cell (half-blocks)
    prow = rows if pal.mono else 2 * rows

    # colour the field
    zs = _resample(z, x, y, prow, cols)
    eps = max((zmax - zmin) * 1e-3, 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.log10(np.maximum(zs - zmin, 0) + eps) if log else zs
    vfin = v[np.isfinite(v)]
    lo, hi = (float(vfin.min()), float(vfin.max())) if vfin.size else (0.0, 1.0)
    n = len(ramp)
    if flat(zmin, zmax):  # nothing to tell apart: one neutral colour, no lines
        neutral = -2 if pal.mono else canvas.color(pal.neutral)
        pix = np.where(np.isfinite(zs), neutral, -1).astype(np.int32)
    elif diverging:
        centre = boundary if boundary is not None else 0.0
        pix = quantize_diverging(zs, centre, float(np.nanmax(np.abs(fin - centre))), n)
    else:
        pix = quantize(v, lo, hi, n)
    pix = pix.astype(np.int32)

    if pal.mono:
        chars = np.array([*ramp, pal.neutral or " "], dtype="<U1")
        shaded = np.where(pix == -1, " ", chars[np.where(pix < 0, n, pix)])
        canvas.chars[:rows, :cols] = shaded[:rows, :cols]
    else:
        # contour lines: a darker (or, on dark colours, lighter) shade of the colour underneath
        levels = _resolvable(_levels(d.get("levels"), lo, hi, log, zmin, eps), v)
        if levels.size and pal.contours and not flat(zmin, zmax):
            to_contrast = np.array([canvas.color(pal.contrast(ramp, i)) for i in range(n)])
            band = np.searchsorted(levels, np.nan_to_num(v, nan=-np.inf))
            line = _edges(band) & (pix >= 0) & (pix < n)
            pix[line] = to_contrast[pix[line]]
        if boundary is not None and not flat(zmin, zmax) and pal.boundary:
            side = np.where(np.isfinite(zs), zs >= boundary, -1)
            pix[_edges(side) & np.isfinite(zs)] = canvas.color(pal.boundary)
        canvas.pixels(0, 0, pix)

    # data points, glyph and colour by class
    per_cell = 1 if pal.mono else 2
    pts = d.get("points")
    if pts is not None and np.size(pts):
        pp = _to_pixels(pts, x, y, prow, cols)
        labels = np.asarray(d.get("labels") if d.get("labels") is not None else [], dtype=float)
        labels = labels.ravel() if labels.size == len(pp) else np.zeros(len(pp))
        ok = np.all(np.isfinite(pp), axis=1) & (pp[:, 0] >= 0) & (pp[:, 0] < cols)
        ok &= (pp[:, 1] >= 0) & (pp[:, 1] < prow)
        for (pc, pr), lab in zip(pp[ok].astype(int).tolist(), labels[ok].tolist()):
            k = int(lab) if np.isfinite(lab) else 0
            canvas.text(pr // per_cell, pc, class_glyph(k), fg=_class_color(pal, k), bold=True)
            if not pal.mono:
                canvas.bg[pr // 2, pc] = pix[pr, pc]

    # trajectories: braille lines from the start to a bold head now, the selected one brighter
    # and on top; markers (★ minima, a start) under the current positions
    order = sorted(range(len(paths)), key=lambda i: entries[i][3])
    dim = any(e[3] for e in entries)
    heads = []
    for i in order:
        head, _, color, chosen = entries[i]
        path = paths[i][1]
        tp = _to_pixels(path, x, y, 2 * rows, cols) if np.size(path) else np.zeros((0, 2))
        r, c, bits = _path_dots(tp, cols, rows)
        canvas.chars[r, c] = [chr(0x2800 + b) for b in bits.tolist()]
        faded = shade([color], 0.65)[0] if color and dim and not chosen else color
        canvas.fg[r, c], canvas.bold[r, c] = canvas.color(faded), chosen
        heads.append((color, head, tp[np.all(np.isfinite(tp), axis=1)][-1:] if len(tp) else tp))
    for item in markers:
        mp = _to_pixels([item[1], item[2]], x, y, 2 * rows, cols)[0]
        if np.isfinite(mp).all() and 0 <= mp[0] < cols and 0 <= mp[1] < 2 * rows:
            glyph, _, color = _marker_look(item, pal)
            canvas.text(int(mp[1]) // 2, int(mp[0]), glyph, fg=color, bold=True, keep_bg=True)
    for color, head, last in heads:
        for pc, pr in last.tolist():
            if 0 <= pc < cols and 0 <= pr < 2 * rows:
                canvas.text(int(pr) // 2, int(pc), head, fg=color, bold=True, keep_bg=True)

    # legend (the selected trajectory's name in reverse) and ranges (each whole or not at all)
    row = rows
    for sep, line in legend:
        col = 0
        for k, (glyph, name, color, chosen) in enumerate(line):
            col += canvas.text(row, col, sep if k else "")
            col += canvas.text(row, col, glyph, fg=color, bold=True)
            if chosen and color:
                col += canvas.text(row, col, name, fg="#000000", bg=color, bold=True)
            else:
                col += canvas.text(row, col, name, fg=pal.label, bold=chosen)
        row += 1
    for line in footer:
        canvas.text(row, 0, line, fg=pal.dim)
        row += 1
    return canvas.to_text()


def _flow(items: list[str], width: int, max_rows: int) -> list[str] | None:
    """The items in at most `max_rows` lines of `width` cells, one space apart, in order, each
    whole; None when they do not fit."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 1 + len(item) <= width:
            lines[-1] += " " + item
        else:
            lines.append(item)
    ok = len(lines) <= max_rows and all(len(line) <= width for line in lines)
    return lines if ok else None
