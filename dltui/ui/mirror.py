"""Send the terminal only the cells that change what it shows.

Textual repaints whole regions: a panel row whose only change is a trajectory's head is sent
from the panel's left border on, every cell with its full truecolor style
(`ESC[38;2;r;g;b;48;2;r;g;bm▀ESC[0m`, 40 bytes for one character), and a retitled panel or an
updated header line is sent whole. `ScreenMirror` sits on the driver's write and keeps a copy of
what the terminal shows, cell by cell (character and `dltui.ui.sgr.Style`). It reads what Textual
writes, and for each run of text compares the cells with the copy: only the cells that differ
are sent, each run with a cursor move, and only the style codes that change from the cell
before (`dltui.ui.sgr.delta`). Cells that look alike compare equal (`dltui.ui.sgr.blank`: a
space shows only its background).

It models only what Textual's full-screen updates are made of: cursor moves, SGR, text of
one-cell characters, line feeds between lines. Anything else passes through in order (modes,
queries, synchronized-update marks, OSC titles); whatever may change cells it does not follow
(erasing, scrolling, wide or combining characters, styles it does not parse, hyperlinks)
passes through and makes the cells it may have touched unknown, so they are sent again next
time. `reset()` forgets everything (a resize: the terminal may have redrawn itself).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rich.cells import cell_len

from dltui.ui.sgr import Style, apply, blank, delta

_TOKEN = re.compile(
    r"\x1b\[([0-?]*)([ -/]*)([@-~])"  # CSI: parameters, intermediates, final byte
    r"|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)"  # OSC (a title, a hyperlink)
    r"|\x1b[ -/]*[0-Z\\^-~]"  # any other escape sequence
    r"|[^\x00-\x1f\x7f]+"  # text
    r"|[\x00-\x1a\x1c-\x1f\x7f]",  # one control character (not ESC)
)
_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[ -/]*)\Z")
"""The start of an escape sequence cut off by the end of a write."""
_SCREEN_MODES = frozenset({"47", "1047", "1049"})
"""Private modes that switch screens: what shows afterwards is not known."""
_HARMLESS = frozenset("hlnpcqtu")
"""CSI finals that change no cell: modes, reports and queries, keyboard protocol, window ops."""
GAP = 2
"""Unchanged cells between two changes of a run that are sent again rather than skipped (a
skip is a cursor move of 3+ bytes)."""


@lru_cache(maxsize=4096)
def _single_width(text: str) -> bool:
    return text.isascii() or cell_len(text) == len(text) and all(cell_len(c) == 1 for c in text)


class ScreenMirror:
    """`feed(data)` → what to send instead; keeps the copy of the screen between calls."""

    def __init__(self) -> None:
        self._carry = ""
        self.reset()

    def reset(self) -> None:
        """Forget what the terminal shows, where its cursor is, and its style."""
        self.rows: dict[int, list[tuple[str, Style] | None]] = {}
        self.at: tuple[int, int] | None = None
        """Where Textual's next text goes (None: unknown)."""
        self.cursor: tuple[int, int] | None = None
        """Where the terminal's cursor is (None: unknown)."""
        self.wanted: Style | None = Style(frozenset(), "", "")
        """The style Textual has set (None: one not modelled)."""
        self.shown: Style | None = None
        """The terminal's style (None: unknown)."""
        self.linked = False
        """Inside a hyperlink (OSC 8): cells are sent as they come, and then unknown."""
        self._feeds = ""  # line feeds Textual wrote, sent only if text follows them unmoved

    def feed(self, data: str) -> str:
        data, self._carry = self._carry + data, ""
        out: list[str] = []
        pos, end = 0, len(data)
        while pos < end:
            match = _TOKEN.match(data, pos)
            if match is None:  # an ESC that starts no sequence we know
                if _PARTIAL.match(data, pos):  # ...yet: the rest comes with the next write
                    self._carry = data[pos:]
                    break
                self._unknown(data[pos], out)
                pos += 1
                continue
            pos = match.end()
            token = match.group()
            first = token[0]
            if first != "\x1b":
                if first >= " ":
                    self._text(token, out)
                elif first in "\n\r":
                    self._feeds += token
                    self.at = None
                elif first == "\x07":  # the bell (App.bell) changes no cell
                    out.append(token)
                else:
                    self._unknown(token, out)
            elif (final := match.group(3)) is not None:
                self._csi(token, match.group(1), match.group(2), final, out)
            elif token.startswith("\x1b]"):
                osc = match.group(4) or ""
                if osc.startswith("8;"):
                    self.linked = not osc.endswith(";")  # ESC]8;;ESC\ closes the link
                out.append(token)
            else:
                self._unknown(token, out)  # ESC 7, ESC 8, ESC c…
        return "".join(out)

    # -- what Textual writes ------------------------------------------------------------
    def _csi(self, token: str, params: str, inter: str, final: str, out: list[str]) -> None:
        if final == "m" and not inter:
            style = apply(self.wanted, params)
            if style is None:  # not modelled: send it, and what follows, as it comes
                self._sync(out)
                out.append(token)
                self.shown = None
            self.wanted = style
            return
        if final in "Hf" and not inter and not params.startswith("?"):
            y, _, x = params.partition(";")
            self.at = (int(y or 1) - 1, int(x or 1) - 1)
            self._feeds = ""
            return
        if final in "ABCDG" and self.at is not None and (params.isdigit() or not params):
            n = int(params or 1)
            y, x = self.at
            self.at = {
                "A": (y - n, x), "B": (y + n, x), "C": (y, x + n), "D": (y, max(x - n, 0)),
                "G": (y, n - 1),
            }[final]  # fmt: skip
            return
        if final in _HARMLESS and (params.startswith(("?", ">", "<", "=")) or final in "nc"):
            if final in "hl" and _SCREEN_MODES & set(params[1:].split(";")):
                out.append(token)
                self.reset()
            else:
                out.append(token)
            return
        self._unknown(token, out)

    def _text(self, text: str, out: list[str]) -> None:
        wanted = self.wanted
        if self.at is None or wanted is None or self.linked or not _single_width(text):
            self._raw(text, out)
            return
        y, x = self.at
        n = len(text)
        self.at = (y, x + n)
        if text.isspace():
            new = [blank(" ", wanted)] * n if text == " " * n else [(c, wanted) for c in text]
        else:
            new = [blank(c, wanted) for c in text]
        row = self.rows.get(y)
        if row is None:
            row = self.rows[y] = []
        if len(row) < x + n:
            row.extend([None] * (x + n - len(row)))
        old = row[x : x + n]
        if old == new:
            return
        row[x : x + n] = new
        first = last = -1
        for i in range(n):
            if old[i] != new[i]:
                if first >= 0 and i - last > GAP + 1:
                    self._draw(y, x + first, new[first : last + 1], out)
                    first = i
                elif first < 0:
                    first = i
                last = i
        self._draw(y, x + first, new[first : last + 1], out)

    # -- what goes to the terminal ------------------------------------------------------
    def _draw(self, y: int, x: int, cells: list, out: list[str]) -> None:
        """Send `cells` at (y, x): a cursor move if the cursor is elsewhere, style changes."""
        cursor = self.cursor
        if cursor != (y, x):
            if cursor is not None and cursor[0] == y and 0 < x - cursor[1] < 1000:
                out.append(f"\x1b[{x - cursor[1]}C" if x - cursor[1] > 1 else "\x1b[C")
            else:
                out.append(f"\x1b[{y + 1};{x + 1}H")
        shown = self.shown
        for char, style in cells:
            if style != shown:
                codes, shown = delta(shown, style, char == " ")
                if codes:
                    out.append(codes)
            out.append(char)
        self.shown = shown
        self.cursor = (y, x + len(cells))

    def _sync(self, out: list[str]) -> None:
        """Bring the terminal's cursor and style to Textual's, before something not modelled."""
        if self._feeds:
            out.append(self._feeds)  # text right after a line feed: send it as it came
            self._feeds = ""
            self.rows.clear()  # a line feed on the last row scrolls
            self.cursor = None
        elif self.at is not None and self.cursor != self.at:
            y, x = self.at
            out.append(f"\x1b[{y + 1};{x + 1}H")
            self.cursor = self.at
        if self.wanted is not None and self.shown != self.wanted:
            codes, self.shown = delta(self.shown, self.wanted)
            out.append(codes)

    def _raw(self, text: str, out: list[str]) -> None:
        """Text not modelled: sent as it came; the cells it may have touched become unknown."""
        self._sync(out)
        out.append(text)
        if self.at is None:
            self.rows.clear()
            self.cursor = None
            return
        y, x = self.at
        width = cell_len(text)
        row = self.rows.get(y, [])
        row[max(x - 1, 0) : x + width + 1] = [None] * (min(x + width + 1, len(row)) - max(x - 1, 0))
        self.at = self.cursor = (y, x + width)

    def _unknown(self, token: str, out: list[str]) -> None:
        """A sequence that may change cells or move the cursor in ways not followed."""
        self._sync(out)
        out.append(token)
        self.rows.clear()
        self.cursor = self.at = None
