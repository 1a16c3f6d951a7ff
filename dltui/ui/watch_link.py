"""The UI's link to a watched script (`dltui watch`): its process, its output, its frames.

`WatchLink` starts `python -m dltui.engine.launcher SCRIPT ARGS` in a session of its own,
with stdout and stderr on the log file (so nothing it prints is lost, and it can run on after
the UI detaches) and `$DLTUI_WATCH` naming a unix socket in a private folder. The script's
`dltui.watch()` connects there; from then on it answers the same `dltui.protocol` calls as the
other links (`send`, `recv`, `close`), plus what only a script has: `read_output()` (new text
of the log), `exitcode()`, `interrupt()` (SIGINT, as ctrl+c in its terminal would) and
`detach()`. Importing this module costs no torch.
"""

from __future__ import annotations

import codecs
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection

from dltui.engine.launcher import ENV_PAUSED, ENV_SOCKET
from dltui.protocol import Command, Died, Message, Outbox, Quit, RunSpec


class WatchLink:
    """A user's script in a child process, watched over a unix socket."""

    def __init__(
        self,
        script: str,
        args: list[str] | tuple[str, ...] = (),
        log_path: str = "dltui-watch.log",
        paused: bool = False,
        env: dict[str, str] | None = None,
    ):
        self.spec = RunSpec(target=script)
        self.script, self.args, self.log_path = script, list(args), log_path
        self.paused, self.env = paused, env or {}
        self.conn: Connection | None = None
        self.detached = False
        self._outbox: Outbox | None = None
        self.start()

    def start(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="dltui-watch-")  # mode 0700: only this user
        address = os.path.join(self._folder, "ui.sock")
        self._listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(address)
        self._listener.listen(1)
        self._listener.setblocking(False)
        env = {**os.environ, **self.env, ENV_SOCKET: address, "PYTHONUNBUFFERED": "1"}
        if self.paused:
            env[ENV_PAUSED] = "1"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dltui.engine.launcher", self.script, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # the terminal's signals are the UI's, not the script's
            )
        self._log = open(self.log_path, "rb")  # noqa: SIM115 - closed in close()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def restart(self) -> None:
        """A script is not restarted from the UI; run `dltui watch` again."""

    # -- the protocol -------------------------------------------------------------------------
    def send(self, command: Command) -> bool:
        """Queue a command for the script; False when it has no link (not yet, or gone)."""
        if self._outbox is None:
            return False
        self._outbox.put(command)
        return True

    def recv(self) -> Message | None:
        if self.conn is None:
            self._accept()
        if self.conn is None:
            return None
        try:
            if self.conn.poll(0):
                return self.conn.recv()
        except (EOFError, OSError):  # the script ended, or dropped the link
            self._drop()
            return Died(self.process.poll())
        return None

    def _accept(self) -> None:
        """The first process of the job that calls dltui.watch() gets the link; then the
        socket goes, so no other one waits on it."""
        if self._listener is None:
            return
        try:
            sock, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        sock.setblocking(True)
        self.conn = Connection(sock.detach())
        self._outbox = Outbox(self.conn, "watch-ui")
        self._close_listener()

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def _drop(self) -> None:
        if self._outbox is not None:
            self._outbox.close(1.0)
            self._outbox = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- what only a script has ---------------------------------------------------------------
    def read_output(self) -> str:
        """What the script printed since the last call (stdout and stderr, in order)."""
        if self._log.closed:
            return ""
        data = self._log.read()
        return self._decoder.decode(data) if data else ""

    def exitcode(self) -> int | None:
        """The script's exit code once it has ended (negative: killed by that signal)."""
        return self.process.poll()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def interrupt(self) -> None:
        """SIGINT to the script's process group, as ctrl+c in its own terminal: its
        KeyboardInterrupt handlers, finally blocks and checkpoint code run."""
        if self.running:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
            except OSError:
                self.process.send_signal(signal.SIGINT)

    def detach(self) -> None:
        """Let the script run on unwatched: it stops waiting on pauses and keeps writing its
        output to the log file."""
        self.detached = True
        if self._outbox is not None:
            self._outbox.put(Quit())
        self._drop()
        self._close_listener()

    def close(self) -> None:
        """The UI is going away: a script still running is detached, never left paused."""
        if self.running and not self.detached:
            self.detach()
        self._drop()
        self._close_listener()
        self._log.close()
