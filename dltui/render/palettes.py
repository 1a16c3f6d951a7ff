"""Palettes made for each terminal colour depth, and the choice of one from the terminal's.

A terminal that shows 16 colours turns a smooth 32-step colour map into grey and ochre stripes,
and 256 colours turn its dark shades olive and teal: Rich picks the nearest colour of the
terminal, whatever its hue. So the field and heatmap renderers take a palette made for the
terminal's depth (the option `colors`, one of `COLOR_SYSTEMS`):

- `truecolor`: the smooth 32-level maps of `dltui.render.colors`.
- `256`: maps of exact xterm-256 colours (Rich sends each one unchanged): blues and reds of one
  hue each side of a grey centre, a viridis-like sequential map, contour shades of the same hue.
- `16`: solid ANSI colours, no interpolated bands: bright blue / blue / red / bright red (a
  light/dark split by how far a value is from the centre), a 5-colour sequential map.
- `mono` (NO_COLOR): no colours at all; regions are told apart by shading characters
  (· ░ ▒ ▓, denser = larger) and data points by their glyphs (○ ● × +).

`palette_name(color_system, no_color, headless, forced)` maps Rich's `Console.color_system`
("truecolor", "256", "standard", "windows" or None) and NO_COLOR to one of them; `PALETTES[name]` is the `Palette`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich._palettes import STANDARD_PALETTE
from rich.color import Color

from .colors import (
    BOUNDARY,
    CLASS_COLORS,
    DIM,
    DIVERGING,
    MARKER,
    SEQUENTIAL,
    SERIES,
    luminance,
    shade,
)

COLOR_SYSTEMS = ("truecolor", "256", "16", "mono")


def palette_name(
    color_system: str | None, no_color: bool = False, headless: bool = False, forced: bool = False
) -> str:
    """The palette for a terminal: Rich's colour system name (None: no colour) and NO_COLOR.

    A headless app (screenshots, snapshot tests) draws in truecolor whatever the TERM it runs
    under, so its SVGs are the same everywhere, unless the colour system is `forced`
    (TEXTUAL_COLOR_SYSTEM=standard: an SVG of what a 16-colour terminal shows)."""
    if headless and not forced:
        return "truecolor"
    if no_color or color_system is None:
        return "mono"
    return {"truecolor": "truecolor", "256": "256"}.get(color_system, "16")


@dataclass(frozen=True)
class Palette:
    """The colours (or, for `mono`, characters) one colour depth draws fields and matrices with.

    `diverging` runs low → high (blue → `neutral` → red), `sequential` low → high. In a `mono`
    palette the maps hold characters, not colours: each level is drawn as its character.
    `contours`: whether contour lines are drawn (solid maps show their bands already).
    `low_name` / `high_name` / `seq_names` name the ends of the maps in a colour key.
    """

    name: str
    diverging: tuple[str, ...]
    sequential: tuple[str, ...]
    neutral: str | None
    classes: tuple[str, str]
    series: tuple[str, ...]
    """Colours of class 0 / 1 glyphs and of trajectories ("" in mono: the default colour)."""
    boundary: str | None
    marker: str | None
    dim: str | None = DIM
    """Text colour of ranges, scales and keys (None: the terminal's)."""
    label: str | None = "#d0d0d0"
    """Text colour of legend names."""
    title: str | None = "#e0e0e0"
    """Text colour of titles over matrices."""
    heads: tuple[str, ...] = ("◆",)
    """Glyphs of trajectories' current positions, one per trajectory in turn."""
    contours: bool = True
    low_name: str = "blue"
    high_name: str = "red"
    seq_names: tuple[str, str] = ("purple", "yellow")
    mono: bool = False

    def ink(self, background: str | None) -> str | None:
        """A text colour readable on `background` (black on light colours, white on dark)."""
        if self.mono or background is None:
            return None
        return "#000000" if luminance(background) > 0.45 else "#ffffff"

    def contrast(self, ramp: tuple[str, ...], index: int) -> str:
        """The contour colour over level `index` of `ramp`: a darker (on dark colours, lighter)
        shade. On 256 colours it is another level of the same map, so it keeps its hue."""
        color = ramp[index]
        if self.name == "truecolor":
            return shade([color], 0.6)[0] if luminance(color) > 0.3 else shade([color], 1.45)[0]
        if ramp is self.diverging:  # two levels towards the grey centre; grey on the centre
            mid = len(ramp) // 2
            if index == mid:
                return _xterm(246)[0]
            return ramp[min(index + 2, mid) if index < mid else max(index - 2, mid)]
        step = -3 if luminance(color) > 0.3 else 3
        return ramp[min(max(index + step, 0), len(ramp) - 1)]


COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
ANSI_NAMES = COLOURS + tuple(f"bright_{c}" for c in COLOURS)
ANSI = {
    name: "#{:02x}{:02x}{:02x}".format(*STANDARD_PALETTE[n]) for n, name in enumerate(ANSI_NAMES)
}
"""The 16 ANSI colours as the hex colours Rich maps back to exactly their SGR codes (30–37,
90–97): named colours ("bright_red") would pass through Textual's theme first and come out as
whatever standard colour is nearest to the theme's (bright red became magenta, SGR 35)."""


def _ansi(*names: str) -> tuple[str, ...]:
    return tuple(ANSI[n] for n in names)


def _xterm(*numbers: int) -> tuple[str, ...]:
    """xterm-256 colour numbers as hex (exact colours of the 256 palette)."""
    return tuple(Color.from_ansi(n).get_truecolor().hex for n in numbers)


TRUECOLOR = Palette(
    name="truecolor",
    diverging=DIVERGING,
    sequential=SEQUENTIAL,
    neutral=DIVERGING[len(DIVERGING) // 2],
    classes=CLASS_COLORS,
    series=SERIES,
    boundary=BOUNDARY,
    marker=MARKER,
)

XTERM_256 = Palette(
    name="256",
    # blue 27 … slate 60, grey 239, rosy 95 … red 196: one hue each side, stronger outwards
    diverging=_xterm(27, 63, 62, 61, 60, 239, 95, 131, 167, 203, 196),
    sequential=_xterm(53, 54, 61, 25, 31, 37, 36, 35, 77, 113, 149, 184, 220),
    neutral=_xterm(239)[0],
    classes=_xterm(117, 221),
    series=_xterm(81, 215, 114, 205, 177, 227, 79, 174),
    boundary=_xterm(231)[0],
    marker=_xterm(203)[0],
)

ANSI_16 = Palette(
    name="16",
    diverging=_ansi("bright_blue", "blue", "red", "bright_red"),
    sequential=_ansi("blue", "cyan", "green", "yellow", "bright_yellow"),
    neutral=ANSI["bright_black"],
    classes=_ansi("bright_white", "bright_yellow"),
    series=_ansi(
        "bright_cyan",
        "bright_yellow",
        "bright_green",
        "bright_magenta",
        "bright_red",
        "bright_white",
        "cyan",
        "green",
    ),
    boundary=ANSI["bright_white"],
    marker=ANSI["bright_red"],
    dim=ANSI["white"],
    label=ANSI["bright_white"],
    title=ANSI["bright_white"],
    contours=False,
    seq_names=("blue", "yellow"),
)

MONO = Palette(
    name="mono",
    diverging=("·", "░", "▒", "▓"),  # characters, not colours: denser = larger
    sequential=("·", "░", "▒", "▓", "█"),
    neutral=" ",
    classes=("", ""),
    series=("",),
    boundary=None,
    marker=None,
    dim=None,
    label=None,
    title=None,
    heads=("◆", "■", "▲", "▼", "◇", "□", "△", "▽"),  # no colours: a glyph per racer
    contours=False,
    low_name="·░",
    high_name="▒▓",
    seq_names=("·", "█"),
    mono=True,
)

PALETTES: dict[str, Palette] = {p.name: p for p in (TRUECOLOR, XTERM_256, ANSI_16, MONO)}


def get_palette(name: str | None) -> Palette:
    """The palette called `name` (truecolor when None or unknown)."""
    return PALETTES.get(name or "truecolor", TRUECOLOR)
