"""Small tables: truth tables, predictions, optimizer state.

`render_table(data, width, height)` with data {"columns": [str], "rows": [[value, ...]],
"highlight": [row index, ...], "selected": row index}: a bold header and a rule, floats in 4
significant digits (0.6931, 1.2e-05), numbers right-aligned and text left-aligned, highlighted
rows on a coloured background, the selected row (the race's `tab`) in bold reverse video, which
reads without colour too. Columns too wide for the panel are shrunk (cells end in "…"); rows
that do not fit are replaced by a "… n more rows" line, scrolled so the selected row (else the
first highlighted one) stays visible.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from .text import DIM_STYLE, fit, fmt_num, message

HEADER = Style(bold=True, color="#ffd54f")
HIGHLIGHT = Style(bold=True, color="#ffffff", bgcolor="#2f4f7f")
SELECTED = Style(bold=True, reverse=True)
GAP = "  "


def _is_number(v: Any) -> bool:
    return isinstance(v, Number) and not isinstance(v, bool)


def _widths(natural: list[int], width: int) -> list[int]:
    """Column widths: natural ones, the widest shrunk (down to 3) until the row fits."""
    w = list(natural)
    budget = width - len(GAP) * (len(w) - 1)
    while sum(w) > budget and max(w) > 3:
        w[w.index(max(w))] -= 1
    return w


def _cell(s: str, w: int, right: bool, style: Style | str = "") -> Text:
    t = Text(s, style=style)
    t.truncate(w, overflow="ellipsis")
    t.align("right" if right else "left", w)
    return t


def _window(n: int, room: int, focus: int | None) -> tuple[int, int]:
    """Rows [start, end) to show in `room` lines, leaving a line for each "…" marker."""
    if n <= room:
        return 0, n
    if room < 3:
        return 0, max(room - 1, 0)
    if focus is None or focus < room - 1:
        return 0, room - 1
    start = min(focus - (room - 2) // 2, n - (room - 1))
    end = start + room - 2 if start + room - 1 < n else n
    return start, end


def render_table(data: dict[str, Any], width: int, height: int, **_: Any) -> Text:
    """Header, rule and rows, sized to the panel; highlighted rows stand out."""
    data = data or {}
    columns = [str(c) for c in data.get("columns") or []]
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in data.get("rows") or []]
    if not columns and not rows:
        return message("no data yet", width, height)
    ncols = max([len(columns)] + [len(r) for r in rows])
    columns += [""] * (ncols - len(columns))
    cells = [[fmt_num(v) for v in r] + [""] * (ncols - len(r)) for r in rows]
    numeric = [all(_is_number(r[j]) for r in rows if j < len(r)) for j in range(ncols)]
    natural = [max([cell_len(columns[j])] + [cell_len(r[j]) for r in cells]) for j in range(ncols)]
    widths = _widths(natural, width)
    highlight = set()
    for i in data.get("highlight") or []:
        try:
            if -len(rows) <= int(i) < len(rows):
                highlight.add(int(i) % len(rows))
        except (TypeError, ValueError):
            continue

    selected = data.get("selected")
    try:
        chosen = int(selected) % len(rows) if -len(rows) <= int(selected) < len(rows) else None
    except (TypeError, ValueError):
        chosen = None

    lines = []
    if any(columns):
        head = [_cell(c, w, num, HEADER) for c, w, num in zip(columns, widths, numeric)]
        lines.append(Text(GAP).join(head))
        if height >= len(cells) + 2:  # the rule only where it costs no data row
            lines.append(
                Text("─" * min(width, sum(widths) + len(GAP) * (ncols - 1)), style=DIM_STYLE)
            )
    room = max(height - len(lines), 1)
    focus = chosen if chosen is not None else min(highlight) if highlight else None
    start, end = _window(len(cells), room, focus)
    if start > 0:
        lines.append(Text(f"… {start} rows above", style=DIM_STYLE))
    for i in range(start, end):
        style = SELECTED if i == chosen else HIGHLIGHT if i in highlight else ""
        parts = [_cell(s, w, num, style) for s, w, num in zip(cells[i], widths, numeric)]
        lines.append(Text(GAP, style=style).join(parts))
    if end < len(cells):
        lines.append(Text(f"… {len(cells) - end} more rows", style=DIM_STYLE))
    return fit(Text("\n").join(lines), width, height)
