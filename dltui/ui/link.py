"""The UI's link to the engine: a child process (normal use) or the engine in this process (tests).

Both kinds answer the same three calls: `send(command)` with a `dltui.protocol` Command,
`recv()` returning the next Message or None, and `close()`; `restart()` starts the run again.
`ProcessLink` never imports torch in the calling process; `InlineLink` does, and steps
synchronously, so snapshot tests get the same picture every time.

A lecture opens one link after another (a scene each): `ProcessLinks` keeps a `Spare` child
one scene ahead, started before its run is known, so the next scene's engine has imported torch
by the time the lecturer moves on; `InlineLinks` is the same for tests and screenshots.
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


class Spare:
    """An engine child process started before its run is known: it imports torch and the
    engine, then waits for the RunSpec a `ProcessLink` sends it."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")  # fork is unsafe with CUDA and with threads
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=main, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def close(self) -> None:
        """End a spare that was never given a run (it holds nothing worth a goodbye)."""
        self.process.kill()
        self.process.join(1.0)
        self.conn.close()


class ProcessLink:
    """The engine in a spawned child process, over a pipe.

    Commands go out through a sender thread, so the UI's event loop never blocks on the pipe:
    while the engine is busy writing a large frame, the UI goes on reading it."""

    def __init__(self, spec: RunSpec, spare: Spare | None = None):
        """`spare`: a child already started (and importing torch) to run `spec` in."""
        self.spec = spec
        self.process: BaseProcess | None = None
        self.conn: Connection | None = None
        self.start(spare)

    def start(self, spare: Spare | None = None) -> None:
        spare = spare or Spare()
        self.process, self.conn = spare.process, spare.conn
        try:
            self.conn.send(self.spec)  # the child's first read: what to run
        except OSError:
            pass  # the spare is gone already: recv() reports it as Died
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


class ProcessLinks:
    """Opens a ProcessLink for each run in turn (a lecture's scenes), on a child started one
    run ahead when `prepare()` is called, so the next one skips torch's import."""

    def __init__(self) -> None:
        self.spare: Spare | None = None

    def open(self, spec: RunSpec) -> ProcessLink:
        spare, self.spare = self.spare, None
        return ProcessLink(spec, spare)

    def prepare(self) -> None:
        """Start the spare child for the next `open` (call it once the current run is up)."""
        if self.spare is None:
            self.spare = Spare()

    def close(self) -> None:
        if self.spare is not None:
            self.spare.close()
            self.spare = None


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


class InlineLinks:
    """`ProcessLinks` for tests and screenshots: each run in this process."""

    def open(self, spec: RunSpec) -> InlineLink:
        return InlineLink(spec)

    def prepare(self) -> None:
        pass

    def close(self) -> None:
        pass
