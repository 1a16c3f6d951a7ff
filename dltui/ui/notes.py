"""The presenter's notes: `dltui lecture FILE --notes`, in a second terminal, follows the lecture.

`NotesApp` reads the lecture file for the scenes' titles and notes, and the lecture's state
file (`dltui.lecture.state_path`) for the scene on the class's screen, a few times a second:
it shows that scene's number, title and notes (Markdown: paragraphs, lists, `code`), the
command line that runs it, and the next scene's title. It runs no engine (no torch), so it opens at once, also in an SSH session
beside the one that shows the lecture.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from dltui.lecture import LECTURES, Lecture, read_state, state_path

POLL_S = 0.2
"""How often the state file is read (a scene change shows within this)."""


class NotesApp(App[int]):
    TITLE = "dltui notes"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q,ctrl+c", "quit", "Quit", priority=True),
    ]
    CSS = """
    #scene { height: auto; padding: 0 1; background: $primary-background; }
    #notes { height: 1fr; padding: 0 1; }
    #command { padding: 0 1; }
    #next { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, lecture: Lecture, state: Path | None = None, poll: float = POLL_S):
        super().__init__()
        self.lecture = lecture
        self.state = state or state_path(lecture.path)
        self.poll = poll
        self.shown: int | None = -1
        """The scene on show (0-based), None while no lecture runs; -1 before the first look."""

    def compose(self) -> ComposeResult:
        yield Static("", id="scene")
        with VerticalScroll(id="notes"):
            yield Markdown(id="text")
            yield Static("", id="command")
        yield Static("", id="next")

    def on_mount(self) -> None:
        self.follow()
        self.set_interval(self.poll, self.follow)

    def follow(self) -> None:
        """Show the scene the lecture shows now, if it changed."""
        index = read_state(self.state)
        if index is not None and not 0 <= index < len(self.lecture.scenes):
            index = None  # another version of the file: wait for the lecture to say again
        if index != self.shown:
            self.shown = index
            self.show(index)

    def show(self, index: int | None) -> None:
        scenes = self.lecture.scenes
        count = len(scenes)
        head = Text()
        if index is None:
            head.append(f" {self.lecture.title or self.lecture.name} ", "bold")
            head.append(f"│ {count} scenes │ waiting for the lecture…", "dim")
            builtin = self.lecture.path.parent == LECTURES
            name = self.lecture.path.stem if builtin else str(self.lecture.path)
            notes = (
                f"Start it in another terminal:\n\n    dltui lecture {name}\n\n"
                "These notes follow its scenes."
            )
            command = ""
            upcoming = f"First: {scenes[0].shown_title()}"
        else:
            scene = scenes[index]
            head.append(f" {index + 1}/{count} ", "bold reverse")
            head.append(f" {scene.shown_title()} ", "bold")
            notes = textwrap.dedent(scene.notes).strip() or "*(no notes for this scene)*"
            command = scene.command_line()
            upcoming = (
                f"Next: {index + 2}/{count} {scenes[index + 1].shown_title()}"
                if index + 1 < count
                else "Next: (the last scene)"
            )
        self.query_one("#scene", Static).update(head)
        self.query_one("#text", Markdown).update(notes)
        self.query_one("#command", Static).update(Text(command, style="dim"))
        self.query_one("#next", Static).update(Text(upcoming))
        self.query_one("#notes", VerticalScroll).scroll_home(animate=False)


def run_notes(lecture: Lecture) -> int:
    app = NotesApp(lecture)
    app.run()
    return app.return_code or 0
