"""Plain-text panels, and `fit`, the exact-size helper every renderer ends with.

Provides:
- `fit(text, width, height)`: crop/pad any `Text` to exactly `height` lines of `width` cells.
- `message(s, width, height)`: a dim one-line note ("no data yet") sized to the panel.
- `render_text(data, width, height, *, wrap=True)`: data {"text": str} shown as plain text
  (never markup: "[x]" stays "[x]"), wrapped (continuation lines keep the indent) or cropped;
  lines starting with "# " are shown bold as headings, without the "# ".
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from rich.console import Console
from rich.text import Text

_CONSOLE = Console(file=io.StringIO(), width=200, color_system=None)
HEADING_STYLE = "bold #ffd54f"
DIM_STYLE = "#8a8a8a"


def fit(text: Text, width: int, height: int) -> Text:
    """Exactly `height` lines (joined by newlines, none trailing) of exactly `width` cells."""
    width, height = max(0, int(width)), max(0, int(height))
    lines = text.split("\n", allow_blank=True)[:height] if text.plain else []
    out = []
    for line in lines:
        line = line.copy()
        line.end = ""
        line.truncate(width, overflow="crop", pad=True)
        out.append(line)
    out += [Text(" " * width) for _ in range(height - len(out))]
    return Text("\n", end="").join(out)


def message(s: str, width: int, height: int, style: str = DIM_STYLE) -> Text:
    """A short note (e.g. "no data yet") on the first line, the rest blank."""
    return fit(Text(s, style=style), width, height)


def _wrap_line(line: Text, width: int) -> list[Text]:
    """Wrap one line to `width`, indenting continuation lines like the first one."""
    if line.cell_len <= width:
        return [line]
    plain = line.plain
    indent = len(plain) - len(plain.lstrip(" "))
    indent = indent if indent < width // 2 else 0
    first, *rest = line.wrap(_CONSOLE, width, overflow="fold")
    out = [first]
    if rest:
        tail = Text(" ", end="").join(rest)
        tail.rstrip()
        for part in tail.wrap(_CONSOLE, width - indent, overflow="fold"):
            out.append(Text(" " * indent) + part)
    return out


def render_text(
    data: dict[str, Any], width: int, height: int, *, wrap: bool = True, **_: Any
) -> Text:
    """Plain text wrapped (or cropped with wrap=False) to the panel; "# " lines as headings."""
    raw = data.get("text") if isinstance(data, dict) else None
    if raw is None or str(raw).strip() == "":
        return message("no text yet", width, height)
    lines: list[Text] = []
    for src in str(raw).expandtabs(4).splitlines():
        heading = src.startswith("# ")
        line = Text(src[2:], style=HEADING_STYLE) if heading else Text(src)
        lines.extend(_wrap_line(line, width) if wrap and width > 1 else [line])
        if len(lines) > height:
            break
    if len(lines) > height > 0:
        lines = lines[: height - 1] + [Text("…", style=DIM_STYLE)]
    return fit(Text("\n").join(lines), width, height)


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number in at most `digits` significant digits (0.6931, 1.2e-05); others via str()."""
    if isinstance(value, (bool, str, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        return f"{float(value):.{digits}g}"
    except (TypeError, ValueError):
        return str(value)
