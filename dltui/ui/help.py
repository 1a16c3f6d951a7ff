"""HelpScreen: the `?` screen listing the keys and the scenario's params."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from dltui.protocol import RunInfo
from dltui.scenario.base import key_label

KEYS = (
    ("space", "pause / resume"),
    ("n  →", "one step (pauses)"),
    ("N", "ten steps (pauses)"),
    ("+  −", "faster / slower (steps per second; top speed is 'max')"),
    ("r", "reset to step 0 (same seed, current params); restarts a crashed engine"),
    ("[  ]", "learning rate ÷2 / ×2, live; marked on the loss curve"),
    ("{  }", "learning rate ÷10 / ×10"),
    ("b  ←", "one step back: the screen exactly as it was at that step"),
    ("B", "ten steps back"),
    ("g", "go to a step (1200, 50%, -100); home goes to step 0"),
    ("c", "hide / show ghosts (the runs a branch or reset left behind)"),
    ("tab", "focus the next panel; z zooms it to the whole screen"),
    ("l", "log scale on the line plots"),
    ("s", "save an SVG screenshot in the current directory"),
    ("S", "share: the command line that brings back this screen exactly, anywhere"),
    ("?", "this help"),
    ("q", "quit (ctrl+c too)"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    keys: tuple[tuple[str, str], ...] = KEYS
    """The app's keys as this screen lists them (`dltui watch` has fewer)."""

    def __init__(self, info: RunInfo):
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(min_width=6)
        keys.add_column()
        own = {key_label(k): v for k, v in self.info.keys.items()}
        for key, what in self.keys:  # minus the keys this scenario takes over (→ on MNIST)
            key = "  ".join(part for part in key.split("  ") if part not in own)
            if key:
                keys.add_row(Text(key, style="bold"), Text(what))
        for key, (name, _, what) in own.items():
            keys.add_row(Text(key, style="bold cyan"), Text(f"{what} ({name})"))
        params = Table(box=None, padding=(0, 1), header_style="bold")
        for column in ("param", "value", "range", "live", "what it does"):
            params.add_column(column)
        for param in self.info.params:
            value = self.info.values.get(param.name, param.default)
            params.add_row(
                param.name,
                param.format(value),
                param.range_text(),
                "yes" if param.live else "",
                param.help,
            )
        title = Text(self.info.title, style="bold")
        with VerticalScroll():
            yield Static(title)
            yield Static(Text(self.info.caption, style="italic"))
            yield Static(Text("\nKeys", style="bold underline"))
            yield Static(keys)
            yield Static(
                Text(
                    "Going back (b, B, g) is exact all the way to step 0: the engine replays "
                    "from checkpoints kept within --checkpoint-mb. A live change after going "
                    "back starts a branch; the run you left stays on the curves as a ghost.",
                    style="dim",
                )
            )
            yield Static(
                Text(
                    "\nParams (set with --set KEY=VALUE; live ones change while running)",
                    style="bold underline",
                )
            )
            yield Static(params)
            yield Static(Text("\nesc or ? closes this screen", style="dim"))
