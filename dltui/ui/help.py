"""HelpScreen: the `?` screen listing the keys and the scenario's params."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from dltui.scenario import key_label

KEYS = (
    ("space", "pause / resume"),
    ("n  →", "one step (pauses)"),
    ("N", "ten steps (pauses)"),
    ("+  −", "faster / slower (steps per second; top speed is 'max')"),
    ("r", "reset to step 0 (same seed, current params); restarts a crashed engine"),
    ("[  ]", "learning rate ÷2 / ×2, live; marked on the loss curve"),
    ("l", "log scale on the line plots"),
    ("s", "save an SVG screenshot in the current directory"),
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

    def __init__(self, info: dict[str, Any]):
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(min_width=6)
        keys.add_column()
        own = {key_label(k): v for k, v in self.info.get("keys", {}).items()}
        for key, what in KEYS:  # minus the keys this scenario takes over (→ on MNIST)
            key = "  ".join(part for part in key.split("  ") if part not in own)
            if key:
                keys.add_row(Text(key, style="bold"), Text(what))
        for key, (name, _, what) in own.items():
            keys.add_row(Text(key, style="bold cyan"), Text(f"{what} ({name})"))
        params = Table(box=None, padding=(0, 1), header_style="bold")
        for column in ("param", "value", "range", "live", "what it does"):
            params.add_column(column)
        values = self.info.get("values", {})
        for p in self.info.get("params", []):
            params.add_row(p["name"], values.get(p["name"], p["default"]), p["range"],
                           "yes" if p["live"] else "", p["help"])
        title = Text(self.info.get("title", "dltui"), style="bold")
        with VerticalScroll():
            yield Static(title)
            yield Static(Text(self.info.get("caption", ""), style="italic"))
            yield Static(Text("\nKeys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nParams (set with --set KEY=VALUE; live ones change while "
                              "running)", style="bold underline"))
            yield Static(params)
            yield Static(Text("\nesc or ? closes this screen", style="dim"))
