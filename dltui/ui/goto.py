"""GoToScreen: the `g` prompt, a step number or a share of the run to go to (time travel).

`parse_target` is pure: "1200", "1,200" and "1_200" are steps, "50%" is half the run's limit,
"+100" / "-100" are relative to the step shown; anything else is a one-line complaint.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def parse_target(text: str, step: int, limit: int) -> int:
    """The step `text` names; ValueError with what to type instead."""
    text = text.strip().replace(",", "").replace("_", "")
    try:
        if text.endswith("%"):
            return max(0, round(float(text[:-1]) / 100 * limit))
        if text[:1] in "+-" and text[1:].isdigit():
            return max(0, step + int(text))
        if text.isdigit():
            return int(text)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a step: type 1200, 50% or -100")


class GoToScreen(ModalScreen[int | None]):
    """Asks where to go; dismisses with the step, or None (esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "Input"
    DEFAULT_CSS = """
    GoToScreen { align: center bottom; }
    GoToScreen > Vertical {
        width: 64; height: auto; border: round $accent; background: $surface; padding: 0 1;
        margin-bottom: 2;
    }
    GoToScreen #complaint { color: $error; }
    """

    def __init__(self, step: int, limit: int, head: int):
        super().__init__()
        self.step, self.limit, self.head = step, limit, head

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Go to step (now {self.step:,}, reached {self.head:,}, of {self.limit:,}): "
                "a step, 50% or -100; enter goes, esc cancels"
            )
            yield Input(placeholder="step", id="target")
            yield Static("", id="complaint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_target(event.value, self.step, self.limit))
        except ValueError as exc:
            self.query_one("#complaint", Static).update(str(exc))
