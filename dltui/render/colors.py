"""Colour maps, cached styles and the cell canvas the half-block renderers paint on.

Provides:
- `DIVERGING`, `SEQUENTIAL`, `GREY`: colour maps as tuples of `LEVELS` (32) hex colours, made
  for a dark terminal (the diverging map runs blue → dark grey → red, so zero fades back).
- `SERIES`: eight distinct colours for lines and trajectories; `CLASS_COLORS` for class 0/1.
- `quantize` / `quantize_diverging`: values → colour indices (-1 where not finite).
- `cell_style`: a cached `rich.style.Style` per (fg, bg, bold) (building Styles per cell is slow).
- `Canvas`: a grid of cells (char, fg, bg, bold) with `pixels()` for the half-block technique
  ('▀' with fg = top pixel, bg = bottom pixel: two pixel rows per terminal row), `text()` for
  labels, and `to_text()` which run-length encodes the styles into one `rich.text.Text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Span, Text

LEVELS = 32
"""Number of colours in every map: enough for smooth fields, few bytes over SSH."""


def ramp(stops: Sequence[tuple[int, int, int]], n: int = LEVELS) -> tuple[str, ...]:
    """`n` hex colours interpolated linearly through the RGB `stops`."""
    s = np.asarray(stops, dtype=float)
    t = np.linspace(0.0, len(s) - 1.0, n)
    i = np.minimum(t.astype(int), len(s) - 2)
    f = (t - i)[:, None]
    rgb = np.rint(s[i] * (1 - f) + s[i + 1] * f).astype(int)
    return tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb)


def shade(colors: Sequence[str], factor: float) -> tuple[str, ...]:
    """Each colour scaled towards black (factor < 1) or towards white (factor > 1)."""
    out = []
    for c in colors:
        rgb = np.array([int(c[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)
        rgb = rgb * factor if factor <= 1 else rgb + (255 - rgb) * (factor - 1)
        r, g, b = np.clip(np.rint(rgb), 0, 255).astype(int)
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return tuple(out)


def luminance(color: str) -> float:
    """Perceived brightness of a hex colour in [0, 1] (to pick black or white text on it)."""
    r, g, b = (int(color[k : k + 2], 16) / 255 for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


DIVERGING = ramp([(33, 102, 196), (70, 140, 220), (52, 52, 60), (225, 90, 60), (196, 30, 30)])
SEQUENTIAL = ramp(  # viridis, sampled
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ]
)
GREY = ramp([(0, 0, 0), (255, 255, 255)])
SERIES = ("#4fc3f7", "#ffb74d", "#81c784", "#f06292", "#ba68c8", "#fff176", "#4db6ac", "#e57373")
CLASS_COLORS = ("#7fdbff", "#ffd54f")
"""Class 0 light blue, class 1 amber; further classes take `SERIES` colours."""
BOUNDARY = "#ffffff"
MARKER = "#ff5252"
DIM = "#8a8a8a"


CLASS_GLYPHS = ("○", "●", "×", "+", "◆", "▲")
"""A glyph per class: under NO_COLOR or 16 colours the classes still read apart."""


def class_glyph(label: int) -> str:
    """The glyph of class `label`: ○ for 0 (and -1), ● for 1, then × + ◆ ▲."""
    return CLASS_GLYPHS[max(label, 0) % len(CLASS_GLYPHS)]


def class_color(label: int) -> str:
    """The glyph colour of class `label` (0 and -1 alike, so ±1 labels work too)."""
    if label <= 1:
        return CLASS_COLORS[max(label, 0)]
    return SERIES[(label - 2) % (len(SERIES) - 2) + 2]


def quantize(values: np.ndarray, lo: float, hi: float, n: int = LEVELS) -> np.ndarray:
    """Map values in [lo, hi] to indices 0..n-1; non-finite values to -1."""
    v = np.asarray(values, dtype=float)
    span = hi - lo if np.isfinite(hi - lo) and hi > lo else 1.0
    with np.errstate(invalid="ignore"):
        idx = np.floor((v - lo) / span * n)
    idx = np.clip(np.nan_to_num(idx, nan=0.0, posinf=n - 1, neginf=0), 0, n - 1).astype(np.int16)
    idx[~np.isfinite(v)] = -1
    return idx


def quantize_diverging(values: np.ndarray, centre: float, span: float, n: int = LEVELS):
    """Indices into a diverging map: `centre` maps to the middle, centre ± span to the ends."""
    span = span if np.isfinite(span) and span > 0 else 1.0
    return quantize(values, centre - span, centre + span, n)


@lru_cache(maxsize=16384)
def cell_style(fg: str | None, bg: str | None, bold: bool = False) -> Style:
    """A cached Style (Styles are hashable and immutable, so sharing them is safe)."""
    return Style(color=fg, bgcolor=bg, bold=bold or None)


class Canvas:
    """A `width` × `height` grid of cells painted at once into a `Text`.

    Colours are indices into `palette` (a list of hex strings; -1 = terminal default);
    `color(hex)` returns the index of a colour, appending it when new.
    """

    def __init__(self, width: int, height: int, palette: Sequence[str] = ()) -> None:
        self.width, self.height = max(0, width), max(0, height)
        self.palette: list[str] = list(palette)
        self._index = {c: i for i, c in enumerate(self.palette)}
        shape = (self.height, self.width)
        self.chars = np.full(shape, " ", dtype="<U1")
        self.fg = np.full(shape, -1, dtype=np.int32)
        self.bg = np.full(shape, -1, dtype=np.int32)
        self.bold = np.zeros(shape, dtype=bool)

    def color(self, hex_color: str | None) -> int:
        """Palette index of `hex_color` (None → -1, the terminal default)."""
        if hex_color is None:
            return -1
        if hex_color not in self._index:
            self._index[hex_color] = len(self.palette)
            self.palette.append(hex_color)
        return self._index[hex_color]

    def pixels(self, row: int, col: int, pix: np.ndarray) -> None:
        """Paint a (2r, c) array of palette indices as half-blocks with top-left cell (row, col).

        An odd last pixel row is dropped; pixels that fall off the canvas are cropped.
        """
        pix = np.asarray(pix)
        rows = min(pix.shape[0] // 2, self.height - row)
        cols = min(pix.shape[1], self.width - col)
        if rows <= 0 or cols <= 0 or row < 0 or col < 0:
            return
        top, bottom = pix[0 : 2 * rows : 2, :cols], pix[1 : 2 * rows : 2, :cols]
        # a missing top pixel: draw the bottom one as '▄' so no default-coloured half shows
        chars = np.where(top < 0, np.where(bottom < 0, " ", "▄"), "▀")
        box = np.s_[row : row + rows, col : col + cols]
        self.chars[box] = chars
        self.fg[box] = np.where(top < 0, bottom, top)
        self.bg[box] = np.where(top < 0, -1, bottom)
        self.bold[box] = False

    def text(
        self,
        row: int,
        col: int,
        s: str,
        fg: str | None = None,
        bg: str | None = None,
        bold: bool = False,
        keep_bg: bool = False,
    ) -> int:
        """Write `s` at (row, col), cropped to the canvas; returns the number of cells written.

        keep_bg keeps each cell's background (a glyph over a field), otherwise `bg` is set.
        """
        if not 0 <= row < self.height or col >= self.width or not s:
            return 0
        if not s.isascii():  # one cell per character: replace anything wide or zero-width
            s = "".join(ch if ch.isprintable() and cell_len(ch) == 1 else "?" for ch in s)
        start, s = (0, s[-col:]) if col < 0 else (col, s)
        s = s[: self.width - start]
        if not s:
            return 0
        end = start + len(s)
        self.chars[row, start:end] = list(s)
        self.fg[row, start:end] = self.color(fg)
        if not keep_bg:
            self.bg[row, start:end] = self.color(bg)
        self.bold[row, start:end] = bold
        return len(s)

    def to_text(self) -> Text:
        """All cells as one Text: `height` lines of `width` cells, styles run-length coded."""
        h, w = self.height, self.width
        if h == 0 or w == 0:
            return Text("\n" * max(0, h - 1), end="")
        n = len(self.palette) + 1
        key = ((self.fg.astype(np.int64) + 1) * n + (self.bg + 1)) * 2 + self.bold
        change = np.ones((h, w), dtype=bool)
        change[:, 1:] = key[:, 1:] != key[:, :-1]
        rr, cc = np.nonzero(change)
        starts = rr * (w + 1) + cc
        ends = np.append(starts[1:], h * (w + 1) - 1)
        ends = np.minimum(ends, rr * (w + 1) + w)  # a run stops at its row's end
        pal = self.palette
        fgs, bgs = self.fg[rr, cc].tolist(), self.bg[rr, cc].tolist()
        bolds, keys = self.bold[rr, cc].tolist(), key[rr, cc].tolist()
        styles: dict[int, Style] = {}
        spans = []
        for s, e, k, f, b, bold in zip(starts.tolist(), ends.tolist(), keys, fgs, bgs, bolds):
            if k == 0:  # default colours, not bold: no span
                continue
            style = styles.get(k)
            if style is None:
                fc, bc = pal[f] if f >= 0 else None, pal[b] if b >= 0 else None
                style = styles[k] = cell_style(fc, bc, bold)
            spans.append(Span(s, e, style))
        rows = np.ascontiguousarray(self.chars).view(f"<U{w}").ravel()
        return Text("\n".join(rows.tolist()), spans=spans, end="")
