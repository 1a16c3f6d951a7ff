"""Matrices (weights, gradients, confusion matrices) as diverging-colour heatmaps.

`render_heatmap(data, width, height)` with data {"matrices": [(title, (r, c) array)],
"row_labels": [...], "col_labels": [...], "vmax": optional} lays the matrices out in the grid
(side by side or stacked) that gives them the most room. Each gets a title line "title ±max" and
a blue → grey → red map centred on 0 scaled to its own largest |value|, or to `vmax` when given:
larger values saturate, so small entries next to huge ones (a confusion matrix's mistakes beside
its diagonal) stay visible. When every cell gets 8 characters (integer arrays: their longest
number + 2) the values are printed on their colour ("+1.234", integers as integers); otherwise
each element is a block of half-block pixels (large matrices are subsampled). Labels are shown
on the matrices whose shape they match.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import DIM, Canvas, quantize_diverging
from .palettes import TRUECOLOR, Palette, get_palette
from .text import fmt_num, message

CELL = 8  # characters per printed value: " +5.8e-3"
GAP = 2  # columns between matrices side by side


def cell_str(v: float, integers: bool = False) -> str:
    """A value in at most 7 characters: +1.234, -12.34, +123.4, +5.8e-3, 42 (integers), nan."""
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("+inf" if v > 0 else "-inf")
    a = abs(v)
    if integers and a < 1e6:
        return str(int(v))
    if a == 0:
        return "0"
    if a < 1e-2 or a >= 99999.5:
        mant, exp = f"{v:+.1e}".split("e")
        return f"{mant}e{int(exp)}"
    digits = 3 if a < 9.9995 else 2 if a < 99.995 else 1 if a < 999.95 else 0
    return f"{v:+.{digits}f}"


def _matrix(a: Any) -> np.ndarray:
    """Any array-like as a 2-D array (1-D → one row; more dims folded into columns): int64 for
    integer input (counts), float otherwise."""
    m = np.asarray(a if a is not None else [])
    m = m.astype(np.int64 if m.dtype.kind in "iub" else float)
    if m.ndim == 0:
        m = m.reshape(1, 1)
    elif m.ndim == 1:
        m = m.reshape(1, -1)
    elif m.ndim > 2:
        m = m.reshape(m.shape[0], -1)
    return m


def _cell_width(m: np.ndarray) -> int:
    """Characters a printed value needs: CELL, or for counts (an integer array) their longest
    number + 2, so a 10×10 confusion matrix prints where 10 floats would not fit."""
    if m.dtype.kind != "i" or np.abs(m).max() >= 1e6:
        return CELL
    return max(len(str(v)) for v in m.flat) + 2


def _fits_numbers(m: np.ndarray, w: int, h: int, label_w: int, header: int) -> bool:
    return label_w + m.shape[1] * _cell_width(m) <= w and m.shape[0] + header <= h


def _layout(mats: list, width: int, height: int, label_w: int, header: int) -> tuple:
    """Grid columns maximising (matrices with numbers, smallest pixel scale, columns)."""
    best: tuple = ()
    for ncols in range(1, len(mats) + 1):
        nrows = -(-len(mats) // ncols)
        tw, th = (width - GAP * (ncols - 1)) // ncols, height // nrows - 1
        if tw < 1 or th < 1:
            continue
        numbers = sum(_fits_numbers(m, tw, th, label_w, header) for _, m in mats)
        scale = min(min(2 * th / m.shape[0], tw / m.shape[1]) for _, m in mats)
        score = (numbers, scale, ncols)
        best = max(best, (score, ncols, nrows, tw, th)) if best else (score, ncols, nrows, tw, th)
    return best[1:] if best else (1, len(mats), width, max(height // len(mats) - 1, 0))


def _draw_numbers(
    cv: Canvas,
    top: int,
    left: int,
    m: np.ndarray,
    idx: np.ndarray,
    rows: list[str],
    cols: list[str],
    label_w: int,
    cw: int,
    pal: Palette,
) -> None:
    """Values printed on their colours (in mono: plain, the sign says it), with labels."""
    fin = m[np.isfinite(m)]
    integers = bool(fin.size) and bool(np.all(fin == np.round(fin)))
    if cols:
        for j in range(m.shape[1]):
            cv.text(
                top, left + label_w + j * cw, f"{cols[j % len(cols)][: cw - 2]:>{cw - 1}}", fg=DIM
            )
        top += 1
    for i in range(m.shape[0]):
        if rows:
            cv.text(top + i, left, f"{rows[i % len(rows)][: label_w - 1]:<{label_w}}", fg=pal.dim)
        for j in range(m.shape[1]):
            bg = cv.palette[idx[i, j]] if idx[i, j] >= 0 and not pal.mono else None
            fg = pal.ink(bg) if bg else (None if pal.mono else "#ffffff")
            value = cell_str(m[i, j], integers)
            cv.text(top + i, left + label_w + j * cw, f"{value:>{cw - 1}} ", fg, bg)


def _draw_pixels(
    cv: Canvas,
    top: int,
    left: int,
    tw: int,
    th: int,
    idx: np.ndarray,
    rows: list[str],
    cols: list[str] = (),
    pal: Palette = TRUECOLOR,
) -> None:
    """Each element as a block of pixels (in mono: of shading characters, one a cell);
    rows/cols subsampled when the matrix is larger.
    Labels stay where there is room: a row of column labels on top, row labels on the left,
    one per text row, or, where a text row holds two matrix rows (half blocks), both ("01":
    row 0 in the upper half, row 1 in the lower)."""
    r, c = idx.shape
    mono = pal.mono
    per = 1 if mono else 2  # matrix rows a text row can hold: mono draws one character a cell
    if cols and th >= 3 and tw // c >= 1:
        th -= 1
        top += 1
    else:
        cols = []
    ph, pw = max(1, per * th // r), max(1, tw // c)
    label_w = 0
    if rows and tw // 4 >= 2 and (ph >= per or r <= per * th):
        ph = ph - ph % per if ph >= per else 1
        per_row = ph >= per
        names = (
            rows
            if per_row
            else [rows[i] + (rows[i + 1] if i + 1 < r else "") for i in range(0, r, 2)]
        )
        label_w = min(max(len(s) for s in names) + 1, tw // 4)
        pw = max(1, (tw - label_w) // c)
        for k, name in enumerate(names):
            cv.text(top + (k * ph // per if per_row else k), left, name[: label_w - 1], fg=pal.dim)
    if cols:
        for j in range(c):
            if pw * j < tw - label_w:
                cv.text(top - 1, left + label_w + pw * j, cols[j][:pw], fg=pal.dim)
    n = min(r * ph, per * th)
    ri = np.arange(n) * r // n if ph == 1 else None
    ci = np.arange(min(c * pw, tw - label_w)) * c // min(c * pw, tw - label_w) if pw == 1 else None
    pix = idx[ri] if ri is not None else np.repeat(idx, ph, axis=0)
    pix = pix[:, ci] if ci is not None else np.repeat(pix, pw, axis=1)
    if mono:
        cells = np.array([*pal.diverging, " "], dtype="<U1")[pix]
        h, w = min(cells.shape[0], cv.height - top), min(cells.shape[1], cv.width - left - label_w)
        cv.chars[top : top + h, left + label_w : left + label_w + w] = cells[:h, :w]
        return
    if pix.shape[0] % 2:
        pix = np.vstack([pix, np.full((1, pix.shape[1]), -1)])
    cv.pixels(top, left + label_w, pix)


def heatmap_key(colors: str | None = None) -> Text:
    """What a heatmap's colours mean, for the panel's subtitle: "blue<0<red" (mono: "·░<0<▒▓")."""
    pal = get_palette(colors)
    half = len(pal.diverging) // 2
    if pal.mono:
        return Text(f"{''.join(pal.diverging[:half])}<0<{''.join(pal.diverging[half:])}")
    key = Text()
    key.append(pal.low_name, style=pal.diverging[0])
    key.append("<0<", style=pal.dim)
    key.append(pal.high_name, style=pal.diverging[-1])
    return key


def render_heatmap(
    data: dict[str, Any], width: int, height: int, colors: str | None = None, **_: Any
) -> Text:
    """Each matrix with a title and ±max scale; numbers when they fit, else colour blocks (in
    the `colors` palette: truecolor, 256, 16 or mono; see dltui.render.palettes)."""
    data = data or {}
    pal = get_palette(colors)
    mats = [(str(t), _matrix(a)) for t, a in list(data.get("matrices") or [])]
    mats = [(t, m) for t, m in mats if m.size]
    if not mats or width < 1 or height < 1:
        return message("no data yet", width, height)
    rows = [str(s) for s in data.get("row_labels") or []]
    cols = [str(s) for s in data.get("col_labels") or []]
    label_w = max((len(s) for s in rows), default=-1) + 1
    header = int(bool(cols))
    ncols, nrows, tw, th = _layout(mats, width, height, label_w, header)
    # One column of slots each as tall as its matrix, when that prints every number: a small
    # net's W (2×3) above its bias row needs no equal share of the height.
    stacked = [m.shape[0] + header for _, m in mats]
    if sum(h + 1 for h in stacked) <= height and all(
        _fits_numbers(m, width, h, label_w, header) for (_, m), h in zip(mats, stacked)
    ):
        tops = np.cumsum([0] + [h + 1 for h in stacked])
        slots = [(int(t), 0, width, h) for t, h in zip(tops, stacked)]
    else:
        slots = [
            ((k // ncols) * (th + 1), (k % ncols) * (tw + GAP), tw, th)
            for k in range(min(len(mats), ncols * nrows))
        ]
    cv = Canvas(width, height, [] if pal.mono else pal.diverging)
    clip = data.get("vmax")
    for (title, m), (top, left, tw, th) in zip(mats, slots):
        fin = np.abs(m[np.isfinite(m)])
        vmax = float(fin.max()) if fin.size else 0.0
        scale = f"±{fmt_num(vmax, 3)}"
        if clip is not None and 0 < float(clip) < vmax:
            vmax = float(clip)
            scale = f"clip ±{fmt_num(vmax, 3)}"
        room = max(tw - len(scale) - 1, min(len(title), tw // 2), 1)  # the title first
        used = cv.text(top, left, title[:room] + " ", fg=pal.title, bold=True)
        cv.text(top, left + used, scale[: max(tw - used, 0)], fg=pal.dim)
        idx = quantize_diverging(m, 0.0, vmax, len(pal.diverging)).astype(np.int32)
        if len(pal.diverging) % 2 == 0:  # no middle level (16 colours, mono): 0 is neutral
            idx[m == 0] = len(pal.diverging) if pal.mono else cv.color(pal.neutral)
        if th < 1:
            continue
        r_labels = rows if len(rows) == m.shape[0] else []  # labels only where they match
        c_labels = cols if len(cols) == m.shape[1] else []
        if _fits_numbers(m, tw, th, label_w, int(bool(c_labels))):
            base = _cell_width(m)
            cw = min(max(base, (tw - label_w) // m.shape[1]), base + 2)
            _draw_numbers(cv, top + 1, left, m, idx, r_labels, c_labels, label_w, cw, pal)
        else:
            _draw_pixels(cv, top + 1, left, tw, th, idx, r_labels, c_labels, pal)
    return cv.to_text()
