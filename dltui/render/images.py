"""A grid of small grayscale maps: input digits, feature maps, convolution filters.

`render_images(data, width, height, *, columns=None)` with data {"images": [(title, (h, w)
array)], "columns": int}: every map normalised to its own min/max, quantised to 32 grey levels
(fewer bytes over SSH) and drawn with half-blocks, all scaled to one tile size (area-averaged
when shrinking, nearest when enlarging, aspect kept). The grid takes as many columns as give
the largest tiles (or `columns`); titles go above the tiles when they cost little; when even
tiny tiles do not fit, the first maps are shown with a "+n more" line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import DIM, GREY, Canvas, quantize
from .text import message

GAP = 1  # columns between tiles
MIN_SIDE = 4  # smallest tile (pixels) worth drawing before dropping maps instead


def _image(a: Any) -> np.ndarray:
    """Any array-like as a 2-D float map (colour channels averaged, extra dims folded)."""
    m = np.asarray(a if a is not None else [], dtype=float)
    if m.ndim == 3 and m.shape[-1] in (3, 4):
        m = m[..., :3].mean(axis=-1)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    elif m.ndim > 2:
        m = m.reshape(-1, m.shape[-1])
    return m.reshape(1, 1) if m.ndim == 0 else m


def resample(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """`a` at (rows, cols): block means where shrinking, nearest pixels where enlarging."""
    for axis, out in ((0, rows), (1, cols)):
        n = a.shape[axis]
        if out < n:
            edges = np.arange(out) * n // out
            counts = np.diff(np.append(edges, n))
            a = np.add.reduceat(a, edges, axis=axis) / (counts if axis else counts[:, None])
        elif out > n:
            a = np.take(a, np.arange(out) * n // out, axis=axis)
    return a


def _layout(n: int, width: int, height: int, shape: tuple[int, int], columns: int | None,
            titles: bool) -> tuple[float, int, int, int]:  # fmt: skip
    """Best (scale, columns, tile width, tile pixel rows) for n tiles of aspect `shape`."""
    best = (0.0, 1, 0, 0)
    options = [max(1, min(int(columns), n))] if columns else range(1, n + 1)
    for ncols in options:
        nrows = -(-n // ncols)
        tw = (width - GAP * (ncols - 1)) // ncols
        th = 2 * (height // nrows - titles)
        if tw >= 1 and th >= 2:
            best = max(best, (min(th / shape[0], tw / shape[1]), ncols, tw, th))
    return best


def render_images(data: dict[str, Any], width: int, height: int, *, columns: int | None = None,
                  **_: Any) -> Text:  # fmt: skip
    """The maps in a grid of equal tiles, each under its title when there is room."""
    data = data or {}
    maps = [(str(t), _image(a)) for t, a in list(data.get("images") or [])]
    maps = [(t, m) for t, m in maps if m.size]
    if not maps or width < 1 or height < 1:
        return message("no data yet", width, height)
    columns = columns or data.get("columns")
    shape = (max(m.shape[0] for _, m in maps), max(m.shape[1] for _, m in maps))
    shown, grid_h = len(maps), height
    while True:
        plain = _layout(shown, width, grid_h, shape, columns, False)
        titled = _layout(shown, width, grid_h, shape, columns, True)
        with_titles = titled[0] >= 0.75 * plain[0] and titled[0] * max(shape) >= 8
        scale, ncols, tw, th = titled if with_titles else plain
        if scale * max(shape) >= min(MIN_SIDE, max(shape)) or shown == 1 or grid_h <= 1:
            break
        shown, grid_h = max(1, int(shown * 0.8)), height - 1
    cv = Canvas(width, height, GREY)
    box_h, box_w = min(th, max(1, int(scale * shape[0]))), min(tw, max(1, int(scale * shape[1])))
    for k, (title, m) in enumerate(maps[:shown] if scale > 0 else []):
        top, left = (k // ncols) * (th // 2 + with_titles), (k % ncols) * (tw + GAP)
        if with_titles:
            cv.text(top, left, title[:tw], fg=DIM)
        fitted = min(box_h / m.shape[0], box_w / m.shape[1])  # each map keeps its own aspect
        rows, cols = max(1, round(m.shape[0] * fitted)), max(1, round(m.shape[1] * fitted))
        img = resample(np.where(np.isfinite(m), m, np.nan), rows, cols)
        fin = img[np.isfinite(img)]
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        pix = quantize(img, lo, hi).astype(np.int32) if hi > lo else np.where(fin.size, 3, -1)
        pix = np.broadcast_to(pix, img.shape)
        if pix.shape[0] % 2:
            pix = np.vstack([pix, np.full((1, pix.shape[1]), -1)])
        cv.pixels(top + with_titles, left, pix)
    if shown < len(maps):
        cv.text(height - 1, 0, f"+{len(maps) - shown} more (enlarge the panel to see all)", fg=DIM)
    return cv.to_text()
