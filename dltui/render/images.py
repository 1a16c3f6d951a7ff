"""A grid of small grayscale maps: input digits, feature maps, convolution filters.

`render_images(data, width, height, *, columns=None)` with data {"images": [(title, (h, w)
array)], "columns": int}: every map normalised to its own min/max, quantised to 32 grey levels
(fewer bytes over SSH) and drawn with half-blocks, all scaled to one tile size (area-averaged
when shrinking, nearest when enlarging, aspect kept). The grid takes as many columns as give
the largest tiles (or `columns`); titles go above the tiles when they cost little. A map is never
shrunk below half its size (nor below MIN_SIDE pixels): a 14×14 feature map at 5 pixels no longer
shows the digit. When the maps do not all fit at that size, the first ones are shown with a
"+n more" line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from .colors import DIM, GREY, LEVELS, Canvas
from .text import message

GAP = 1  # columns between tiles
MIN_SIDE = 4  # smallest tile (pixels) worth drawing before dropping maps instead
MAX_SHRINK = 2  # ... and no map is shrunk more than this: its picture must stay readable


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
    """The last two axes of `a` at (rows, cols): block means shrinking, nearest enlarging."""
    for axis, out in ((a.ndim - 2, rows), (a.ndim - 1, cols)):
        n = a.shape[axis]
        if out < n:
            edges = np.arange(out) * n // out
            shape = [1] * a.ndim
            shape[axis] = out
            counts = np.diff(np.append(edges, n)).reshape(shape)
            a = np.add.reduceat(a, edges, axis=axis) / counts
        elif out > n:
            a = np.take(a, np.arange(out) * n // out, axis=axis)
    return a


def _tiles(maps: list[np.ndarray], box_h: int, box_w: int) -> list[np.ndarray]:
    """Each map fitted into box_h × box_w pixels (own aspect), as grey indices (-1: no value).

    Maps of one shape are resampled and normalised together: one numpy pass per shape.
    """
    out: list[np.ndarray] = [np.zeros((0, 0), int)] * len(maps)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, m in enumerate(maps):
        groups.setdefault(m.shape, []).append(i)
    for (h, w), idx in groups.items():
        fitted = min(box_h / h, box_w / w)
        stack = np.stack([maps[i] for i in idx])
        img = resample(
            np.where(np.isfinite(stack), stack, np.nan),
            max(1, round(h * fitted)),
            max(1, round(w * fitted)),
        )
        fin = np.isfinite(img)
        lo = np.where(fin, img, np.inf).min(axis=(1, 2), keepdims=True)
        hi = np.where(fin, img, -np.inf).max(axis=(1, 2), keepdims=True)
        span = np.where(hi > lo, hi - lo, 1.0)
        with np.errstate(invalid="ignore"):
            q = np.clip(np.floor((img - lo) / span * LEVELS), 0, LEVELS - 1)
        q = np.where(hi > lo, q, 3)  # a constant (e.g. dead) map: dark grey, not invisible
        q = np.where(fin, q, -1).astype(np.int32)
        for j, i in enumerate(idx):
            out[i] = q[j]
    return out


def _layout(
    n: int, width: int, height: int, shape: tuple[int, int], columns: int | None, titles: bool
) -> tuple[float, int, int, int, int]:
    """Best (scale, columns, tile width, tile pixel rows, row pitch in cells) for n tiles of
    aspect `shape`. Untitled rows of tiles keep one empty pixel row below each tile, however
    small, so a grid of maps reads as tiles, not as stripes (MNIST's 7×7 layer-2 maps at 4
    pixels stacked into one block)."""
    best = (0.0, 1, 0, 0, 1)
    options = [max(1, min(int(columns), n))] if columns else range(1, n + 1)
    for ncols in options:
        nrows = -(-n // ncols)
        tw = (width - GAP * (ncols - 1)) // ncols
        pitch = height // nrows
        gap = 0 if titles or nrows == 1 else 1
        th = 2 * (pitch - titles) - gap
        if tw >= 1 and th >= 2:
            best = max(best, (min(th / shape[0], tw / shape[1]), ncols, tw, th, pitch))
    return best


def render_images(
    data: dict[str, Any], width: int, height: int, *, columns: int | None = None, **_: Any
) -> Text:
    """The maps in a grid of equal tiles, each under its title when there is room."""
    data = data or {}
    maps = [(str(t), _image(a)) for t, a in list(data.get("images") or [])]
    maps = [(t, m) for t, m in maps if m.size]
    if not maps or width < 1 or height < 1:
        return message("no data yet", width, height)
    columns = columns or data.get("columns")
    shape = (max(m.shape[0] for _, m in maps), max(m.shape[1] for _, m in maps))
    side = max(shape)
    min_side = min(side, max(MIN_SIDE, -(-side // MAX_SHRINK)))

    def fit(n: int) -> tuple[bool, tuple]:
        """n maps laid out (a "+k more" line takes a row when n < all): large enough?"""
        grid_h = height if n == len(maps) else height - 1
        plain = _layout(n, width, grid_h, shape, columns, False)
        titled = _layout(n, width, grid_h, shape, columns, True)
        with_titles = titled[0] >= 0.75 * plain[0] and titled[0] * side >= 8
        chosen = titled if with_titles else plain
        return chosen[0] * side >= min_side or n == 1 or grid_h <= 1, (with_titles, *chosen)

    ok, layout = fit(len(maps))
    shown = len(maps)
    if not ok:  # the most maps that still fit at a readable size (binary search)
        lo, hi = 1, len(maps) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fit(mid)[0] else (lo, mid - 1)
        shown = lo
        layout = fit(shown)[1]
    with_titles, scale, ncols, tw, th, pitch = layout
    cv = Canvas(width, height, GREY)
    box_h, box_w = min(th, max(1, int(scale * shape[0]))), min(tw, max(1, int(scale * shape[1])))
    shown = shown if scale > 0 else 0
    tiles = _tiles([m for _, m in maps[:shown]], box_h, box_w)
    pix = np.full((2 * height, width), -1, dtype=np.int32)
    places = [((k // ncols) * pitch, (k % ncols) * (tw + GAP)) for k in range(shown)]
    for (top, left), tile in zip(places, tiles):
        r0 = 2 * (top + with_titles)
        h, w = pix[r0 : r0 + tile.shape[0], left : left + tile.shape[1]].shape
        pix[r0 : r0 + h, left : left + w] = tile[:h, :w]
    cv.pixels(0, 0, pix)
    for (top, left), (title, _) in zip(places if with_titles else [], maps):
        cv.text(top, left, title[:tw], fg=DIM)
    if shown < len(maps):
        cv.text(height - 1, 0, f"+{len(maps) - shown} more (enlarge the panel to see all)", fg=DIM)
    return cv.to_text()
