"""PanelWidget: one bordered panel of the grid; a thin widget over a pure renderer.

The scenario's `Panel` declaration says what to draw; each new frame hands the widget the data
under the panel's key (or the engine's one-line complaint about that data, shown in red). Rendering is `dltui.render.render(kind, data, w, h, options)`
through Textual's line API: the renderer's Text becomes one Strip of segments a row, which skips
Textual's generic Visual/Content conversion (most of a frame's cost for the thousands of coloured
half-block cells of feature maps). The strips are cached until the data, the size or an option
(log-y) changes, so a paused screen costs nothing. Fields and heatmaps say what their colours
mean in the bottom border (a colour key in the terminal's palette).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from dltui.protocol import Frame
from dltui.render import render
from dltui.render.field2d import field_key
from dltui.render.heatmap import heatmap_key
from dltui.scenario.panels import Panel


class PanelWidget(Widget, can_focus=True):
    DEFAULT_CSS = """
    PanelWidget {
        border: round $primary 60%;
        border-title-color: $text;
        border-title-style: bold;
        height: 1fr;
        width: 1fr;
    }
    PanelWidget:focus {
        border: round $accent;
    }
    """
    ALLOW_MAXIMIZE = True

    def __init__(self, panel: Panel, colors: str = "truecolor"):
        """`colors`: the palette the terminal can show (dltui.render.palettes)."""
        super().__init__(classes=f"panel kind-{panel.kind}")
        self.kind = panel.kind
        self.key = panel.key
        self.options: dict[str, Any] = {**panel.options, "colors": colors}
        self.border_title = panel.title
        if self.options.get("logy"):
            self.border_subtitle = "log y"  # as `l` shows it
        self.data: dict[str, Any] = {}
        self.ghosts: list[dict[str, Any]] = []
        """Runs left behind (time travel), drawn dimmed on line panels; [] when hidden."""
        self.error = ""
        self._borders: dict[str, Any] = {}
        """The titles and keys last given to the border (Text: styled keys)."""
        self._version = 0
        self._view_id = -1
        self._strips: tuple[Any, list[Strip]] | None = None
        if panel.col_span > 1:
            self.styles.column_span = panel.col_span
        if panel.row_span > 1:
            self.styles.row_span = panel.row_span

    def update_from_frame(self, frame: Frame) -> None:
        """Take this panel's data out of a frame; repaint only if it is new. Line panels'
        history changes every frame; other pictures only with a new view()."""
        if self.kind != "line" and frame.view_id == self._view_id:
            return  # the same picture as last frame: nothing to redraw
        self._view_id = frame.view_id
        error, data = frame.panel_errors.get(self.key, ""), frame.panels.get(self.key) or {}
        if error == self.error and same_data(data, self.data):
            return  # a new view() with the same picture (a probe image, a curve per epoch)
        self.error, self.data = error, data
        if isinstance(title := self.data.get("title"), str):
            self._set_border("border_title", title)  # view() retitles it (the race's landscape)
        self._version += 1
        self._show_key()
        self._repaint_changed_rows()

    def _repaint_changed_rows(self) -> None:
        """Repaint only the rows whose strips changed. Textual resends every row of a refreshed
        widget (it does not compare with what the terminal shows): a loss curve that moved one
        row, or a field whose boundary shifted, would cost the whole panel's bytes each frame.
        (What goes to the terminal is cut further, cell by cell: dltui.ui.mirror.)"""
        old = self._strips
        width, height = self.content_size
        if old is None or not self.is_mounted or width <= 0 or height <= 0:
            self.refresh()
            return
        key, strips = self._make_strips()
        if old[0][1:] != key[1:] or len(old[1]) != len(strips):
            self.refresh()  # another size or option: everything moves
        else:
            for y, (was, now) in enumerate(zip(old[1], strips)):
                if was != now:
                    self.refresh(Region(0, y, width, 1))
        self._strips = (key, strips)

    def _make_strips(self) -> tuple[Any, list[Strip]]:
        key = (self._version, *self.content_size, tuple(sorted(self.options.items(), key=str)))
        base = self.visual_style.rich_style
        console = self.app.console
        strips = [
            Strip(
                Segment.simplify(Segment.apply_style(segments(line, console), base)), line.cell_len
            )
            for line in self.render().split("\n", allow_blank=True)
        ]
        return key, strips

    def _show_key(self) -> None:
        """What the colours mean, in the bottom border: "blue<0.5<red ●1 ○0"."""
        colors = self.options["colors"]
        if self.kind == "field2d":
            key = field_key(self.data, colors) if self.data and not self.error else None
            self._set_border("border_subtitle", key if key else None)
        elif self.kind == "heatmap":
            key = heatmap_key(colors) if self.data and not self.error else None
            self._set_border("border_subtitle", key)

    def _set_border(self, which: str, text: Any) -> None:
        """Set the border's title or subtitle (a str or a styled Text) if it changed: Textual
        repaints the whole panel on each assignment, every cell drawn again each frame."""
        if self._borders.get(which, "") != text:
            self._borders[which] = text
            setattr(self, which, text)

    def forget_picture(self) -> None:
        self._view_id = -1
        self.set_ghosts([])

    def set_ghosts(self, ghosts: list[dict[str, Any]]) -> None:
        if self.kind == "line" and (ghosts or self.ghosts):
            self.ghosts = ghosts
            self._version += 1
            self.refresh()

    @property
    def takes_log(self) -> bool:
        """Whether the global `l` applies: line panels, except those on a fixed y range
        (accuracy in [0, 1] means nothing on log y)."""
        return self.kind == "line" and "ylim" not in self.options

    def set_log(self, on: bool) -> None:
        self.options["logy"] = on
        self.border_subtitle = "log y" if on else ""
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """Row y of the panel's content, from strips made once per new picture."""
        width = self.content_size.width
        key = (self._version, *self.content_size, tuple(sorted(self.options.items(), key=str)))
        if self._strips is None or self._strips[0] != key:
            self._strips = self._make_strips()
        strips = self._strips[1]
        return strips[y] if y < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    def render(self) -> Text:
        """The renderer's picture at the current size (render_line caches its strips)."""
        width, height = self.content_size
        if width <= 0 or height <= 0:
            return Text("")
        if self.error:
            text = render("text", {"text": self.error}, width, height)
            text.stylize("bold red")
            return text
        if not self.data:
            return Text("waiting for the first frame…", style="dim")
        data = {**self.data, "ghosts": self.ghosts} if self.ghosts else self.data
        return render(self.kind, data, width, height, self.options)


