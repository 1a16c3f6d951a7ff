"""The UI's handle on an engine: in a child process (normal use) or in-process (tests).

Both expose the same three calls: `send(command)`, `recv(timeout)` returning the next message
("hello" / "frame" / "error" / "crash" / "died") or None, and `close()`. The process engine
never imports torch in the calling process; the inline one does, and steps synchronously, so
snapshot tests get the same picture every time.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from typing import Any

from dltui.worker import RunSpec, main


class ProcessEngine:
    """The engine in a spawned child process, talking over a pipe."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.process: Any = None
        self.conn: Any = None
        self.start()

    def start(self) -> None:
        ctx = mp.get_context("spawn")  # fork is unsafe with CUDA and with threads
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=main, args=(child, self.spec), daemon=True)
        self.process.start()
        child.close()

    def restart(self) -> None:
        self.close()
        self.start()

    def send(self, command: tuple[Any, ...]) -> bool:
        try:
            self.conn.send(command)
            return True
        except (BrokenPipeError, OSError, EOFError):
            return False

    def recv(self, timeout: float | None = None) -> tuple[Any, ...] | None:
        try:
            if self.conn.poll(timeout):
                return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(1.0)
            return ("died", self.process.exitcode)
        return None

    def close(self) -> None:
        if self.process is None:
            return
        self.send(("quit",))
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()
        self.process = None


class InlineEngine:
    """The same protocol served in this process; every command takes effect at once."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.start()

    def start(self) -> None:
        from dltui.params import UsageError
        from dltui.worker import describe, make_controller

        self.outbox: deque[tuple[Any, ...]] = deque()
        try:
            self.ctl = make_controller(self.spec)
        except UsageError as exc:
            self.ctl = None
            self.outbox.append(("error", str(exc)))
            return
        self.outbox.append(("hello", describe(self.ctl.runner, self.ctl.speed,
                                              not self.ctl.playing)))

    restart = start

    def send(self, command: tuple[Any, ...]) -> bool:
        if self.ctl is None:
            return False
        if command[0] == "frame":
            self.ctl.advance(0.02)
            self.outbox.append(("frame", self.ctl.frame()))
        elif command[0] != "quit":
            self.ctl.handle(command)
        return True

    def recv(self, timeout: float | None = None) -> tuple[Any, ...] | None:
        return self.outbox.popleft() if self.outbox else None

    def close(self) -> None:
        self.ctl = None
