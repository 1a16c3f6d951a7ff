"""`dltui watch`'s screen: the usual app over a user's script, plus its output in a log panel.

`WatchApp` is `DltuiApp` with a `WatchLink`: the panels are the ones the script's
`dltui.watch()` declares (sent again when it logs a new scalar: the grid is laid out anew),
the header says which script and how it is doing, an `OutputLog` under the grid shows all it
prints (tqdm's carriage returns redraw a line instead of adding one), `q` asks whether to stop
the script (SIGINT) or to detach and let it finish, and the script's end (done, crashed,
stopped) keeps the screen up with its exit code until `q`. `run_watch` is the CLI's entry.
"""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from dltui import protocol as p
from dltui.engine.launcher import HINT
from dltui.ui.app import MIN_SIZE, DltuiApp, run_until_quit
from dltui.ui.header import STATUS_STYLE, Part, _fit
from dltui.ui.help import HelpScreen
from dltui.ui.watch_link import WatchLink

MAX_LOG_LINES = 20_000
"""Lines the log panel keeps (the log file keeps everything)."""


class OutputLog(Log):
    """The script's stdout and stderr as they come; a carriage return rewrites the line."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    OutputLog {
        border: round $primary 60%;
        border-title-color: $text;
        border-title-style: bold;
        height: 1fr;
        min-height: 4;
    }
    OutputLog:focus { border: round $accent; }
    """

    def feed(self, text: str) -> None:
        text = text.replace("\r\n", "\n")
        first, *rest = text.split("\r")
        self.write(first)
        for part in rest:  # "\r": back to the start of the line (progress bars)
            if self._lines:
                self._lines[-1] = ""
                self._render_line_cache.clear()
                self.refresh_lines(len(self._lines) - 1)
            self.write(part)


class WatchHelp(HelpScreen):
    keys = (
        ("space", "pause / resume the script (its next optimizer.step() waits)"),
        ("n  →", "let one more optimizer step through, then wait again"),
        ("N", "ten more steps"),
        ("[  ]", "learning rate ÷2 / ×2 in every param group, from the next step"),
        ("{  }", "learning rate ÷10 / ×10"),
        ("l", "log scale on the line plots"),
        ("tab  z", "focus a panel (the output too) / zoom it to the whole screen"),
        ("s", "save an SVG screenshot in the current directory"),
        ("?", "this help"),
        ("q", "stop the script (SIGINT) or detach from it; quit once it has ended"),
    )


class QuitScreen(ModalScreen[str]):
    """q while the script runs: stop it, detach from it, or go back."""

    BINDINGS = [
        Binding("s,y,ctrl+c", "choose('stop')", "Stop the script"),
        Binding("d", "choose('detach')", "Detach"),
        Binding("escape,q,n", "choose('')", "Back"),
    ]
    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical {
        width: 72; height: auto; border: thick $primary; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, script: str, log_path: str):
        super().__init__()
        self.script, self.log_path = script, log_path

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"{self.script} is still running.\n\n", style="bold")
        text.append("s", style="bold")
        text.append("  stop it: SIGINT, as ctrl+c would (its own cleanup code runs)\n")
        text.append("d", style="bold")
        text.append(f"  detach: it runs on unwatched, printing to {self.log_path}\n")
        text.append("esc", style="bold")
        text.append(" back to the screen")
        with Vertical():
            yield Static(text)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


def watch_header(
    info: p.RunInfo | None, frame: p.Frame | None, width: int, script: str, ended: str = ""
) -> Text:
    """The header of a watched script: name, step, status (or how it ended), lr, loss."""
    parts = [Part(f" {info.title if info else script} ", "bold", drop=5)]
    if frame is None:
        parts.append(Part(f"│ {ended or 'starting…'} ", "bold red" if ended else "dim"))
        return _fit(parts, width, script)
    parts.append(Part(f"│ step {frame.step:,} "))
    if ended:
        style = "bold cyan" if ended.startswith("✔") else "bold red"
        parts.append(Part(f"│ {ended} ", style))
    else:
        label, style = STATUS_STYLE.get(frame.status, (frame.status, "bold"))
        parts.append(Part(f"│ {label} ", style))
        if frame.status == "running":
            parts.append(Part(f"({frame.steps_per_s:,.1f} steps/s) ", "dim", drop=1))
    if frame.lr is not None:
        parts.append(Part(f"│ lr {frame.lr:.4g} "))
    loss = frame.metrics.get("loss")
    if loss is not None:
        parts.append(Part(f"│ loss {loss:.4g} "))
    parts.append(Part(f"│ {frame.device}", "dim", drop=2))
    return _fit(parts, width, script)


def ending(code: int) -> str:
    if code == 0:
        return "✔ finished (exit code 0)"
    if code in (130, -signal.SIGINT):
        return f"✖ stopped (exit code {code})"
    if code < 0:
        return f"✖ killed by signal {-code}"
    return f"✖ crashed (exit code {code})"


