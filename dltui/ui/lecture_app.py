"""`dltui lecture`'s screen: the usual app, one scene after another, and a view for the class.

`LectureApp` is `DltuiApp` over a lecture's scenes: each scene is a run of its own (a new link
from `links.open`, the previous engine closed by `switch_link`), shown with the scene's title
and caption in place of the scenario's, only the panels it names (in its order, the grid
narrowed to fit) and the one it zooms. PageDown / PageUp (`.` / `,`) move between scenes; the
header counts them ("3/8"). The presentation view (`p`, `--present`) hides the footer and the
message line (key hints live there) and reads the header the class needs: counter, title, step,
lr, loss. Each scene change is written to the lecture's state file, which the presenter's notes
(`dltui.ui.notes`) follow. `run_lecture` is the CLI's entry, `screenshots` its `--screenshot`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from rich.text import Text
from textual.binding import Binding

from dltui import protocol as p
from dltui.lecture import (
    Lecture,
    Scene,
    clear_state,
    find_panel,
    panel_names,
    shown_panels,
    state_path,
    write_state,
)
from dltui.scenario.params import UsageError
from dltui.ui.app import DltuiApp, run_until_quit
from dltui.ui.budget import DEFAULT_KBPS
from dltui.ui.header import Part, _fit, header_text, presentation_header
from dltui.ui.help import KEYS, HelpScreen
from dltui.ui.link import InlineLinks, Link, ProcessLinks

LECTURE_KEYS = (
    ("PgDn  .", "next scene (a new run: the scene's engine starts, the last one stops)"),
    ("PgUp  ,", "previous scene"),
    ("p", "presentation view: no footer or key hints; the header the class reads"),
)


class Links(Protocol):
    """Where scenes get their engines (`ProcessLinks`, or `InlineLinks` for pictures)."""

    def open(self, spec: p.RunSpec) -> Link: ...

    def prepare(self) -> None: ...

    def close(self) -> None: ...


class LectureHelp(HelpScreen):
    keys = KEYS[:-2] + LECTURE_KEYS + KEYS[-2:]


class LectureApp(DltuiApp, inherit_bindings=False):
    # The app's keys with the lecture's right after ? and q, so the footer shows them at 80
    # columns (inherited bindings would come last, cut off).
    BINDINGS = [
        *DltuiApp.BINDINGS[:2],
        Binding("pagedown,full_stop", "scene(1)", "Next scene", key_display="PgDn"),
        Binding("pageup,comma", "scene(-1)", "Prev scene", key_display="PgUp"),
        Binding("p", "present", "Present"),
        *DltuiApp.BINDINGS[2:],
    ]
    CSS = """
    LectureApp.-present Footer, LectureApp.-present #message { display: none; }
    """

    def __init__(
        self,
        lecture: Lecture,
        links: Links,
        first: int = 0,
        present: bool = False,
        device: str = "auto",
        screenshot: str | None = None,
        fps: float | None = None,
        bandwidth_kbps: float = DEFAULT_KBPS,
    ):
        """`first`: the scene to open (0-based); `present`: open in the presentation view;
        `screenshot`: save that scene as it opens (its start step) to this SVG, then exit."""
        self.lecture = lecture
        self.links = links
        self.index = first
        self.device = device
        self.present = present
        self.failed = False
        """Whether this scene's run could not start (its line is on the message line)."""
        self.state = None if screenshot else state_path(lecture.path)
        link = links.open(self._spec(first, screenshot is not None))
        super().__init__(link, screenshot=screenshot, fps=fps, bandwidth_kbps=bandwidth_kbps)

    @property
    def scene(self) -> Scene:
        return self.lecture.scenes[self.index]

    def _spec(self, index: int, picture: bool) -> p.RunSpec:
        return self.lecture.scenes[index].spec(self.device, paused=True if picture else None)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_class(self.present, "-present")
        self._write_state()

    def _write_state(self) -> None:
        if self.state is not None:
            write_state(self.state, self.index, len(self.lecture.scenes))

    # -- scenes ---------------------------------------------------------------------------------
    def action_scene(self, step: int) -> None:
        index = self.index + step
        if not 0 <= index < len(self.lecture.scenes):
            self._tell("the last scene; PgUp goes back" if step > 0 else "the first scene")
            return
        self.go_to_scene(index)

    def go_to_scene(self, index: int) -> None:
        """Open scene `index` (0-based): its own engine; the current one is closed."""
        self.index = index
        self.failed = False
        self.switch_link(self.links.open(self._spec(index, False)))
        self._write_state()

    def on_engine_message(self, message: p.Message) -> None:
        match message:
            case p.Hello(info):
                super().on_engine_message(p.Hello(self._as_scene(info)))
                if self.screenshot_path is None:
                    self.links.prepare()  # the next scene's engine: torch imported meanwhile
            case p.Error(line) if self.screenshot_path is None:
                self.failed = True  # a mistake in this scene (see --check): the lecture goes on
                self._tell(f"scene {self.index + 1}: {line}", "bold red")
                self._update_header()
            case _:
                super().on_engine_message(message)

    def _as_scene(self, info: p.RunInfo) -> p.RunInfo:
        """The run as the scene presents it: its title and caption, its panels."""
        scene = self.scene
        panels = shown_panels(info.panels, scene.panels)
        missing = [n for n in scene.panels if find_panel(info.panels, n) is None]
        if missing:  # --check says so; on screen the panels found are shown (or all)
            self._tell(f"no panel {missing[0]!r}; {panel_names(info.panels)}", "bold red")
        if [q.key for q in panels] != [q.key for q in info.panels]:
            panels = tuple(replace(q, col_span=1, row_span=1) for q in panels)
            info = replace(info, panels=panels, columns=_columns(len(panels)))
        return replace(info, title=scene.title or info.title, caption=scene.caption or info.caption)

    def _lay_out(self, info: p.RunInfo) -> None:
        super()._lay_out(info)
        zoom = find_panel(info.panels, self.scene.zoom) if self.scene.zoom else None
        if zoom is not None:
            widget = next(w for w in self._panels if w.key == zoom.key)
            self.screen.maximize(widget, container=False)  # laid out so from the first frame

    @property
    def _stops_at_start(self) -> bool:
        """A lecture's picture of a scene is the scene as it opens, at its start step."""
        return self.screenshot_path is not None

    # -- the view -------------------------------------------------------------------------------
    def action_present(self) -> None:
        self.present = not self.present
        self.set_class(self.present, "-present")
        self._update_header()

    def header_line(self, width: int) -> Text:
        counter = f"{self.index + 1}/{len(self.lecture.scenes)}"
        if self.info is None:  # the scene's engine is starting (or could not)
            status = ("│ ✖ not started ", "bold red") if self.failed else ("│ starting… ", "dim")
            title = Part(f" {self.scene.shown_title()} ", "bold", drop=5)
            return _fit([Part(f" {counter} ", "bold reverse"), title, Part(*status)], width, None)
        if self.present:
            return presentation_header(self.info, self.frame, width, counter)
        live = not self.run_to_limit
        return header_text(self.info, self.frame, width, live, self.held_by_link, counter)

    def action_help(self) -> None:
        if self.info is not None:
            self.push_screen(LectureHelp(self.info))

    async def action_quit(self) -> None:
        if self.state is not None:
            clear_state(self.state)
        await super().action_quit()