def same_data(a: Any, b: Any) -> bool:
    """Whether two panels' data draw the same picture: equal dicts, sequences and numbers, and
    numpy arrays of equal shape, type and values (which `==` does not answer with a bool)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_data, a, b))
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - something that cannot say: draw it again
        return False


def segments(text: Text, console: Console) -> list[Segment]:
    """`text.render(console)`, fast for what the renderers make: spans side by side, one per
    run of cells with a colour. Rich's general case (spans that overlap) sorts every span's
    two ends and combines the styles open at each; a feature map has hundreds of spans a row,
    and this took a third of a frame's drawing. Text with overlapping spans goes to Rich."""
    plain, spans = text.plain, text.spans
    if not spans:
        return [Segment(plain)]  # as Rich: no spans, no style (the widget's applies)
    end = 0
    for span in spans:
        if span.start < end or span.end > len(plain):
            return list(text.render(console))
        end = max(end, span.end)
    base = console.get_style(text.style, default=Style.null())
    styles: dict[Any, Style] = {}
    out, at = [], 0
    for start, stop, style in spans:
        if start >= stop:
            continue
        if start > at:
            out.append(Segment(plain[at:start], base))
        if (combined := styles.get(style)) is None:
            combined = styles[style] = base + console.get_style(style, default=Style.null())
        out.append(Segment(plain[start:stop], combined))
        at = stop
    if at < len(plain):
        out.append(Segment(plain[at:], base))
    return out
