"""PanelWidget: one bordered panel of the grid; a thin widget over a pure renderer.

The scenario's panel declaration (kind, title, key, options) comes down as attributes; each new
frame hands the widget its data. Rendering is `dltui.render.render(kind, data, w, h, options)`
through Textual's line API: the renderer's Text becomes one Strip of segments a row, which skips
Textual's generic Visual/Content conversion (most of a frame's cost for the thousands of coloured
half-block cells of feature maps). The strips are cached until the data, the size or an option
(log-y) changes, so a paused screen costs nothing.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from dltui.render import render


class PanelWidget(Widget):
    DEFAULT_CSS = """
    PanelWidget {
        border: round $primary 60%;
        border-title-color: $text;
        border-title-style: bold;
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, spec: dict[str, Any]):
        super().__init__(classes=f"panel kind-{spec['kind']}")
        self.kind: str = spec["kind"]
        self.key: str = spec["key"]
        self.options: dict[str, Any] = dict(spec.get("options") or {})
        self.border_title = spec["title"]
        if self.kind == "line" and self.options.get("logy"):
            self.border_subtitle = "log y"  # as `l` shows it
        self.data: dict[str, Any] = {}
        self._version = 0
        self._view_id = -1
        self._strips: tuple[Any, list[Strip]] | None = None
        if spec.get("col_span", 1) > 1:
            self.styles.column_span = spec["col_span"]
        if spec.get("row_span", 1) > 1:
            self.styles.row_span = spec["row_span"]

    def update_from_frame(self, frame: Any) -> None:
        """Take this panel's data out of a frame; repaint only if it is new."""
        if self.kind == "line":
            data = {
                "series": {n: frame.history[n] for n in self.options["series"]
                           if n in frame.history},
                "events": list(frame.events),
            }
        else:
            if frame.view_id == self._view_id:
                return  # the same picture as last frame: nothing to redraw
            data = frame.panels.get(self.key)
            if data is None:
                return
            self._view_id = frame.view_id
        self.data = data
        self._version += 1
        self.refresh()

    def forget_picture(self) -> None:
        self._view_id = -1

    def toggle_log(self) -> None:
        if self.kind == "line":
            self.options["logy"] = not self.options.get("logy", False)
            self.border_subtitle = "log y" if self.options["logy"] else ""
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """Row y of the panel's content, from strips made once per new picture."""
        width = self.content_size.width
        key = (self._version, *self.content_size, tuple(sorted(self.options.items(), key=str)))
        if self._strips is None or self._strips[0] != key:
            base = self.visual_style.rich_style
            console = self.app.console
            strips = [
                Strip(Segment.simplify(Segment.apply_style(line.render(console), base)),
                      line.cell_len)
                for line in self.render().split("\n", allow_blank=True)
            ]
            self._strips = (key, strips)
        strips = self._strips[1]
        return strips[y] if y < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    def render(self) -> Text:
        """The renderer's picture at the current size (render_line caches its strips)."""
        width, height = self.content_size
        if width <= 0 or height <= 0:
            return Text("")
        if not self.data:
            return Text("waiting for the first frame…", style="dim")
        return render(self.kind, self.data, width, height, self.options)
