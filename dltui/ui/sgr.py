"""Terminal styles as values: parse SGR sequences, and write the shortest change between two.

Textual writes every styled run as `ESC[<all its codes>m text ESC[0m`; most of those codes
repeat what the terminal already has. `Style` is what a cell's SGR state is (its attributes,
foreground, background, as the codes that set them); `apply(style, params)` is the style after
`ESC[<params>m` (None when the codes are beyond what is modelled: an "off" code, a colon form,
an underline colour), and `delta(shown, wanted, blank)` the shortest sequence that takes the
terminal from one to the other: the codes that changed (a new background alone is
`ESC[48;2;r;g;bm`) or a reset and the whole style when an attribute must go, whichever is
shorter. `blank(char, style)` says what a cell shows, so that cells that look the same compare
equal: a space shows only its background (unless reverse, underline or strike show the rest),
and a half block whose two halves have one colour is a space of that colour.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

_ATTRS = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "9", "21", "51", "52", "53"})
SHOW_ON_SPACES = frozenset({"4", "7", "9", "21", "51", "52", "53"})
"""Attributes a blank cell shows: underline, reverse, strike, frame, overline (bold, dim,
italic, blink and conceal do not change a space)."""


class Style(NamedTuple):
    attrs: frozenset[str]
    fg: str
    """The SGR codes of the colour ("38;2;1;2;3", "38;5;17", "31"); "" for the default."""
    bg: str

    def codes(self) -> list[str]:
        return [*sorted(self.attrs, key=int), *(c for c in (self.fg, self.bg) if c)]


PLAIN = Style(frozenset(), "", "")


@lru_cache(maxsize=8192)
def apply(style: Style | None, params: str) -> Style | None:
    """`style` after `ESC[<params>m`; None when `params` holds anything not modelled, or
    builds on an unknown (None) style without resetting it first."""
    codes = params.split(";") if params else ["0"]
    if style is None and codes[0] not in ("0", ""):
        return None
    attrs, fg, bg = style if style is not None else PLAIN
    i = 0
    while i < len(codes):
        code = codes[i]
        n = int(code) if code.isdigit() else -1
        if n in (38, 48):  # 38;5;n or 38;2;r;g;b
            size = {"5": 3, "2": 5}.get(codes[i + 1] if i + 1 < len(codes) else "", 0)
            if not size or i + size > len(codes):
                return None
            color = ";".join(codes[i : i + size])
            fg, bg = (color, bg) if n == 38 else (fg, color)
            i += size
            continue
        if n == 0 or code == "":
            attrs, fg, bg = PLAIN
        elif code in _ATTRS:
            attrs = attrs | {code}
        elif 30 <= n <= 37 or 90 <= n <= 97:
            fg = code
        elif 40 <= n <= 47 or 100 <= n <= 107:
            bg = code
        elif n == 39:
            fg = ""
        elif n == 49:
            bg = ""
        else:
            return None
        i += 1
    return Style(frozenset(attrs), fg, bg)


def _same_colour(fg: str, bg: str) -> bool:
    """Whether foreground codes `fg` and background codes `bg` name one colour."""
    if fg.startswith("38;") and bg.startswith("48;"):
        return fg[3:] == bg[3:]
    if fg.isdigit() and bg.isdigit():
        return int(fg) + 10 == int(bg)
    return False


@lru_cache(maxsize=8192)
def blank(char: str, style: Style) -> tuple[str, Style]:
    """The cell as it looks: a space with only what a space shows (its background), for a
    space or for a half block whose two halves have the same colour; else as it is."""
    if char in "▀▄" and style.bg and _same_colour(style.fg, style.bg):
        char = " "
    if char == " " and not style.attrs & SHOW_ON_SPACES and (style.fg or style.attrs):
        return " ", Style(frozenset(), "", style.bg)
    return char, style


@lru_cache(maxsize=8192)
def delta(shown: Style | None, wanted: Style, blank: bool = False) -> tuple[str, Style]:
    """The shortest SGR sequence taking the terminal from `shown` (None: unknown) to `wanted`,
    and the style it then has. `blank`: only spaces follow, and `wanted` is a space's look (see
    `blank()`), so only the background must change: the rest may stay as it was."""
    if shown == wanted:
        return "", shown
    if blank and shown is not None and not (shown.attrs | wanted.attrs) & SHOW_ON_SPACES:
        if shown.bg == wanted.bg:
            return "", shown
        return f"\x1b[{wanted.bg or '49'}m", shown._replace(bg=wanted.bg)
    whole = "\x1b[" + ";".join(["0", *wanted.codes()]) + "m"
    if shown is None or shown.attrs - wanted.attrs:
        return whole, wanted
    parts = sorted(wanted.attrs - shown.attrs, key=int)
    if wanted.fg != shown.fg:
        parts.append(wanted.fg or "39")
    if wanted.bg != shown.bg:
        parts.append(wanted.bg or "49")
    short = "\x1b[" + ";".join(parts) + "m"
    return (short if len(short) < len(whole) else whole), wanted