class WatchApp(DltuiApp):
    BINDINGS = [
        Binding("r", "not_here('r restarts a scenario')", "Reset", show=False),
        Binding("plus,equals_sign", "not_here('+ sets a speed')", "Faster", show=False),
        Binding("minus", "not_here('− sets a speed')", "Slower", show=False),
    ]
    CSS = """
    #grid { height: 2fr; }
    #grid.empty { height: 0; }
    """

    def __init__(self, link: WatchLink):
        super().__init__(link)
        self.link: WatchLink = link
        self.script = Path(link.script).name
        self.exitcode: int | None = None
        self._stopping = False

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if widget.id == "grid":
                log = OutputLog(id="output", max_lines=MAX_LOG_LINES)
                log.border_title = f"Output of {self.script}"
                log.border_subtitle = f"saved to {self.link.log_path}"
                yield log

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#grid", Grid).add_class("empty")
        self._show_message("")

    # -- the script -----------------------------------------------------------------------
    def pump(self) -> None:
        text = self.link.read_output()
        if text:
            self.query_one(OutputLog).feed(text)
        if self.exitcode is None and (code := self.link.exitcode()) is not None:
            self._script_ended(code)
        super().pump()

    def _script_ended(self, code: int) -> None:
        self.exitcode = code
        self.query_one(OutputLog).feed(self.link.read_output())
        if self._stopping:
            self.exit(code)
            return
        if self.frame is not None:
            self.frame = replace(self.frame, status="done")
        self._update_header()
        where = "its traceback is in the output panel; " if code not in (0, 130) else ""
        if self.info is None:  # no panels ever: say how to get them
            where += f"it never called dltui.watch(): {HINT}; "
        self._tell(f"{self.script}: {ending(code)[2:]}; {where}q quits", "bold")

    def on_engine_message(self, message: p.Message) -> None:
        match message:
            case p.Hello(info):
                self._relayout(info)
                super().on_engine_message(message)
            case p.Died():
                self._awaiting_frame = False  # the end shows through exitcode()
            case p.FrameMsg(frame) if self.exitcode is not None:
                self._awaiting_frame = False
                super()._on_frame(replace(frame, status="done"))
            case _:
                super().on_engine_message(message)

    def _relayout(self, info: p.RunInfo) -> None:
        """A new logged scalar brings a new layout: the grid is built again."""
        grid = self.query_one("#grid", Grid)
        grid.remove_class("empty")
        if [w.key for w in self._panels] != [panel.key for panel in info.panels]:
            for widget in self._panels:
                widget.remove()
            self._panels = []

    # -- drawing --------------------------------------------------------------------------------
    def _update_header(self) -> None:
        width = self.size.width or MIN_SIZE[0]
        ended = ending(self.exitcode) if self.exitcode is not None else ""
        header = watch_header(self.info, self.frame, width, self.script, ended)
        self._show("#header", header, layout=False)

    def _show_message(self, text: str, style: str = "yellow") -> None:
        if not text:  # nothing to say: what the screen needs to be read
            if self.info is None and self.exitcode is None:
                text = f"output of {self.script} below; panels once it calls dltui.watch()"
                style = "dim"
            elif self.info is None:
                text, style = f"{self.script} never called dltui.watch(): {HINT}", "bold"
            else:
                text, style = f"output saved to {self.link.log_path}", "dim"
        super()._show_message(text, style)

    # -- keys -----------------------------------------------------------------------------------
    def command(self, command: p.Command) -> None:
        if self.exitcode is not None:
            self._tell(f"{self.script} has ended; q quits")
            return
        if self.info is None:
            self._tell(f"{self.script} has not called dltui.watch() (yet): {HINT}")
            return
        super().command(command)

    def action_not_here(self, what: str) -> None:
        self._tell(f"{what}; a watched script runs at its own pace")

    def action_zoom(self) -> None:
        """As elsewhere, and the output panel too when it has the focus (tab)."""
        output = self.query_one(OutputLog)
        if self.screen.maximized is None and self.focused is output:
            self.screen.maximize(output, container=False)
            return
        super().action_zoom()

    def action_help(self) -> None:
        if self.info is not None:
            self.push_screen(WatchHelp(self.info))

    def action_reset(self) -> None:
        self.action_not_here("r restarts a scenario")

    async def action_quit(self) -> None:
        if self.exitcode is not None or not self.link.running:
            self.exit(self.exitcode or 0)
            return
        if isinstance(self.screen, QuitScreen):
            return
        self.push_screen(QuitScreen(self.script, self.link.log_path), self._quit_chosen)

    def _quit_chosen(self, choice: str | None) -> None:
        if choice == "stop":
            self._stopping = True
            self.link.interrupt()
            self._tell(f"stopping {self.script}: SIGINT sent, its cleanup runs…", "bold")
        elif choice == "detach":
            self.link.detach()
            self.exit(0)


def run_watch(script: str, args: list[str], log_path: str, paused: bool = False) -> int:
    """The live UI over a user's script; the exit code is the script's (0 when detached)."""
    link = WatchLink(script, args, log_path=log_path, paused=paused)
    app = WatchApp(link)
    run_until_quit(app, link)  # SIGTERM/SIGHUP: the terminal is restored, the script runs on
    tail = Path(log_path).read_text(errors="replace").splitlines()[-15:] if app.exitcode else []
    for line in tail:  # how it ended stays on the terminal: the traceback, the cleanup's words
        print(line)
    if link.running:
        print(f"dltui: {Path(script).name} runs on (pid {link.process.pid}); output: {log_path}")
    else:
        print(f"dltui: output of {Path(script).name} saved to {log_path}")
    return app.exitcode if app.exitcode is not None else 0


def default_log_path(script: str) -> str:
    """dltui-watch-<script>.log in the current folder, or the temp folder if that is not
    writable."""
    name = f"dltui-watch-{Path(script).stem}.log"
    if os.access(os.getcwd(), os.W_OK):
        return name
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), name)
