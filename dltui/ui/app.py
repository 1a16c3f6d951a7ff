"""The Textual app: header, lesson caption, a grid of panels, footer; keys drive the engine.

The app never imports torch. It talks to the engine through a `dltui.ui.link` Link: a child
process in normal use, in-process for screenshots and snapshot tests; what goes each way is a
typed `dltui.protocol` Command or Message. A 30 Hz pump reads the engine's messages
and asks for the next frame only when the previous one has arrived and something can have
changed, so a paused screen costs neither process anything. While training runs, the UI keeps
to a CPU budget (`UI_CPU_SHARE` of the machine, or of one core when training's threads take
them all): a frame that took long to draw delays the next request, so drawing never starves
the training it shows. A run that keeps up with its speed cap has CPU to spare, and its
picture moves at `PACED_FPS` at least.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Footer, Static

from dltui import protocol as p
from dltui.render.palettes import palette_name
from dltui.ui.budget import DEFAULT_KBPS
from dltui.ui.goto import GoToScreen
from dltui.ui.header import header_text
from dltui.ui.help import HelpScreen
from dltui.ui.link import InlineLink, Link, ProcessLink
from dltui.ui.output import TerminalOutput
from dltui.ui.panel import PanelWidget
from dltui.ui.share import ShareScreen, lecture_scene, shell_line
from dltui.ui.timeline import timeline_text

MIN_SIZE = (80, 24)
CAPTION_ROWS = 30
"""Terminals shorter than this get no caption line: at 80×24 the panels need the rows."""
UI_CPU_SHARE = 0.1
"""Share of the machine's CPU the UI may use for frames while training runs (2 cores: 20 % of
one core), so training under the UI keeps ≥ 0.9× its headless speed even on a small machine."""
MIN_FPS = 5
"""...but the picture still moves: at least this many frames a second, whatever they cost."""
ALL_CORES_SHARE = 0.06
"""The UI's share instead when training's threads take every core (the CNN on a CPU), and of
one core, not of the machine: each CPU second the UI takes there stalls one of them, and the
others wait for it at their next barrier, so training loses what the UI uses of one core.
MNIST on 2 cores, medians of 5 (benchmarks/README.md): 10 % of a core drew 2 frames/s at
0.85× of headless, 6 % 1.4 frames/s at 0.92×."""
ALL_CORES_MIN_FPS = 1.5
"""The floor then: a CNN step on a CPU takes tens of ms, so each frame still shows new steps."""
MAX_FPS = 15
"""At most this many frames a second while training runs as fast as it can, however little
they cost: conv's and autograd's (4 ms of the UI's CPU) came at the pump's 30 Hz, which no eye
needs, and took training to 0.86× of headless on 2 cores; at 10–15 a second, ≥ 0.9×."""
PACED_FPS = 15
"""...and at least this many while training keeps up with its speed cap (the scenarios'
default speeds): it is not short of CPU then, and a screen that changes ≥ 10 times a second
is what the eye takes for live (at 30 Hz pumping, a 67 ms floor gives 10–15 frames/s)."""
KEEPING_UP = 0.9
"""Training keeps up with its cap when it measures at least this share of it."""
KEY_POLL = 0.005
"""After a key, the pipe is read this often (not at the pump's 30 Hz) until the frame that
answers it is in, for at most `KEY_POLL_FOR` seconds: 17 ms sooner on the screen on average."""
KEY_POLL_FOR = 1.0
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class DltuiApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "dltui"
    ENABLE_COMMAND_PALETTE = False
    # The footer shows these in order and cuts what does not fit: ? and q come first so
    # that they show at 80 columns.
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("space", "toggle", "Pause/Run"),
        Binding("n,right", "step(1)", "Step"),
        Binding("N", "step(10)", "10 steps", show=False),
        Binding("b,left", "back(1)", "Back", key_display="b"),
        Binding("B", "back(10)", "10 back", show=False),
        Binding("g", "goto", "Go to"),
        Binding("home", "home", "Step 0", show=False),
        Binding("c", "ghosts", "Ghosts", show=False),
        Binding("left_square_bracket", "lr(0.5)", "lr÷2", key_display="["),
        Binding("right_square_bracket", "lr(2)", "lr×2", key_display="]"),
        Binding("left_curly_bracket", "lr(0.1)", "lr÷10", key_display="{", show=False),
        Binding("right_curly_bracket", "lr(10)", "lr×10", key_display="}", show=False),
        Binding("r", "reset", "Reset"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="−"),
        Binding("z", "zoom", "Zoom"),
        Binding("l", "log", "Log y"),
        Binding("s", "save", "SVG"),
        Binding("S", "share", "Share", show=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]
    ALLOW_IN_MAXIMIZED_VIEW = "#header, #message, Footer"
    AUTO_FOCUS = None  # no panel highlighted until tab: the same picture every time

    def __init__(
        self,
        link: Link,
        run_to_limit: bool = False,
        screenshot: str | None = None,
        fps: float | None = None,
        bandwidth_kbps: float = DEFAULT_KBPS,
    ):
        """`run_to_limit`: step the (paused) engine straight to its last step, for pictures
        that are the same every time; `screenshot`: then save an SVG there and exit.
        `fps`: at most this many frames a second while running (None: the CPU budget's);
        `bandwidth_kbps`: the bytes the terminal gets, KB a second on average (0: no limit)."""
        super().__init__()
        self.fps = fps
        self.output = TerminalOutput(bandwidth_kbps * 1024)
        """What goes to the terminal: fewer bytes, within the budget, paced to what it takes."""
        self.held_by_link = False
        """Whether frames are being held back by the link (budget spent, terminal behind)."""
        self.link = link
        self.run_to_limit = run_to_limit or screenshot is not None
        self.screenshot_path = screenshot
        self.info: p.RunInfo | None = None
        self.frame: p.Frame | None = None
        self.error: str | None = None
        self._awaiting_frame = False
        self._dirty = True
        """A key was pressed (or the run restarted) since the last frame was asked for."""
        self._key_frame = False
        """The frame on its way was asked for after a key: it answers it."""
        self._key_poll_until = 0.0
        self._asked = (0.0, 0.0)  # (wall, CPU) clock when the last frame was asked for
        self._note = ""  # the UI's own status note (a failed save), shown over empty messages
        self._shown: dict[str, Text] = {}  # what the header, timeline and message lines show
        self._panels: list[PanelWidget] = []
        self.ghosts: tuple[p.Ghost, ...] = ()
        """Runs left behind by branches and resets (the engine sends them when they change)."""
        self.show_ghosts = True
        self.shared: list[str] = []
        """Command lines the share key (S) wrote: printed again on the terminal after q."""

    def compose(self) -> ComposeResult:
        yield Static(Text("dltui  starting the engine…", style="bold"), id="header")
        yield Static("", id="caption")
        yield Grid(id="grid")
        yield Static("", id="too-small")
        yield Static("", id="timeline")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        if self._driver is not None and not self.is_headless:
            self.output.attach(self._driver)
            self.set_interval(1.0, self._check_terminal)
        self.set_interval(1 / 30, self.pump)
        self._check_size()
        if os.environ.get("DLTUI_TRACE_PAINT"):
            self.call_after_refresh(self._trace_paint)

    def post_display_hook(self) -> None:
        """A screen update went to the terminal: ask it to say when it has taken it."""
        self.output.displayed()

    def on_cursor_position(self, event: events.CursorPosition) -> None:
        """The terminal's answer: it has taken everything up to the question."""
        self.output.answered()

    def _trace_paint(self) -> None:
        with open(os.environ["DLTUI_TRACE_PAINT"], "a", encoding="utf-8") as fh:
            fh.write(f"{time.time()}\n")

    # -- engine messages ----------------------------------------------------------------
    def _check_terminal(self) -> None:
        """A terminal that hung up without a SIGHUP to say so ends the app as q does, instead of
        Textual reading its end of file for good."""
        if not self.output.connected():
            self.exit()

    def pump(self) -> None:
        while (message := self.link.recv()) is not None:
            self.on_engine_message(message)
        self._ask_if_wanted()

    def _ask_if_wanted(self) -> None:
        """Ask the engine for its next frame, if one is due and none is on its way."""
        wants = self.info is not None and not self._awaiting_frame and self._wants_frame()
        if wants and self.link.send(p.WantFrame()):
            self._awaiting_frame = True
            self._key_frame, self._dirty = self._dirty, False
            self._asked = (time.perf_counter(), time.process_time())

    def _wants_frame(self) -> bool:
        if self._dirty:  # a key was pressed: answer it at once (unless the link is far behind)
            return not self.output.holds(key=True)
        if self.frame is None or self.frame.status != "running":
            return False
        if self.run_to_limit:  # a picture to take: no one is watching the frames on the way
            return True
        held = self.output.holds()
        if held != self.held_by_link:
            self.held_by_link = held
            self._update_header()
        if held:  # the terminal has not taken what we sent: skip frames, not keys
            return False
        wall, cpu = self._asked
        if self.fps and time.perf_counter() - wall < 1 / self.fps:
            return False
        return time.perf_counter() - wall >= self._frame_delay(time.process_time() - cpu)

    def _frame_delay(self, used: float) -> float:
        """Seconds from one frame request to the next while training runs, for a UI that used
        `used` CPU seconds since the last one (drawing that frame): that CPU over the wall time
        must stay within its share, down to a floor of frames a second."""
        if self._keeps_pace(self.frame):
            return min(used / (UI_CPU_SHARE * CPUS), 1 / PACED_FPS)
        threads = self.info.threads if self.info is not None else 1
        if threads >= CPUS:
            return min(max(used / ALL_CORES_SHARE, 1 / MAX_FPS), 1 / ALL_CORES_MIN_FPS)
        return min(max(used / (UI_CPU_SHARE * CPUS), 1 / MAX_FPS), 1 / MIN_FPS)

    @staticmethod
    def _keeps_pace(frame: p.Frame) -> bool:
        """Whether training runs at its speed cap, not as fast as the CPU lets it."""
        return frame.speed is not None and frame.steps_per_s >= KEEPING_UP * frame.speed

    def command(self, command: p.Command) -> None:
        self._note = ""
        if self.info is not None and self.link.send(command):
            self._dirty = True
            self._ask_if_wanted()  # the key's frame now, not at the next pump
            if self._key_poll_until < time.perf_counter():  # not polling already
                self.set_timer(KEY_POLL, self._poll_for_key)
            self._key_poll_until = time.perf_counter() + KEY_POLL_FOR

    def _poll_for_key(self) -> None:
        """Read the pipe until the frame that answers the last key is in (or for a while)."""
        self.pump()
        waiting = self._dirty or self._key_frame
        if waiting and self.info is not None and time.perf_counter() < self._key_poll_until:
            self.set_timer(KEY_POLL, self._poll_for_key)
        else:
            self._key_poll_until = 0.0

    def on_engine_message(self, message: p.Message) -> None:
        match message:
            case p.Hello(info):
                self._on_hello(info)
            case p.FrameMsg(frame):
                self._awaiting_frame = self._key_frame = False
                if self._dirty:  # this frame was asked for before a key: the engine makes the
                    self._ask_if_wanted()  # key's frame while this one is drawn
                self._on_frame(frame)
            case p.Error(line):
                self.error = line
                self.exit(2)
            case p.Crash(text):
                self._engine_stopped((text.strip().splitlines() or ["?"])[0])
            case p.Died(exitcode):
                if self.info is not None:  # after a Crash the child's exit says nothing new
                    self._engine_stopped(f"exit code {exitcode}")

    def _engine_stopped(self, detail: str) -> None:
        self._show_message(
            f"The engine stopped ({detail}). Press r to restart it, q to quit.", "bold red"
        )
        self._awaiting_frame = False
        self.info = None

    def _on_hello(self, info: p.RunInfo) -> None:
        self.info = info
        self._dirty = True
        self.query_one("#caption", Static).update(Text(info.caption, style="italic"))
        if not self._panels:
            self._lay_out(info)
        self.ghosts = ()
        for panel in self._panels:
            panel.forget_picture()  # a restarted engine counts its views from 0 again
        if self.run_to_limit and not self._stops_at_start:
            self.command(p.Step(info.limit))
        self._update_header()

    def _on_frame(self, frame: p.Frame) -> None:
        if self.screenshot_path is not None and frame.panel_errors:
            self.error = next(iter(frame.panel_errors.values()))  # no picture of a broken panel
            self.exit(2)
            return
        self.frame = frame
        if frame.shared is not None:
            self._show_shared(frame.shared)
        if frame.ghosts is not None:
            self.ghosts = frame.ghosts
            self._send_ghosts()
        for panel in self._panels:
            panel.update_from_frame(frame)
        self._update_header()
        style = "bold red" if frame.status == "diverged" else "yellow"
        if frame.message or not self._note:  # the UI's own note stays until the next key
            self._show_message(frame.message, style)
        finished = frame.step >= frame.limit or frame.status == "diverged"
        finished = finished or (self._stops_at_start and frame.step >= self.info.start)
        if self.screenshot_path is not None and finished:
            self.call_after_refresh(self._save_and_exit)
        elif self.run_to_limit and not finished and frame.status == "paused":
            self.command(p.Step(frame.limit - frame.step))  # an --at rewind went back: go on

    def _show_shared(self, argv: tuple[str, ...]) -> None:
        line = shell_line(argv)
        self.shared.append(line)
        self.copy_to_clipboard(line)  # OSC 52: where the terminal takes it
        self.push_screen(ShareScreen(line, lecture_scene(argv), copied=not self.is_headless))

    def _lay_out(self, info: p.RunInfo) -> None:
        """Mount a panel widget for each of the run's panels, in its grid."""
        grid = self.query_one("#grid", Grid)
        grid.styles.grid_size_columns = info.columns
        colors = self.palette()
        self._panels = [PanelWidget(panel, colors) for panel in info.panels]
        grid.mount_all(self._panels)

    def switch_link(self, link: Link) -> None:
        """Drive another engine from now on (a lecture's next scene): the current one is
        closed (in a thread: a child may take a second to go), the screen waits for the new
        one's Hello and is laid out anew for its panels."""
        old, self.link = self.link, link
        threading.Thread(target=old.close, name="dltui-close-link", daemon=True).start()
        self.info = self.frame = self.error = None
        self._awaiting_frame, self._dirty, self._note = False, True, ""
        self.ghosts = ()
        if self.screen.maximized is not None:
            self.screen.minimize()
        for panel in self._panels:
            panel.remove()
        self._panels = []
        self._show_message("")
        self._update_header()

    @property
    def _stops_at_start(self) -> bool:
        """A screenshot of a run opened at --start is taken there, not at its last step."""
        return self.screenshot_path is not None and self.info is not None and self.info.start > 0

    def _save_and_exit(self, waited: int = 0) -> None:
        grid, footer = self.query_one("#grid", Grid), self.query_one(Footer)
        unplaced = grid.display and any(not panel.size.area for panel in self._panels)
        keys = list(footer.children)  # the footer's keys are laid out a moment after it
        unplaced = unplaced or (footer.display and not (keys and keys[0].size.area))
        if unplaced and waited < 100:  # a busy machine: the frame came before the panels were
            self.call_after_refresh(self._save_and_exit, waited + 1)  # laid out; wait for them
            return
        path = Path(self.screenshot_path)
        self.save_screenshot(filename=path.name, path=str(path.parent))
        self.exit(0)

    # -- drawing ------------------------------------------------------------------------
    def palette(self) -> str:
        """The palette for this terminal's colours: truecolor, 256, 16 or mono (NO_COLOR),
        from what Textual detected (COLORTERM, TERM, NO_COLOR, TEXTUAL_COLOR_SYSTEM)."""
        forced = os.environ.get("TEXTUAL_COLOR_SYSTEM", "auto") != "auto"
        return palette_name(self.console.color_system, self.no_color, self.is_headless, forced)

    def _update_header(self) -> None:
        width = self.size.width or MIN_SIZE[0]
        self._show("#header", self.header_line(width), layout=False)  # one row, always
        timeline = timeline_text(self.frame, self.ghosts, width)
        bar = self.query_one("#timeline", Static)
        bar.display = timeline is not None
        if timeline is not None:
            self._show("#timeline", timeline, layout=False)

    def _show(self, selector: str, text: Text, layout: bool = True) -> None:
        """Put `text` in a line of the screen if it is not what the line shows: each update
        repaints the line, and with `layout` lays out the whole screen again (a few ms of
        every frame when the header and an unchanged message line did it)."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text, layout=layout)

    def header_line(self, width: int) -> Text:
        """The header for `width` columns (a lecture's adds its scene)."""
        live = not self.run_to_limit
        return header_text(self.info, self.frame, width, live, held=self.held_by_link)

    def _send_ghosts(self) -> None:
        shown = [
            {"label": g.label, "step": g.step, "mark": g.mark, "series": g.series}
            for g in self.ghosts
        ]
        for panel in self._panels:
            panel.set_ghosts(shown if self.show_ghosts else [])

    def _tell(self, text: str, style: str = "yellow") -> None:
        """A note from the UI itself (not the engine): kept on screen until the next command."""
        self._note = text
        self._show_message(text, style)

    def _show_message(self, text: str, style: str = "yellow") -> None:
        self._show("#message", Text(text, style=style))

    def on_resize(self, event: events.Resize) -> None:
        self.output.reset()  # the terminal may have redrawn, cropped or cleared itself
        self._check_size(event.size)  # self.size may still be the old one here
        self.call_after_refresh(self._update_header)

    def _check_size(self, size: tuple[int, int] | None = None) -> None:
        cols, rows = size or self.size
        small = cols < MIN_SIZE[0] or rows < MIN_SIZE[1]
        # Below 30 rows the panels need every row; the caption stays in the help screen (?).
        self.query_one("#caption", Static).display = rows >= CAPTION_ROWS
        notice = self.query_one("#too-small", Static)
        notice.display = small
        self.query_one("#grid", Grid).display = not small
        if small:
            notice.update(
                Text(
                    f"The terminal is {cols}×{rows}: enlarge it to at least "
                    f"{MIN_SIZE[0]}×{MIN_SIZE[1]} to see the panels.\nTraining goes on; q quits.",
                    style="bold",
                    justify="center",
                )
            )

    # -- actions ------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """Scenario keys (e.g. tab: next optimizer) before the app's own bindings."""
        keys = self.info.keys if self.info else {}
        if event.key in keys and not isinstance(self.screen, HelpScreen):
            self.command(p.PressKey(event.key))
            event.prevent_default()
            event.stop()

    def action_toggle(self) -> None:
        self.command(p.Toggle())

    def action_step(self, n: int) -> None:
        self.command(p.Step(n))

    def action_back(self, n: int) -> None:
        self.command(p.Back(n))

    def action_home(self) -> None:
        self.command(p.GoTo(0))

    def action_goto(self) -> None:
        if self.frame is None or self.info is None:
            return
        frame = self.frame

        def go(step: int | None) -> None:
            if step is not None:
                self.command(p.GoTo(step))

        self.push_screen(GoToScreen(frame.step, frame.limit, frame.head), go)

    def action_ghosts(self) -> None:
        """Hide or show the runs left behind (on every line panel)."""
        self.show_ghosts = not self.show_ghosts
        self._send_ghosts()
        if not self.ghosts:
            self._tell("no ghosts yet: go back (b) and change lr, or reset (r)")
        else:
            self._tell(f"ghosts {'shown' if self.show_ghosts else 'hidden'} (c)")

    def action_faster(self) -> None:
        self.command(p.Faster())

    def action_slower(self) -> None:
        self.command(p.Slower())

    def action_reset(self) -> None:
        if self.info is None and self.error is None:  # crashed or died: start a new engine
            self._tell("restarting the engine…")
            self.link.restart()
            return
        self.command(p.Reset())

    def action_lr(self, factor: float) -> None:
        if self.info is not None and not any(q.name == "lr" for q in self.info.params):
            self._tell("this scenario has no learning rate to change")
            return
        self.command(p.ScaleParam("lr", factor))

    def action_log(self) -> None:
        """One switch for the whole screen: every loss-like line panel on log y, or none."""
        panels = [panel for panel in self._panels if panel.takes_log]
        log_y = not all(panel.options.get("logy") for panel in panels)
        for panel in panels:
            panel.set_log(log_y)

    def action_zoom(self) -> None:
        """The focused panel (tab moves focus) to the whole screen, and back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        target = self.focused if isinstance(self.focused, PanelWidget) else None
        target = target or next(iter(self._panels), None)
        if target is not None:
            target.focus()
            self.screen.maximize(target, container=False)

    def action_save(self) -> None:
        name = self.info.name if self.info else "dltui"
        step = self.frame.step if self.frame is not None else 0
        try:
            path = self.save_screenshot(filename=f"dltui-{name}-step{step}.svg", path=os.getcwd())
        except OSError as exc:
            self._tell(f"could not save the screenshot: {exc.strerror} ({os.getcwd()})", "bold red")
            return
        self.notify(f"saved {path}")

    def action_share(self) -> None:
        """The command line that reproduces this screen (the engine writes it)."""
        self.command(p.Share())

    def action_help(self) -> None:
        if self.info is not None:
            self.push_screen(HelpScreen(self.info))

    async def action_quit(self) -> None:
        self.link.close()
        self.exit(0)


def run_app(spec: p.RunSpec, fps: float | None = None, bandwidth_kbps: float = DEFAULT_KBPS) -> int:
    """The live UI with the engine in a child process."""
    link = ProcessLink(spec)
    app = DltuiApp(link, fps=fps, bandwidth_kbps=bandwidth_kbps)
    run_until_quit(app, link)
    return _finish(app)


def run_until_quit(app: App, link: Link) -> None:
    """Run `app` in this terminal; SIGTERM and SIGHUP end it as q does (the terminal is
    restored), and the link is closed however it ends."""
    quit_on = (signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda *_: app.exit()) for sig in quit_on}
    try:
        app.run()
    finally:
        link.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def screenshot(spec: p.RunSpec, path: str, size: tuple[int, int]) -> int:
    """Drive the real UI headless to the run's last step, save an SVG, exit."""
    link = InlineLink(replace(spec, paused=True))
    app = DltuiApp(link, screenshot=path)
    app.run(headless=True, size=size)
    return _finish(app)


def _finish(app: DltuiApp) -> int:
    import sys

    if app.error is not None:
        print(f"dltui: error: {app.error}", file=sys.stderr)
        return 2
    for line in app.shared:  # the terminal is back: select and copy it from here
        print(f"# the screen you shared (S):\n{line}")
    return app.return_code or 0
