"""The UI's link to the engine: a child process (normal use) or the engine in this process (tests).

Both kinds answer the same three calls: `send(command)` with a `dltui.protocol` Command,
`recv()` returning the next Message or None, and `close()`; `restart()` starts the run again.
`ProcessLink` never imports torch in the calling process; `InlineLink` does, and steps
synchronously, so snapshot tests get the same picture every time.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from typing import TYPE_CHECKING, Protocol

from dltui.engine.child import main
from dltui.protocol import Command, Crash, Died, FrameMsg, Message, Outbox, Quit, RunSpec, WantFrame
from dltui.scenario.base import describe_failure

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from dltui.engine.control import Controller


class Link(Protocol):
    """What the app needs of an engine, wherever it runs."""

    spec: RunSpec

    def send(self, command: Command) -> bool: ...

    def recv(self) -> Message | None: ...

    def restart(self) -> None: ...

    def close(self) -> None: ...


class ProcessLink:
    """The engine in a spawned child process, over a pipe.

    Commands go out through a sender thread, so the UI's event loop never blocks on the pipe:
    while the engine is busy writing a large frame, the UI goes on reading it."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.start()

    def start(self) -> None:
        ctx = mp.get_context("spawn")  # fork is unsafe with CUDA and with threads
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=main, args=(child, self.spec), daemon=True)
        self.process.start()
        child.close()
        self._outbox = Outbox(self.conn, "link")

    def restart(self) -> None:
        self.close()
        self.start()

    def send(self, command: Command) -> bool:
        """Queue a command for the child; False once the child is gone."""
        if self.conn is None:
            return False
        self._outbox.put(command)
        return True

    def recv(self) -> Message | None:
        if self.conn is None or self.process is None:
            return None
        try:
            if self.conn.poll(0):
                return self.conn.recv()
        except (EOFError, OSError):  # the child is gone: say so once, then stay quiet
            self._stop_sender()
            self.process.join(1.0)
            return Died(self.process.exitcode)
        return None

    def _stop_sender(self) -> None:
        self._outbox.close(1.0)
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        if self.process is None:
            return
        if self.conn is not None:
            self._outbox.put(Quit())
            self._outbox.close(1.0)
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None


class InlineLink:
    """The same protocol served in this process; every command takes effect at once."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.start()

    def start(self) -> None:
        from dltui.engine.control import start

        self.ctl: Controller | None
        self.ctl, first = start(self.spec)
        self.outbox: deque[Message] = deque([first])

    restart = start

    def send(self, command: Command) -> bool:
        if self.ctl is None:
            return False
        try:
            match command:
                case WantFrame():
                    self.ctl.advance(0.02)
                    self.outbox.append(FrameMsg(self.ctl.frame()))
                case Quit():
                    pass
                case _:
                    self.ctl.handle(command)
        except Exception as exc:  # noqa: BLE001 - as the child process would: say so, stop
            self.outbox.append(Crash(describe_failure(exc)))
            self.ctl = None
        return True

    def recv(self) -> Message | None:
        return self.outbox.popleft() if self.outbox else None

    def close(self) -> None:
        self.ctl = None