def _columns(count: int) -> int:
    """A grid for the panels a scene chose (the scenario's spans were for all of them): one
    row of up to three, else two rows."""
    return count if count <= 3 else math.ceil(count / 2)


def run_lecture(
    lecture: Lecture,
    first: int = 0,
    present: bool = False,
    device: str = "auto",
    fps: float | None = None,
    bandwidth_kbps: float = DEFAULT_KBPS,
) -> int:
    """The live lecture, each scene's engine in a child process (the next one started ahead)."""
    links = ProcessLinks()
    app = LectureApp(lecture, links, first, present, device, fps=fps, bandwidth_kbps=bandwidth_kbps)
    try:
        run_until_quit(app, app.link)
    finally:
        app.link.close()  # the scene on screen at the end (run_until_quit closed the first)
        links.close()
        if app.state is not None:
            clear_state(app.state)
    return app.return_code or 0


def screenshots(
    lecture: Lecture,
    folder: str,
    size: tuple[int, int],
    present: bool = False,
    only: int | None = None,
    device: str = "auto",
) -> list[Path]:
    """One SVG a scene (or of scene `only`, 1-based), as it opens, in the view asked for:
    `NN-scenario.svg` in `folder`. Returns the paths written."""
    written = []
    for index, scene in enumerate(lecture.scenes):
        if only not in (None, index + 1):
            continue
        name = Path(Path(scene.target).name.partition(":")[0]).stem  # xor; mine.py:Class
        path = Path(folder) / f"{index + 1:02d}-{name}.svg"
        app = LectureApp(lecture, InlineLinks(), index, present, device, screenshot=str(path))
        app.run(headless=True, size=size)
        if app.error is not None:  # a mistake in the scenario's view(): one line, exit 2
            raise UsageError(f"{lecture.name}: scene {index + 1}: {app.error}")
        written.append(path)
    return written
