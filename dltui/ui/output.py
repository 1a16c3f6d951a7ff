"""The UI's side of the terminal link: what it writes, in fewer bytes, and how much is queued.

`TerminalOutput.attach(driver)` wraps the driver's `write`: the text goes through
`dltui.ui.mirror.ScreenMirror` (only the cells that change what the terminal shows are sent),
and each byte that remains is spent from the `ByteBudget` and counted in the `Backlog`. After
each screen update the app calls `displayed()`, which asks the terminal where its cursor is
(`PROBE`, answered even by a VT100); the answer comes back as a Textual `CursorPosition`
event, on which the app calls `answered()`. `holds()` says whether frames must wait: the
budget is spent, or the terminal has not yet taken what it was sent. `connected()` says
whether the terminal is still there: once it has hung up, writes are dropped (Textual's writer
thread dies on the first failed write, and its queue would then block the app for good).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from dltui.ui.budget import KEY_WINDOW, Backlog, ByteBudget
from dltui.ui.mirror import ScreenMirror

PROBE = "\x1b[6n"
"""Device status report 6: the terminal answers ESC[row;colR once it has read this far."""


class TerminalOutput:
    def __init__(self, bytes_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = ByteBudget(bytes_per_s, clock=clock)
        self.backlog = Backlog(clock=clock)
        self.mirror = ScreenMirror()
        self.bytes_written = 0
        self._write: Callable[[str], Any] | None = None
        self._asked_at = 0
        self._ttys: list[int] = []
        self._gone = False

    def attach(self, driver: Any) -> None:
        """Send everything `driver` writes through here."""
        self._write = driver.write
        driver.write = self.write
        self._ttys = [fd for fd in (0, 1, 2) if os.isatty(fd)]  # none under textual-serve

    def connected(self) -> bool:
        """Whether the standard streams that were a terminal still are: a terminal can hang
        up without a SIGHUP to say so (a pty whose other end closed)."""
        self._gone = self._gone or not all(os.isatty(fd) for fd in self._ttys)
        return not self._gone

    def write(self, data: str) -> None:
        if not self.connected():
            return
        data = self.mirror.feed(data)
        if not data:
            return
        n = len(data) if data.isascii() else len(data.encode("utf-8", "replace"))
        self.bytes_written += n
        self.budget.spend(n)
        self.backlog.wrote(n)
        assert self._write is not None
        self._write(data)

    def displayed(self) -> None:
        """A screen update was written: ask the terminal to say when it has taken it (once
        per update that wrote anything: Textual calls this after empty updates too)."""
        if self._write is not None and self.backlog.written != self._asked_at:
            self.backlog.asked()
            self.write(PROBE)
            self._asked_at = self.backlog.written

    def reset(self) -> None:
        """The terminal was resized: what it shows is no longer known."""
        self.mirror.reset()

    def answered(self) -> None:
        self.backlog.answered()

    def holds(self, key: bool = False) -> bool:
        """Whether frames must wait: the budget is in debt or the terminal is behind. A
        `key`'s frame waits for neither, only for a terminal far behind (KEY_WINDOW)."""
        if key:
            return self.backlog.holds(KEY_WINDOW)
        return not self.budget.allows() or self.backlog.holds()
