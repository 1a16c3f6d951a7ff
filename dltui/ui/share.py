"""ShareScreen: the `S` box showing the command line that reproduces the screen exactly.

The engine writes the line (`dltui.engine.share`); this screen shows it whole, wrapped, in a
form a shell takes as it is (`shell_line` quotes what needs quoting), and the same run as a
lecture file's scene (`lecture_scene`); it says whether the line went to the clipboard, and
that it is printed again on the terminal after `q`, where any terminal lets you select it.
"""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


def shell_line(argv: tuple[str, ...] | list[str]) -> str:
    """The argv as one line to paste into a shell."""
    return shlex.join(argv)


def lecture_scene(argv: tuple[str, ...] | list[str]) -> str:
    """The same run as a `[[scene]]` of a lecture file (`dltui lecture`)."""
    from dltui.cli import build_parser, run_spec
    from dltui.lecture import scene_toml

    return scene_toml(run_spec(build_parser().parse_args(list(argv[1:]))))


class ShareScreen(ModalScreen[None]):
    """Shows a shared command line; any of esc, S, q or enter closes it."""

    BINDINGS = [Binding("escape,S,q,enter", "dismiss", "Close")]
    DEFAULT_CSS = """
    ShareScreen { align: center middle; }
    ShareScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    ShareScreen #line, ShareScreen #scene { margin: 1 0; }
    ShareScreen #how { color: $text-muted; }
    """

    def __init__(self, line: str, scene: str, copied: bool):
        super().__init__()
        self.line, self.scene, self.copied = line, scene, copied

    def compose(self) -> ComposeResult:
        where = (
            "sent to the clipboard (OSC 52, where the terminal allows it), and "
            if self.copied
            else ""
        )
        with Vertical():
            yield Static(Text("This screen, exactly, on any machine:", style="bold"))
            yield Static(Text(self.line), id="line")
            yield Static(Text("or as a scene of a lecture file (dltui lecture FILE.toml):"))
            yield Static(Text(self.scene.rstrip()), id="scene")
            yield Static(
                f"The same seed, params and live changes, opened paused at this step: "
                f"{where}printed again when you quit. esc closes.",
                id="how",
            )
